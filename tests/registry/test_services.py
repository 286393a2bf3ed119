import datetime
from decimal import Decimal

import pytest

from tests.factories import household
from wuye.core.errors import ValidationFailed
from wuye.core.models import AuditEntry
from wuye.registry import services
from wuye.registry.models import Building, Occupancy, Unit
from wuye.registry.selectors import room_payer

pytestmark = pytest.mark.django_db


def test_room_code_in_chinese_form_is_stored_as_building_unit_room(project):
    room = services.room_create(user=None, project=project, code="３栋２单元１５０２室")
    assert room.code == "3-2-1502"
    assert room.floor == 15
    assert room.building.name == "3栋"
    assert room.unit.name == "2单元"


def test_room_creates_its_building_and_unit_once(project):
    services.room_create(user=None, project=project, code="3-2-1501")
    services.room_create(user=None, project=project, code="3-2-1502")
    assert Building.objects.filter(project=project).count() == 1
    assert Unit.objects.count() == 1


def test_room_code_is_unique_in_a_project(project, other_project):
    services.room_create(user=None, project=project, code="3-2-1502")
    services.room_create(user=None, project=other_project, code="3-2-1502")
    with pytest.raises(ValidationFailed, match="已存在"):
        services.room_create(user=None, project=project, code="3栋2单元1502")


def test_unreadable_room_code_is_refused_with_reason(project):
    with pytest.raises(ValidationFailed, match="无法识别的房号") as exc:
        services.room_create(user=None, project=project, code="不知道")
    assert exc.value.field == "code"


def test_inner_area_cannot_exceed_gross_area(project):
    with pytest.raises(ValidationFailed, match="套内面积|inner") as exc:
        services.room_create(
            user=None,
            project=project,
            code="1-1-101",
            gross_area=Decimal("80"),
            inner_area=Decimal("90"),
        )
    assert exc.value.code == "wuye.invalid"


def test_room_not_handed_over_must_be_vacant(project):
    room = services.room_create(user=None, project=project, code="1-1-101", handed_over=False)
    assert room.occupancy_state == "vacant"
    with pytest.raises(ValidationFailed):
        services.room_update(user=None, room=room, occupancy_state="occupied")


def test_person_gets_pinyin_and_initials_for_search(project):
    person = services.person_create(user=None, project=project, name="张三丰")
    assert (person.name_pinyin, person.name_initials) == ("zhangsanfeng", "zsf")


def test_phone_is_normalised_and_bad_phone_refused(project):
    person = services.person_create(
        user=None, project=project, name="李四", phones=["138-1234 5678"]
    )
    assert person.phones.get().number == "13812345678"
    assert person.phones.get().number_rev == "87654321831"
    with pytest.raises(ValidationFailed, match="不是有效的号码"):
        services.phone_add(user=None, person=person, number="12345")


def test_phone_validity_mark_is_recorded(project):
    person = services.person_create(user=None, project=project, name="李四", phones=["13812345678"])
    phone = services.phone_mark_validity(
        user=None, phone=person.phones.get(), validity="disconnected"
    )
    assert phone.validity == "disconnected"
    assert phone.validity_checked_at is not None


def test_a_room_has_one_current_payer(project):
    room, _ = household(project)
    tenant = services.person_create(user=None, project=project, name="王五")
    with pytest.raises(ValidationFailed, match="已有缴费人"):
        services.occupancy_create(user=None, room=room, person=tenant, role="tenant", is_payer=True)


def test_tenant_can_become_payer_after_owner_payer_tie_ends(project):
    room, owner = household(project)
    tenant = services.person_create(user=None, project=project, name="王五")
    owner_tie = Occupancy.objects.get(room=room, person=owner)
    services.occupancy_end(user=None, occupancy=owner_tie, end_date=datetime.date(2024, 12, 31))
    services.occupancy_create(
        user=None,
        room=room,
        person=tenant,
        role="tenant",
        is_payer=True,
        start_date=datetime.date(2025, 1, 1),
    )
    assert room_payer(room, datetime.date(2025, 6, 1)) == tenant
    assert room_payer(room, datetime.date(2024, 6, 1)) == owner


def test_developer_pays_for_a_room_not_handed_over(project):
    developer = services.developer_get_or_create(
        user=None, project=project, name="某某置业有限公司"
    )
    room = services.room_create(user=None, project=project, code="5-1-101", handed_over=False)
    assert room_payer(room) == developer


def test_developer_pays_before_the_handover_date_and_owner_after(project):
    developer = services.developer_get_or_create(
        user=None, project=project, name="某某置业有限公司"
    )
    room, owner = household(project, handover_date=datetime.date(2024, 3, 15))
    assert room_payer(room, datetime.date(2024, 3, 14)) == developer
    assert room_payer(room, datetime.date(2024, 3, 15)) == owner


def test_occupancy_cannot_cross_projects(project, other_project):
    room = services.room_create(user=None, project=project, code="1-1-101")
    stranger = services.person_create(user=None, project=other_project, name="赵六")
    with pytest.raises(ValidationFailed, match="不属于同一项目"):
        services.occupancy_create(user=None, room=room, person=stranger, role="owner")


def test_legacy_issue_keeps_its_history(project, manager):
    room, _ = household(project)
    issue = services.legacy_issue_create(
        user=manager,
        room=room,
        title="卫生间渗漏",
        responsible_party="developer",
        reported_on=datetime.date(2024, 5, 1),
    )
    services.legacy_issue_change_state(
        user=manager, issue=issue, state="resolved", note="开发商已维修"
    )
    events = list(issue.events.values_list("from_state", "to_state", "note"))
    assert events == [("", "open", "登记"), ("open", "resolved", "开发商已维修")]
    issue.refresh_from_db()
    assert issue.resolved_on is not None


def test_ticket_closing_sets_time_and_satisfaction_bounds(project):
    room, _ = household(project)
    ticket = services.ticket_create(user=None, room=room, category="complaint", subject="电梯故障")
    ticket = services.ticket_change_state(user=None, ticket=ticket, state="closed", satisfaction=2)
    assert ticket.closed_at is not None
    with pytest.raises(ValidationFailed):
        services.ticket_change_state(user=None, ticket=ticket, state="closed", satisfaction=9)


def test_every_service_write_is_audited(project, steward):
    before = AuditEntry.objects.count()
    room = services.room_create(
        user=steward, project=project, code="1-1-101", gross_area=Decimal("80")
    )
    services.room_update(user=steward, room=room, gross_area=Decimal("81.5"))
    entries = list(AuditEntry.objects.order_by("id")[before:])
    actions = [e.action for e in entries]
    assert actions[-1] == "房屋修改"
    assert entries[-1].user == steward
    assert entries[-1].changes == {"gross_area": ["80.00", "81.50"]}
    assert entries[-1].project_id == project.id
