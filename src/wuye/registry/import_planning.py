"""导入 — comparing what the file says with the database: which rooms, people, phones and occupancies
a commit would create or update (never delete), matched as the module ``importing`` explains."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from wuye.core.importing import (
    RowError,
)
from wuye.core.models import Project
from wuye.registry.enums import (
    OccupancyRole,
    OccupancyState,
    PersonKind,
)
from wuye.registry.import_columns import name_key
from wuye.registry.import_parsing import OccupancyIn, Parsed, PersonIn, RoomIn, room_values_problem
from wuye.registry.models import (
    Building,
    Occupancy,
    Person,
    Phone,
    Room,
    Unit,
)

# --- comparing with the database -----------------------------------------------------------------

ROOM_FIELDS = ("floor", "gross_area", "inner_area", "use", "handed_over", "handover_date",
               "occupancy_state", "note")  # fmt: skip
PERSON_FIELDS = ("kind", "id_type", "id_number", "home_address", "work_address", "mailing_address",
                 "preferred_contact_times", "written_contact_only", "notes", "is_developer")  # fmt: skip


@dataclass(eq=False)
class DbPerson:
    id: int
    name: str
    values: dict[str, Any]
    phones: set[str] = field(default_factory=set)
    room_ids: set[int] = field(default_factory=set)


@dataclass
class Stored:
    """What the project holds now, loaded in a handful of queries whatever the file's size."""

    rooms: dict[str, dict[str, Any]]
    people: dict[str, list[DbPerson]]  # by name key
    people_by_id: dict[int, DbPerson]
    occupancies: dict[tuple[int, int, str], dict[str, Any]]  # (room, person, role) → current one
    payers: dict[int, dict[str, Any]]  # room id → its current payer occupancy
    buildings: set[str]
    units: set[tuple[str, str]]
    developer_id: int | None = None  # the project's 开发建设单位, when one is recorded


def _load(project: Project) -> Stored:
    rooms = {
        r["code"]: r
        for r in Room.objects.filter(project=project).values("id", "code", *ROOM_FIELDS)
    }
    by_id: dict[int, DbPerson] = {}
    by_name: dict[str, list[DbPerson]] = defaultdict(list)
    for row in (
        Person.objects.filter(project=project).values("id", "name", *PERSON_FIELDS).order_by("id")
    ):
        person = DbPerson(row.pop("id"), row.pop("name"), row)
        by_id[person.id] = person
        by_name[name_key(person.name)].append(person)
    for person_id, number in Phone.objects.filter(person__project=project).values_list(
        "person_id", "number"
    ):
        if person_id in by_id:
            by_id[person_id].phones.add(number)
    occupancies, payers = {}, {}
    current = Occupancy.objects.filter(room__project=project, end_date__isnull=True)
    for occ in current.values("id", "room_id", "person_id", "role", "start_date", "is_payer"):
        occupancies[(occ["room_id"], occ["person_id"], occ["role"])] = occ
        if occ["person_id"] in by_id:
            by_id[occ["person_id"]].room_ids.add(occ["room_id"])
        if occ["is_payer"]:
            payers[occ["room_id"]] = occ
    buildings = set(Building.objects.filter(project=project).values_list("code", flat=True))
    units = set(
        Unit.objects.filter(building__project=project).values_list("building__code", "code")
    )
    developer = next((p.id for p in by_id.values() if p.values["is_developer"]), None)
    return Stored(rooms, by_name, by_id, occupancies, payers, buildings, units, developer)


@dataclass
class Plan:
    new_rooms: list[RoomIn] = field(default_factory=list)
    room_updates: list[tuple[int, str, dict[str, list[Any]]]] = field(default_factory=list)
    new_people: list[PersonIn] = field(default_factory=list)
    person_updates: list[tuple[int, str, dict[str, list[Any]]]] = field(default_factory=list)
    new_phones: list[tuple[PersonIn | int, str, bool]] = field(default_factory=list)
    new_occupancies: list[tuple[OccupancyIn, dict[str, Any]]] = field(default_factory=list)
    occupancy_updates: list[tuple[int, str, dict[str, list[Any]]]] = field(default_factory=list)
    new_buildings: list[str] = field(default_factory=list)
    new_units: int = 0
    warnings: list[RowError] = field(default_factory=list)  # shown, never blocking
    rooms_without_area: list[str] = field(default_factory=list)
    developer_offer: tuple[PersonIn, list[str]] | None = None
    counts: dict[str, dict[str, int]] = field(
        default_factory=lambda: {
            kind: {"created": 0, "updated": 0, "unchanged": 0}
            for kind in ("rooms", "people", "phones", "occupancies")
        }
    )


