"""The household's signed link: opened as is, refused when altered, expired or revoked."""

from unittest import mock

import pytest
from django.core import signing

from wuye.core.errors import NotInScope, ValidationFailed
from wuye.core.models import AuditEntry
from wuye.core.roles import Role
from wuye.owner import links, services
from wuye.owner.models import OwnerLink

pytestmark = pytest.mark.django_db


def test_the_link_shows_only_room_masked_payer_and_amount_before_verification(client, token):
    page = client.get(f"/o/{token}/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "3-2-1502" in text and "张*" in text and "600.00" in text
    assert "张三" not in text  # the full name only after the SMS code
    assert 'id="bills"' not in text and 'id="history"' not in text


@pytest.mark.parametrize(
    "alter",
    [
        lambda t: t[:-10] + ("A" if t[-10] != "A" else "B") + t[-9:],  # the signature
        lambda t: str(int(t.split(".")[0]) + 1) + t[t.index(".") :],  # the link id
        lambda t: (
            t.split(".")[0]
            + "."
            + ("x" if t[t.index(".") + 1] != "x" else "y")
            + t[t.index(".") + 2 :]
        ),  # the key
        lambda t: t.split(":")[0],  # no signature at all
    ],
    ids=["signature", "id", "key", "unsigned"],
)
def test_an_altered_link_is_refused(client, token, other_acct, alter):
    links.link_for(other_acct)  # the id next door exists
    page = client.get(f"/o/{alter(token)}/")
    assert page.status_code == 403
    assert "3-2-150" not in page.content.decode()


def test_a_link_older_than_the_setting_is_refused(client, link, settings):
    settings.WUYE_OWNER_LINK_DAYS = 60
    with mock.patch("django.core.signing.time.time", return_value=signing.time.time() - 61 * 86400):
        old = links.token_for(link)
    page = client.get(f"/o/{old}/")
    assert page.status_code == 403
    assert "已过期" in page.content.decode()


def test_a_link_within_the_setting_opens(client, link, settings):
    settings.WUYE_OWNER_LINK_DAYS = 60
    with mock.patch("django.core.signing.time.time", return_value=signing.time.time() - 59 * 86400):
        recent = links.token_for(link)
    assert client.get(f"/o/{recent}/").status_code == 200


def test_a_revoked_link_is_refused_and_the_next_one_opens(client, link, token, steward, acct):
    services.link_revoke(user=steward, link=link, reason="链接被转发到业主群")
    page = client.get(f"/o/{token}/")
    assert page.status_code == 403 and "已停用" in page.content.decode()
    fresh = links.link_for(acct)
    assert fresh.pk != link.pk
    assert client.get(f"/o/{links.token_for(fresh)}/").status_code == 200


def test_revoking_is_audited_with_the_reason(link, steward):
    services.link_revoke(user=steward, link=link, reason="房屋已过户")
    entry = AuditEntry.objects.get(action="停用业主缴费链接")
    assert entry.user == steward and entry.changes["reason"] == "房屋已过户"


def test_revoking_needs_a_reason(link, steward):
    with pytest.raises(ValidationFailed) as exc:
        services.link_revoke(user=steward, link=link, reason=" ")
    assert exc.value.field == "reason"


def test_staff_of_another_project_cannot_revoke(link, make_user, other_project):
    stranger = make_user("stranger", Role.STEWARD, other_project)
    with pytest.raises(NotInScope):
        services.link_revoke(user=stranger, link=link, reason="x")
    assert OwnerLink.objects.get(pk=link.pk).revoked_at is None


def test_revoke_from_the_household_page(client, link, steward, acct):
    client.force_login(steward)
    page = client.post(f"/o/staff/links/{link.pk}/revoke/", {"reason": "业主要求"})
    assert page.status_code == 302
    assert OwnerLink.objects.get(pk=link.pk).revoked_at is not None


def test_the_household_page_shows_the_link_to_staff(client, acct, steward, token):
    client.force_login(steward)
    panel = client.get(f"/o/staff/households/{acct.room_id}/").content.decode()
    assert f"/o/{links.link_for(acct).pk}." in panel


def test_one_live_link_per_account(acct):
    assert links.link_for(acct).pk == links.link_for(acct).pk
    assert OwnerLink.objects.filter(account=acct).count() == 1
