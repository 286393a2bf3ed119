"""导入 — writing a plan: bulk creates and updates of rooms, people, phones and occupancies, with their
audit entries."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from wuye.core.audit import _jsonable, snapshot
from wuye.core.models import AuditEntry, Project, User
from wuye.registry.enums import (
    IdType,
    OccupancyRole,
    OccupancyState,
    PersonKind,
    RoomUse,
)
from wuye.registry.import_parsing import PersonIn, RoomIn
from wuye.registry.import_planning import Plan
from wuye.registry.models import (
    Building,
    ImportBatch,
    Occupancy,
    Person,
    Phone,
    Room,
    Unit,
)
from wuye.registry.normalize import (
    floor_from_number,
    looks_like_id_card,
)
from wuye.registry.services import (
    building_get_or_create,
    person_search_keys,
    phone_search_key,
    room_search_keys,
    unit_get_or_create,
)

# --- writing -------------------------------------------------------------------------------------

BULK_SIZE = 500


class _Audit:
    """Audit rows for a bulk write, inserted together at the end of the transaction."""

    def __init__(self, user: User | None, project: Project, batch: ImportBatch):
        self.user = user if user is not None and user.is_authenticated else None
        self.project = project
        self.batch_id = batch.pk
        self.rows: list[AuditEntry] = []

    def add(self, action: str, obj_label: str, pk: int, text: str, changes: dict[str, Any]) -> None:
        self.rows.append(
            AuditEntry(
                user=self.user,
                project=self.project,
                action=action,
                model=obj_label,
                object_id=str(pk),
                object_repr=text[:200],
                changes=_jsonable({**changes, "import_batch": self.batch_id}),
            )
        )

    def save(self) -> None:
        AuditEntry.objects.bulk_create(self.rows, batch_size=BULK_SIZE)


def _create_rooms(plan: Plan, project: Project, user: User | None, audit: _Audit) -> dict[str, int]:
    buildings = {b.code: b for b in Building.objects.filter(project=project)}
    units = {
        (u.building.code, u.code): u
        for u in Unit.objects.filter(building__project=project).select_related("building")
    }
    rooms = []
    for room in plan.new_rooms:
        if room.building not in buildings:
            buildings[room.building] = building_get_or_create(
                user=user, project=project, code=room.building
            )
        building = buildings[room.building]
        if room.unit and (room.building, room.unit) not in units:
            units[(room.building, room.unit)] = unit_get_or_create(
                user=user, building=building, code=room.unit
            )
        rooms.append(_new_room(project, room, building, units.get((room.building, room.unit))))
    Room.objects.bulk_create(rooms, batch_size=BULK_SIZE)
    for obj in rooms:
        audit.add("房屋新增", "registry.Room", obj.pk, obj.code, snapshot(obj))
    return {obj.code: obj.pk for obj in rooms}


def _new_room(project: Project, room: RoomIn, building: Building, unit: Unit | None) -> Room:
    values = room.values
    handed_over = values.get("handed_over", True)
    default_state = OccupancyState.OCCUPIED if handed_over else OccupancyState.VACANT
    return Room(
        project=project,
        building=building,
        unit=unit,
        code=room.code,
        number=room.number,
        floor=values.get("floor", floor_from_number(room.number)),
        gross_area=values.get("gross_area"),
        inner_area=values.get("inner_area"),
        use=values.get("use", RoomUse.RESIDENCE),
        handed_over=handed_over,
        handover_date=values.get("handover_date"),
        occupancy_state=values.get("occupancy_state", default_state),
        note=values.get("note", ""),
        **room_search_keys(room.code, room.number),
    )


def _apply_updates(
    model: Any,
    updates: list[tuple[int, str, dict[str, list[Any]]]],
    action: str,
    audit: _Audit,
    *,
    stamp: bool,
) -> None:
    if not updates:
        return
    objects = model.objects.in_bulk([pk for pk, _label, _changes in updates])
    fields: set[str] = set()
    now = timezone.now()
    for pk, _label, changes in updates:
        for key, (_old, new) in changes.items():
            setattr(objects[pk], key, new)
            fields.add(key)
        if stamp:  # bulk_update skips auto_now
            objects[pk].updated_at = now
    fields.update(["updated_at"] if stamp else [])
    model.objects.bulk_update(list(objects.values()), sorted(fields), batch_size=BULK_SIZE)
    for pk, label, changes in updates:
        audit.add(action, model._meta.label, pk, label, changes)


def _create_people(plan: Plan, project: Project, audit: _Audit) -> None:
    people = [_new_person(project, p) for p in plan.new_people]
    Person.objects.bulk_create(people, batch_size=BULK_SIZE)
    for person_in, obj in zip(plan.new_people, people, strict=True):
        person_in.db_id = obj.pk
        audit.add("客户新增", "registry.Person", obj.pk, obj.name, snapshot(obj))


def _new_person(project: Project, person: PersonIn) -> Person:
    values = dict(person.values)
    if person.organisation:
        values.setdefault("kind", PersonKind.ORGANISATION)
    if person.name_note:
        values.setdefault("notes", person.name_note)
    if "id_type" not in values:
        number = values.get("id_number", "")
        values["id_type"] = (
            IdType.ID_CARD if not number or looks_like_id_card(number) else IdType.OTHER
        )
    return Person(project=project, name=person.name, **values, **person_search_keys(person.name))


def _create_phones(plan: Plan, audit: _Audit) -> None:
    phones = [
        Phone(
            person_id=owner if isinstance(owner, int) else owner.db_id,
            number=number,
            is_primary=primary,
            number_rev=phone_search_key(number),
        )
        for owner, number, primary in plan.new_phones
    ]
    Phone.objects.bulk_create(phones, batch_size=BULK_SIZE)
    for phone in phones:
        audit.add(
            "电话新增",
            "registry.Phone",
            phone.pk,
            phone.number,
            {"person": phone.person_id, "number": phone.number},
        )


def _create_occupancies(plan: Plan, room_ids: dict[str, int], audit: _Audit) -> None:
    objects = [
        Occupancy(
            room_id=room_ids[occ.code],
            person_id=occ.person.db_id,
            role=occ.role,
            start_date=values["start_date"],
            is_payer=values["is_payer"],
        )
        for occ, values in plan.new_occupancies
    ]
    Occupancy.objects.bulk_create(objects, batch_size=BULK_SIZE)
    for (occ, _values), obj in zip(plan.new_occupancies, objects, strict=True):
        label = f"{occ.code} {OccupancyRole(occ.role).label} {occ.person.name}"
        audit.add("房屋关系新增", "registry.Occupancy", obj.pk, label, snapshot(obj))


def _apply(plan: Plan, *, user: User | None, project: Project, batch: ImportBatch) -> None:
    audit = _Audit(user, project, batch)
    room_ids = dict(Room.objects.filter(project=project).values_list("code", "id"))
    room_ids.update(_create_rooms(plan, project, user, audit))
    _apply_updates(Room, plan.room_updates, "房屋修改", audit, stamp=True)
    _create_people(plan, project, audit)
    _apply_updates(Person, plan.person_updates, "客户修改", audit, stamp=True)
    _create_phones(plan, audit)
    # Updates first: a payer flag moving from one occupancy to another must be off before it is on.
    _apply_updates(Occupancy, plan.occupancy_updates, "房屋关系修改", audit, stamp=False)
    _create_occupancies(plan, room_ids, audit)
    audit.save()


def _changed_anything(counts: dict[str, dict[str, int]]) -> bool:
    return any(c["created"] or c["updated"] for c in counts.values())
