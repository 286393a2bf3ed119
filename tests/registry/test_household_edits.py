"""Edits made from the household page go through the services, are scoped and audited."""

import pytest
from django.urls import reverse

from tests.factories import household
from wuye.core.models import AuditEntry
from wuye.registry.models import LegacyIssue, Occupancy, Person, ServiceTicket

pytestmark = pytest.mark.django_db


@pytest.fixture
def home(project):
    room, person = household(project)
    return room, person


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def test_steward_adds_a_phone(client, steward, home):
    room, person = home
    client.force_login(steward)
    response = client.post(
        reverse("registry:phone_add", args=[room.id, person.id]),
        {"number": "139 0000 1111"},
        follow=True,
    )
    assert "电话已添加" in messages_of(response)
    assert person.phones.filter(number="13900001111").exists()


def test_bad_phone_is_refused_with_the_reason(client, steward, home):
    room, person = home
    client.force_login(steward)
    response = client.post(
        reverse("registry:phone_add", args=[room.id, person.id]), {"number": "12345"}, follow=True
    )
    assert any("不是有效的号码" in m for m in messages_of(response))
    assert person.phones.count() == 1


def test_form_error_names_the_field(client, steward, home):
    room, _ = home
    client.force_login(steward)
    response = client.post(
        reverse("registry:room_edit", args=[room.id]),
        {
            "gross_area": "abc",
            "use": "residence",
            "occupancy_state": "occupied",
            "handed_over": "on",
        },
        follow=True,
    )
    assert any(m.startswith("建筑面积") for m in messages_of(response))


def test_cashier_cannot_edit_the_registry(client, cashier, home):
    room, person = home
    client.force_login(cashier)
    response = client.post(
        reverse("registry:phone_add", args=[room.id, person.id]), {"number": "13900001111"}
    )
    assert response.status_code == 403


def test_cashier_can_take_a_complaint_at_the_window(client, cashier, home):
    room, _ = home
    client.force_login(cashier)
    client.post(
        reverse("registry:ticket_add", args=[room.id]),
        {"category": "complaint", "subject": "噪音扰民"},
    )
    assert ServiceTicket.objects.get().subject == "噪音扰民"


def test_steward_marks_a_number_disconnected(client, steward, home):
    room, person = home
    phone = person.phones.get()
    client.force_login(steward)
    client.post(
        reverse("registry:phone_validity", args=[room.id, phone.id]), {"validity": "disconnected"}
    )
    phone.refresh_from_db()
    assert phone.validity == "disconnected"
    assert AuditEntry.objects.filter(action="电话状态", user=steward).exists()


def test_owner_tie_ends_and_stays_in_history(client, steward, home):
    room, person = home
    tie = Occupancy.objects.get(room=room)
    client.force_login(steward)
    client.post(
        reverse("registry:occupancy_end", args=[room.id, tie.id]), {"end_date": "2025-06-30"}
    )
    tie.refresh_from_db()
    assert str(tie.end_date) == "2025-06-30"
    html = client.get(reverse("registry:household", args=[room.id])).content.decode()
    assert "历史关系" in html


def test_tenant_is_added_as_payer_after_owner_stops_paying(client, steward, home):
    room, _ = home
    client.force_login(steward)
    response = client.post(
        reverse("registry:occupant_add", args=[room.id]),
        {"name": "王租户", "phone": "13700001234", "role": "tenant", "is_payer": "on"},
        follow=True,
    )
    assert any("已有缴费人" in m for m in messages_of(response))
    assert not Occupancy.objects.filter(person__name="王租户").exists()
    assert not Person.objects.filter(name="王租户").exists()  # nothing half-written


def test_legacy_issue_registered_and_resolved(client, steward, home):
    room, _ = home
    client.force_login(steward)
    client.post(
        reverse("registry:legacy_issue_add", args=[room.id]),
        {"title": "地下室返潮", "responsible_party": "developer", "reported_on": "2024-04-01"},
    )
    issue = LegacyIssue.objects.get()
    client.post(
        reverse("registry:legacy_issue_state", args=[room.id, issue.id]),
        {"state": "resolved", "note": "已修复"},
    )
    issue.refresh_from_db()
    assert issue.state == "resolved"
    assert issue.events.count() == 2


def test_edits_to_another_projects_room_are_not_found(client, steward, other_project):
    room, person = household(other_project)
    client.force_login(steward)
    response = client.post(
        reverse("registry:phone_add", args=[room.id, person.id]), {"number": "13900001111"}
    )
    assert response.status_code == 404
