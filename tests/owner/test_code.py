"""The one-time SMS code: to a phone on file, through the outbox; wrong, expired, used or
over-tried codes are refused; sending is rate-limited per household and per address."""

import datetime
import re

import pytest
from django.utils import timezone

from tests.owner.conftest import last_code
from wuye.core.errors import ValidationFailed
from wuye.dunning.models import ContactRecord
from wuye.messaging.models import OutboxMessage, OutboxPurpose
from wuye.owner import services
from wuye.owner.models import OwnerCode

pytestmark = pytest.mark.django_db


def _send(link, ip="10.0.0.1", now=None):
    phone = link.account.payer.phones.get()
    return services.code_send(link=link, phone_id=phone.pk, ip=ip, now=now)


def test_the_code_goes_through_the_outbox_and_is_stored_hashed(link, acct):
    row = _send(link)
    message = OutboxMessage.objects.get(account_id_snapshot=acct.pk)
    assert message.purpose == OutboxPurpose.CODE and message.to == "13812345678"
    code = last_code(acct)
    assert code not in row.code_hash
    assert ContactRecord.objects.count() == 0  # not a dunning contact


def test_a_phone_of_another_household_is_refused(link, other_acct):
    phone = other_acct.payer.phones.get()
    with pytest.raises(ValidationFailed) as exc:
        services.code_send(link=link, phone_id=phone.pk, ip="10.0.0.1")
    assert exc.value.field == "phone"
    assert not OutboxMessage.objects.exists()


def test_the_right_code_verifies_once(link, acct):
    _send(link)
    code = last_code(acct)
    services.code_verify(link=link, code=code)
    with pytest.raises(ValidationFailed):
        services.code_verify(link=link, code=code)


def test_a_wrong_code_is_refused(link, acct):
    _send(link)
    wrong = f"{(int(last_code(acct)) + 1) % 10**6:06d}"
    with pytest.raises(ValidationFailed, match="不正确"):
        services.code_verify(link=link, code=wrong)


def test_an_expired_code_is_refused(link, acct):
    _send(link, now=timezone.now() - datetime.timedelta(minutes=6))
    with pytest.raises(ValidationFailed, match="已过期"):
        services.code_verify(link=link, code=last_code(acct))


def test_the_right_code_after_five_wrong_tries_is_refused(link, acct):
    _send(link)
    code = last_code(acct)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        with pytest.raises(ValidationFailed):
            services.code_verify(link=link, code=wrong)
    with pytest.raises(ValidationFailed, match="次数过多"):
        services.code_verify(link=link, code=code)


def test_a_code_of_another_household_does_not_verify_this_one(link, acct, other_acct):
    from wuye.owner import links

    other = links.link_for(other_acct)
    _send(other)
    with pytest.raises(ValidationFailed, match="请先获取"):
        services.code_verify(link=link, code=last_code(other_acct))


def test_codes_per_household_are_limited_per_hour(link, settings):
    settings.WUYE_OWNER_CODES_PER_HOUR = 2
    _send(link, ip="10.0.0.1")
    _send(link, ip="10.0.0.2")
    with pytest.raises(ValidationFailed, match="频繁"):
        _send(link, ip="10.0.0.3")
    assert OwnerCode.objects.count() == 2


def test_codes_per_address_are_limited_per_hour(link, other_acct, settings):
    from wuye.owner import links

    settings.WUYE_OWNER_CODES_PER_IP_HOUR = 1
    _send(link, ip="10.0.0.9")
    with pytest.raises(ValidationFailed, match="频繁"):
        _send(links.link_for(other_acct), ip="10.0.0.9")


def test_codes_are_outside_the_dunning_sms_caps(link, acct, settings):
    from wuye.dunning.models import ArrearsCase
    from wuye.messaging.services import _check_caps

    settings.WUYE_SMS_MAX_PER_DAY = 1
    _send(link)
    case = ArrearsCase(account=acct, project_id=acct.project_id, room_id=acct.room_id)
    _check_caps(case, timezone.now())  # the code does not use up the day's one reminder


def test_the_page_shows_bills_only_after_the_code(client, acct, token):
    assert 'id="bills"' not in client.get(f"/o/{token}/").content.decode()
    phone = acct.payer.phones.get()
    client.post(f"/o/{token}/code/", {"phone": phone.pk})
    client.post(f"/o/{token}/verify/", {"code": last_code(acct)})
    text = client.get(f"/o/{token}/").content.decode()
    assert 'id="bills"' in text and "2025-06" in text


class _Provider:
    """An SMS provider that records what it was asked to send."""

    sent: list[tuple[str, str]] = []

    def send(self, to, body):
        from wuye.messaging.backends import Sent

        self.sent.append((to, body))
        return Sent("provider-1")


def test_with_a_provider_the_owner_gets_the_code_and_the_outbox_keeps_it_masked(
    settings, link, acct
):
    settings.WUYE_SMS_BACKEND = f"{__name__}._Provider"
    _Provider.sent.clear()

    row = _send(link)

    [(to, sent_body)] = _Provider.sent
    code = re.search(r"\d{6}", sent_body).group()
    stored = OutboxMessage.objects.get(account_id_snapshot=acct.pk).body
    assert to == "13812345678"
    assert code not in stored and "******" in stored
    assert row.code_hash.split("$")[1] == services._hash(row.code_hash.split("$")[0], code)


def test_a_code_read_from_a_providers_outbox_opens_nothing(settings, link, acct):
    settings.WUYE_SMS_BACKEND = f"{__name__}._Provider"
    _send(link)
    stored = OutboxMessage.objects.get(account_id_snapshot=acct.pk).body

    with pytest.raises(ValidationFailed):
        services.code_verify(link=link, code="".join(ch for ch in stored if ch in "*0123456789"))


def test_without_a_provider_the_outbox_is_where_the_code_is_read(link, acct):
    _send(link)  # the default backend: the demo's owners read their code in the outbox

    services.code_verify(link=link, code=last_code(acct))
