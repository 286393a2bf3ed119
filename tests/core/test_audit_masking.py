"""Issue 13 item 13: the 操作日志 masks ID numbers and phones by the viewer's role exactly as the
household pages do; the stored trail stays complete."""

import pytest
from django.urls import reverse

from wuye.core.models import AuditEntry
from wuye.core.roles import Role
from wuye.registry import services as registry

pytestmark = pytest.mark.django_db
ID = "110101198003077710"
PHONE = "13812345678"


@pytest.fixture
def person(project):
    return registry.person_create(
        user=None, project=project, name="张三", id_number=ID, phones=[PHONE]
    )


def _page(client, user):
    client.force_login(user)
    response = client.get(reverse("audit_log"))
    assert response.status_code == 200
    return response.content.decode()


def test_a_supervisor_sees_the_id_number_masked_as_on_the_household_page(
    client, make_user, project, person
):
    supervisor = make_user("sup", Role.SUPERVISOR, project)

    html = _page(client, supervisor)

    assert ID not in html
    assert "110101********7710" in html
    assert PHONE in html or "138****5678" in html  # supervisors see phones in full elsewhere too


def test_a_manager_sees_the_id_number_in_full(client, manager, person):
    assert ID in _page(client, manager)


def test_phones_in_the_trail_are_masked_for_roles_that_see_masked_phones():
    from wuye.core.masking import mask_data

    changes = {"number": PHONE, "note": f"改号 {PHONE}", "id_number": ID, "nested": [{"to": PHONE}]}
    shown = mask_data(changes, phones=False, ids=False)
    assert PHONE not in str(shown) and ID not in str(shown)
    assert shown["number"] == "138****5678"
    assert mask_data(changes, phones=True, ids=True) == changes


def test_the_stored_trail_stays_complete(client, make_user, project, person):
    _page(client, make_user("sup", Role.SUPERVISOR, project))

    assert any(ID in str(e.changes) for e in AuditEntry.objects.all())
