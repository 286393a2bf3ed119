"""Every write to the registry: validated, in one transaction, with its audit entry."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from wuye.core.audit import audit_record, diff, snapshot
from wuye.core.errors import ValidationFailed, fields_allowed, full_clean, text_lengths_check
from wuye.core.guardrails import guard_text
from wuye.core.models import Project, User
from wuye.core.sorting import STORED_PAD, natural_key
from wuye.registry.enums import (
    IssueState,
    OccupancyRole,
    OccupancyState,
    PersonKind,
    PhoneLabel,
    PhoneValidity,
    ResponsibleParty,
    RoomUse,
    TicketCategory,
    TicketState,
)
from wuye.registry.models import (
    Building,
    LegacyIssue,
    LegacyIssueEvent,
    Occupancy,
    ParkingSpace,
    Person,
    Phone,
    Room,
    ServiceTicket,
    Unit,
)
from wuye.registry.normalize import (
    floor_from_number,
    normalize_phone,
    parse_area,
    parse_room_code,
    pinyin_keys,
    room_code,
)


def room_search_keys(code: str, number: str) -> dict[str, str]:
    return {
        "code_key": code.lower(),
        "number_rev": number.lower()[::-1],
        "code_sort": natural_key(code, STORED_PAD),
    }


def person_search_keys(name: str) -> dict[str, str]:
    full, initials = pinyin_keys(name)
    return {"name_key": name.lower(), "name_pinyin": full, "name_initials": initials}


def phone_search_key(number: str) -> str:
    return number[::-1]


def default_phone_label(number: str) -> str:
    """Mainland mobiles are 11 digits starting with 1; anything else is taken as a home landline."""
    return PhoneLabel.MOBILE if len(number) == 11 and number.startswith("1") else PhoneLabel.HOME


def _area(value: object, field: str) -> Decimal | None:
    """Areas to two decimals; '89.5㎡' is accepted like 89.5."""
    try:
        return parse_area(value)
    except ValueError as exc:
        raise ValidationFailed(str(exc), field=field) from exc


# --- buildings and units -------------------------------------------------------------------------


def building_get_or_create(*, user: User | None, project: Project, code: str) -> Building:
    building = Building.objects.filter(project=project, code=code).first()
    if building:
        return building
    name = f"{code}栋" if code.isdigit() else f"{code}座"
    building = Building.objects.create(
        project=project, code=code, name=name, sort=int(code) if code.isdigit() else 10_000
    )
    audit_record(user=user, action="楼栋新增", obj=building, project=project)
    return building


def unit_get_or_create(*, user: User | None, building: Building, code: str) -> Unit:
    unit = Unit.objects.filter(building=building, code=code).first()
    if unit:
        return unit
    unit = Unit.objects.create(building=building, code=code, name=f"{code}单元")
    audit_record(user=user, action="单元新增", obj=unit, project=building.project_id)
    return unit


def building_assign_steward(*, user: User, building: Building, steward: User | None) -> Building:
    with transaction.atomic():
        before = snapshot(building, ["steward"])
        building.steward = steward
        building.save(update_fields=["steward"])
        audit_record(
            user=user,
            action="楼管调整",
            obj=building,
            project=building.project_id,
            changes=diff(before, snapshot(building, ["steward"])),
        )
    return building


# --- rooms ---------------------------------------------------------------------------------------


def room_create(
    *,
    user: User | None,
    project: Project,
    code: str,
    gross_area: Decimal | None = None,
    inner_area: Decimal | None = None,
    use: str = RoomUse.RESIDENCE,
    handed_over: bool = True,
    handover_date: datetime.date | None = None,
    occupancy_state: str | None = None,
    floor: int | None = None,
    note: str = "",
) -> Room:
    """Creates a room from a code such as ``3-2-1502`` or ``3栋2单元1502``, making its building and unit."""
    try:
        b, u, number = parse_room_code(code)
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="code") from exc
    with transaction.atomic():
        building = building_get_or_create(user=user, project=project, code=b)
        unit = unit_get_or_create(user=user, building=building, code=u) if u else None
        normalized = room_code(b, u, number)
        if Room.objects.filter(project=project, code=normalized).exists():
            raise ValidationFailed(f"房号 {normalized} 已存在", field="code")
        room = Room(
            project=project,
            building=building,
            unit=unit,
            code=normalized,
            number=number,
            floor=floor if floor is not None else floor_from_number(number),
            gross_area=_area(gross_area, "gross_area"),
            inner_area=_area(inner_area, "inner_area"),
            use=use,
            handed_over=handed_over,
            handover_date=handover_date,
            occupancy_state=occupancy_state
            or (OccupancyState.OCCUPIED if handed_over else OccupancyState.VACANT),
            note=note,
            **room_search_keys(normalized, number),
        )
        full_clean(room)
        room.save()
        audit_record(
            user=user, action="房屋新增", obj=room, project=project, changes=snapshot(room)
        )
    return room


ROOM_EDITABLE_FIELDS = (
    "gross_area",
    "inner_area",
    "use",
    "handed_over",
    "handover_date",
    "occupancy_state",
    "floor",
    "note",
)


def room_update(*, user: User | None, room: Room, **changes: Any) -> Room:
    fields_allowed(changes, ROOM_EDITABLE_FIELDS)
    with transaction.atomic():
        room = Room.objects.select_for_update().get(pk=room.pk)
        before = snapshot(room)
        for key, value in changes.items():
            if key in ("gross_area", "inner_area"):
                value = _area(value, key)
            setattr(room, key, value)
        full_clean(room)
        room.save()
        changed = diff(before, snapshot(room))
        if changed:
            audit_record(
                user=user, action="房屋修改", obj=room, project=room.project_id, changes=changed
            )
    return room


# --- people and phones ---------------------------------------------------------------------------


PERSON_EDITABLE_FIELDS = (
    "name",
    "kind",
    "id_type",
    "id_number",
    "home_address",
    "work_address",
    "mailing_address",
    "preferred_contact_times",
    "written_contact_only",
    "notes",
)


def person_create(
    *,
    user: User | None,
    project: Project,
    name: str,
    phones: list[str] | None = None,
    kind: str = PersonKind.INDIVIDUAL,
    is_developer: bool = False,
    **fields: Any,
) -> Person:
    fields_allowed(fields, PERSON_EDITABLE_FIELDS, refusal="未知字段")
    name = name.strip()
    if not name:
        raise ValidationFailed("姓名不能为空", field="name")
    guard_text(fields.get("notes"), field="notes")
    with transaction.atomic():
        person = Person(
            project=project,
            name=name,
            kind=kind,
            is_developer=is_developer,
            **fields,
            **person_search_keys(name),
        )
        full_clean(person)
        person.save()
        audit_record(
            user=user, action="客户新增", obj=person, project=project, changes=snapshot(person)
        )
        for index, number in enumerate(phones or []):
            phone_add(user=user, person=person, number=number, is_primary=index == 0)
    return person


def person_update(*, user: User | None, person: Person, **changes: Any) -> Person:
    fields_allowed(changes, PERSON_EDITABLE_FIELDS)
    if "notes" in changes:
        guard_text(changes["notes"], field="notes")
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=person.pk)
        before = snapshot(person)
        for key, value in changes.items():
            setattr(person, key, value)
        if "name" in changes:
            person.name = person.name.strip()
            for key, value in person_search_keys(person.name).items():
                setattr(person, key, value)
        full_clean(person)
        person.save()
        changed = diff(before, snapshot(person))
        for key in ("name_key", "name_pinyin", "name_initials"):
            changed.pop(key, None)
        if changed:
            audit_record(
                user=user, action="客户修改", obj=person, project=person.project_id, changes=changed
            )
    return person


def developer_get_or_create(*, user: User | None, project: Project, name: str) -> Person:
    """The developer (开发建设单位) of ``project``: it pays for rooms not yet handed over."""
    existing = Person.objects.filter(project=project, is_developer=True).first()
    if existing:
        return existing
    return person_create(
        user=user, project=project, name=name, kind=PersonKind.ORGANISATION, is_developer=True
    )


def phone_add(
    *,
    user: User | None,
    person: Person,
    number: str,
    label: str | None = None,
    is_primary: bool = False,
    note: str = "",
) -> Phone:
    try:
        clean = normalize_phone(number)
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="number") from exc
    with transaction.atomic():
        if Phone.objects.filter(person=person, number=clean).exists():
            raise ValidationFailed(f"电话 {clean} 已登记", field="number")
        if is_primary:
            Phone.objects.filter(person=person, is_primary=True).update(is_primary=False)
        phone = Phone.objects.create(
            person=person,
            number=clean,
            label=label or default_phone_label(clean),
            is_primary=is_primary,
            note=note,
            number_rev=phone_search_key(clean),
        )
        audit_record(
            user=user,
            action="电话新增",
            obj=phone,
            project=person.project_id,
            changes={"person": person.pk, "number": clean},
        )
    return phone


def phone_mark_validity(*, user: User | None, phone: Phone, validity: str, note: str = "") -> Phone:
    """Records what a call found about a number (no answer, disconnected …)."""
    if validity not in PhoneValidity.values:
        raise ValidationFailed(f"未知的号码状态：{validity}", field="validity")
    with transaction.atomic():
        phone = (
            Phone.objects.select_for_update(of=("self",)).select_related("person").get(pk=phone.pk)
        )
        old = phone.validity
        phone.validity = validity
        phone.validity_checked_at = timezone.now()
        if note:
            phone.note = note[:100]
        phone.save(update_fields=["validity", "validity_checked_at", "note"])
        audit_record(
            user=user,
            action="电话状态",
            obj=phone,
            project=phone.person.project_id,
            changes={"validity": [old, validity]},
        )
    return phone


# --- occupancies ---------------------------------------------------------------------------------


def occupancy_create(
    *,
    user: User | None,
    room: Room,
    person: Person,
    role: str,
    start_date: datetime.date | None = None,
    is_payer: bool = False,
) -> Occupancy:
    if role not in OccupancyRole.values:
        raise ValidationFailed(f"未知的身份：{role}", field="role")
    if person.project_id != room.project_id:
        raise ValidationFailed("客户与房屋不属于同一项目", field="person")
    with transaction.atomic():
        if Occupancy.objects.filter(
            room=room, person=person, role=role, end_date__isnull=True
        ).exists():
            raise ValidationFailed(f"{person} 已是 {room} 的当前{OccupancyRole(role).label}")
        if (
            is_payer
            and Occupancy.objects.filter(room=room, is_payer=True, end_date__isnull=True).exists()
        ):
            raise ValidationFailed(f"{room} 已有缴费人，请先结束原缴费人的关系", field="is_payer")
        occupancy = Occupancy(
            room=room, person=person, role=role, start_date=start_date, is_payer=is_payer
        )
        full_clean(occupancy)
        occupancy.save()
        audit_record(
            user=user,
            action="房屋关系新增",
            obj=occupancy,
            project=room.project_id,
            changes=snapshot(occupancy),
        )
    return occupancy


def occupancy_end(*, user: User | None, occupancy: Occupancy, end_date: datetime.date) -> Occupancy:
    """Ends a tie (a sale, a tenant moving out); the row stays as history."""
    with transaction.atomic():
        occupancy = Occupancy.objects.select_for_update().get(pk=occupancy.pk)
        if occupancy.end_date is not None:
            raise ValidationFailed("该关系已结束")
        occupancy.end_date = end_date
        full_clean(occupancy)
        occupancy.save(update_fields=["end_date"])
        audit_record(
            user=user,
            action="房屋关系结束",
            obj=occupancy,
            project=occupancy.room.project_id,
            changes={"end_date": [None, end_date]},
        )
    return occupancy


# --- parking -------------------------------------------------------------------------------------


def parking_space_create(
    *,
    user: User | None,
    project: Project,
    code: str,
    kind: str = "owned",
    room: Room | None = None,
    person: Person | None = None,
    location: str = "",
    area: Decimal | None = None,
    plate: str = "",
) -> ParkingSpace:
    with transaction.atomic():
        space = ParkingSpace(
            project=project,
            code=code.strip(),
            kind=kind,
            room=room,
            person=person,
            location=location,
            area=area,
            plate=plate,
        )
        full_clean(space)
        space.save()
        audit_record(user=user, action="车位新增", obj=space, project=project)
    return space


# --- legacy issues and tickets -------------------------------------------------------------------


def legacy_issue_create(
    *,
    user: User | None,
    room: Room,
    title: str,
    responsible_party: str,
    reported_on: datetime.date,
    description: str = "",
) -> LegacyIssue:
    if responsible_party not in ResponsibleParty.values:
        raise ValidationFailed("请选择责任方", field="responsible_party")
    with transaction.atomic():
        issue = LegacyIssue(
            project_id=room.project_id,
            room=room,
            title=title.strip(),
            description=description,
            responsible_party=responsible_party,
            reported_on=reported_on,
        )
        full_clean(issue)
        issue.save()
        LegacyIssueEvent.objects.create(
            issue=issue, user=_real(user), to_state=issue.state, note="登记"
        )
        audit_record(user=user, action="遗留问题登记", obj=issue, project=room.project_id)
    return issue


def legacy_issue_change_state(
    *,
    user: User | None,
    issue: LegacyIssue,
    state: str,
    note: str = "",
    on: datetime.date | None = None,
) -> LegacyIssue:
    if state not in IssueState.values:
        raise ValidationFailed(f"未知状态：{state}", field="state")
    with transaction.atomic():
        issue = LegacyIssue.objects.select_for_update().get(pk=issue.pk)
        old = issue.state
        issue.state = state
        if state in (IssueState.RESOLVED, IssueState.CLOSED):
            issue.resolved_on = on or timezone.localdate()
        else:
            issue.resolved_on = None
        issue.save(update_fields=["state", "resolved_on"])
        event = LegacyIssueEvent(
            issue=issue, user=_real(user), from_state=old, to_state=state, note=note
        )
        text_lengths_check(event)
        event.save()
        audit_record(
            user=user,
            action="遗留问题状态",
            obj=issue,
            project=issue.project_id,
            changes={"state": [old, state], "note": note},
        )
    return issue


def ticket_create(
    *,
    user: User | None,
    room: Room,
    category: str,
    subject: str,
    description: str = "",
    person: Person | None = None,
    opened_at: datetime.datetime | None = None,
) -> ServiceTicket:
    if category not in TicketCategory.values:
        raise ValidationFailed("请选择类别", field="category")
    with transaction.atomic():
        ticket = ServiceTicket(
            project_id=room.project_id,
            room=room,
            person=person,
            category=category,
            subject=subject.strip(),
            description=description,
            opened_at=opened_at or timezone.now(),
        )
        full_clean(ticket)
        ticket.save()
        audit_record(user=user, action="工单受理", obj=ticket, project=room.project_id)
    return ticket


def ticket_change_state(
    *,
    user: User | None,
    ticket: ServiceTicket,
    state: str,
    satisfaction: int | None = None,
    at: datetime.datetime | None = None,
) -> ServiceTicket:
    if state not in TicketState.values:
        raise ValidationFailed(f"未知状态：{state}", field="state")
    with transaction.atomic():
        ticket = ServiceTicket.objects.select_for_update().get(pk=ticket.pk)
        before = snapshot(ticket, ["state", "closed_at", "satisfaction"])
        ticket.state = state
        closing = state in (TicketState.RESOLVED, TicketState.CLOSED)
        ticket.closed_at = (at or timezone.now()) if closing else None
        if satisfaction is not None:
            ticket.satisfaction = satisfaction
        full_clean(ticket)
        ticket.save(update_fields=["state", "closed_at", "satisfaction"])
        audit_record(
            user=user,
            action="工单状态",
            obj=ticket,
            project=ticket.project_id,
            changes=diff(before, snapshot(ticket, ["state", "closed_at", "satisfaction"])),
        )
    return ticket


def _real(user: User | None) -> User | None:
    return user if user is not None and user.is_authenticated else None