def _changes(stored: dict[str, Any], given: dict[str, Any]) -> dict[str, list[Any]]:
    return {k: [stored.get(k), v] for k, v in given.items() if stored.get(k) != v}


def _plan_rooms(parsed: Parsed, db: Stored, plan: Plan, errors: list[RowError]) -> None:
    counts = plan.counts["rooms"]
    for room in parsed.rooms.values():
        stored = db.rooms.get(room.code)
        if stored is None:
            values = {**room.values}
            values.setdefault("handed_over", True)
            problem = room_values_problem(values)
            if problem:
                errors.append(room.where.error(*problem))
                continue
            plan.new_rooms.append(room)
            counts["created"] += 1
            _warn_without_area(plan, room, values.get("gross_area"))
            continue
        changes = _changes(stored, room.values)
        # Not handed over means vacant; say so rather than let the database refuse.
        if (
            changes.get("handed_over", [None, True])[1] is False
            and "occupancy_state" not in room.values
            and stored["occupancy_state"] != OccupancyState.VACANT
        ):
            changes["occupancy_state"] = [stored["occupancy_state"], OccupancyState.VACANT]
        problem = room_values_problem({**stored, **{k: v[1] for k, v in changes.items()}})
        if problem:
            errors.append(room.where.error(*problem))
            continue
        if changes:
            plan.room_updates.append((stored["id"], room.code, changes))
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
        _warn_without_area(plan, room, room.values.get("gross_area", stored["gross_area"]))
    _plan_buildings(plan, db)


def _warn_without_area(plan: Plan, room: RoomIn, area: Any) -> None:
    """A room without area bills nothing for fees charged by area: say so, and list it."""
    if area is None:
        plan.rooms_without_area.append(room.code)
        plan.warnings.append(
            room.where.error(
                "gross_area", f"房屋 {room.code} 没有面积，按面积计费的收费项目对它不会产生账单"
            )
        )


def _handed_over(room: RoomIn, db: Stored) -> bool:
    stored = db.rooms.get(room.code)
    return room.values.get("handed_over", stored["handed_over"] if stored else True)


def _developer_offer(parsed: Parsed, db: Stored) -> tuple[PersonIn, list[str]] | None:
    """The organisation owning rooms not handed over (未收楼), to offer as the project's developer
    (开发建设单位), who pays for those rooms; None when the project has one or no such owner."""
    if db.developer_id is not None:
        return None
    unsold = {code for code, room in parsed.rooms.items() if not _handed_over(room, db)}
    owned: dict[int, tuple[PersonIn, list[str]]] = {}
    for occ in parsed.occupancies:
        if occ.role == OccupancyRole.OWNER and occ.code in unsold and occ.person.organisation:
            rooms = owned.setdefault(id(occ.person), (occ.person, []))[1]
            if occ.code not in rooms:
                rooms.append(occ.code)
    if not owned:
        return None
    person, rooms = max(owned.values(), key=lambda offer: len(offer[1]))
    return person, sorted(rooms)


def _plan_buildings(plan: Plan, db: Stored) -> None:
    buildings = {r.building for r in plan.new_rooms} - db.buildings
    plan.new_buildings = sorted(buildings, key=lambda b: (not b.isdigit(), b.zfill(10)))
    units = {(r.building, r.unit) for r in plan.new_rooms if r.unit}
    plan.new_units = len(units - db.units)


def _match_person(person: PersonIn, db: Stored) -> DbPerson | None:
    candidates = db.people.get(person.key, [])
    if not candidates:
        return None
    room_ids = {db.rooms[c]["id"] for c in person.rooms if c in db.rooms}
    sharing = [c for c in candidates if c.phones & set(person.phones)]
    on_room = [c for c in candidates if c.room_ids & room_ids]
    best = [c for c in sharing if c in on_room] or sharing or on_room
    if not best and person.organisation and len(candidates) == 1 and not person.phones:
        return candidates[0]  # an organisation's name is its identity (a developer's unsold rooms)
    return best[0] if best else None


def _plan_people(parsed: Parsed, db: Stored, plan: Plan) -> None:
    matched: dict[int, list[PersonIn]] = defaultdict(list)
    for person in parsed.people.all:
        found = _match_person(person, db)
        if found is None:
            _plan_new_person(person, plan)
        else:
            person.db_id = found.id
            matched[found.id].append(person)
    for person_id, group in matched.items():
        _plan_known_person(db.people_by_id[person_id], group, plan)


def _plan_new_person(person: PersonIn, plan: Plan) -> None:
    plan.new_people.append(person)
    plan.counts["people"]["created"] += 1
    for index, number in enumerate(person.phones):
        plan.new_phones.append((person, number, index == 0))
        plan.counts["phones"]["created"] += 1


def _plan_known_person(stored: DbPerson, group: list[PersonIn], plan: Plan) -> None:
    values: dict[str, Any] = {}
    phones: list[str] = []
    for person in group:  # one person named in several rows: the first row's value wins
        for key, value in person.values.items():
            values.setdefault(key, value)
        phones.extend(p for p in person.phones if p not in phones)
    note = next((p.name_note for p in group if p.name_note), "")
    if note and "notes" not in values and not stored.values.get("notes"):
        values["notes"] = note  # a note beside the name fills an empty note, never replaces one
    changes = _changes(stored.values, values)
    if changes:
        plan.person_updates.append((stored.id, stored.name, changes))
        plan.counts["people"]["updated"] += 1
    else:
        plan.counts["people"]["unchanged"] += 1
    new_numbers = [p for p in phones if p not in stored.phones]
    plan.counts["phones"]["unchanged"] += len(phones) - len(new_numbers)
    for index, number in enumerate(new_numbers):
        plan.new_phones.append((stored.id, number, not stored.phones and index == 0))
        plan.counts["phones"]["created"] += 1


def _plan_occupancies(parsed: Parsed, db: Stored, plan: Plan, errors: list[RowError]) -> None:
    seen: set[tuple[str, object, str]] = set()
    claims: dict[str, list[tuple[OccupancyIn, int | None]]] = defaultdict(
        list
    )  # who pays, per room
    released: set[int] = set()  # stored payer occupancies the file turns off
    for occ in parsed.occupancies:
        target: object = occ.person.db_id or id(occ.person)
        if (occ.code, target, occ.role) in seen:
            continue
        seen.add((occ.code, target, occ.role))
        room = db.rooms.get(occ.code)
        if room is None and occ.code not in parsed.rooms:
            errors.append(
                occ.where.error("code", f"房号 {occ.code} 不在「房屋」表中，系统中也没有")
            )
            continue
        stored = db.occupancies.get((room["id"], occ.person.db_id, occ.role)) if room else None
        if stored is None:
            values = {"start_date": None, "is_payer": False, **occ.values}
            plan.new_occupancies.append((occ, values))
            plan.counts["occupancies"]["created"] += 1
            if values["is_payer"]:
                claims[occ.code].append((occ, None))
            continue
        changes = _changes(stored, occ.values)
        if changes:
            plan.occupancy_updates.append((stored["id"], f"{occ.code} {occ.person.name}", changes))
            plan.counts["occupancies"]["updated"] += 1
        else:
            plan.counts["occupancies"]["unchanged"] += 1
        pays = occ.values.get("is_payer", stored["is_payer"])
        if stored["is_payer"] and not pays:
            released.add(stored["id"])
        if pays:
            claims[occ.code].append((occ, stored["id"]))
    for code, room_claims in claims.items():
        errors.extend(_payer_problems(code, room_claims, released, db))


def _payer_problems(
    code: str, claims: list[tuple[OccupancyIn, int | None]], released: set[int], db: Stored
) -> list[RowError]:
    """One current payer per room: the file may keep or move it, never add a second one."""
    first, first_id = claims[0]
    problems = [
        occ.where.error(
            "is_payer", f"与第{first.where.row}行同为房屋 {code} 的缴费人，一户只能有一个缴费人"
        )
        for occ, _ in claims[1:]
    ]
    room = db.rooms.get(code)
    current = db.payers.get(room["id"]) if room else None
    if current and current["id"] != first_id and current["id"] not in released:
        name = db.people_by_id[current["person_id"]].name
        problems.append(
            first.where.error(
                "is_payer",
                f"房屋 {code} 已有缴费人“{name}”，一户只能有一个缴费人（请先在房屋页面结束原缴费关系）",
            )
        )
    return problems


def make_plan(
    parsed: Parsed, project: Project, *, record_developer: bool = False
) -> tuple[Plan, list[RowError]]:
    """What a commit would write, and the problems only the database can reveal.

    ``record_developer``: the user accepted the preview's offer to record the organisation owning
    the unsold rooms as the project's developer.
    """
    db = _load(project)
    plan = Plan()
    errors: list[RowError] = []
    _plan_rooms(parsed, db, plan, errors)
    plan.developer_offer = _developer_offer(parsed, db)
    if record_developer and plan.developer_offer:
        person = plan.developer_offer[0]
        person.values.update(is_developer=True, kind=PersonKind.ORGANISATION)
    _plan_people(parsed, db, plan)
    _plan_occupancies(parsed, db, plan, errors)
    return plan, errors
