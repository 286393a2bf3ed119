"""Reads of the registry: search as you type, the household file, browsing, the payer of a room."""

from __future__ import annotations

import contextlib
import datetime
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string

from wuye.core.models import Project
from wuye.core.sorting import natural_order, natural_sort_key
from wuye.core.sql import fetch, table
from wuye.registry.enums import OPEN_ISSUE_STATES, OccupancyRole
from wuye.registry.models import (
    Building,
    LegacyIssue,
    Occupancy,
    Person,
    Phone,
    Room,
    ServiceTicket,
    Unit,
)
from wuye.registry.normalize import parse_room_code, room_code, search_text


def prefix_range(field_name: str, prefix: str) -> Q:
    """``field LIKE 'prefix%'`` written as a range so a plain B-tree index answers it."""
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return Q(**{f"{field_name}__gte": prefix, f"{field_name}__lt": upper})


@dataclass
class SearchHit:
    room_id: int
    code: str
    building: str
    people: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    matched: str = ""
    arrears: object = None  # the upper apps' RoomArrears (settings.WUYE_ROOM_ARREARS), when asked


@dataclass
class SearchPage:
    hits: list[SearchHit]
    more: bool  # the search found more than it shows
    limit: int


def room_arrears(project_id: int, room_ids: list[int], user=None) -> dict:
    """``{room_id: RoomArrears}`` from the app named by ``settings.WUYE_ROOM_ARREARS`` (the registry
    knows no ledger); ``{}`` when the setting is empty."""
    path = getattr(settings, "WUYE_ROOM_ARREARS", "")
    if not path or not room_ids:
        return {}
    return import_string(path)(project_id=project_id, room_ids=room_ids, user=user)


_ASCII_LETTERS = re.compile(r"^[a-z]+$")
_HAS_CJK = re.compile(r"[\u3400-\u9fff]")

# Phone-number search: roles that see phone numbers masked (138****1234) search by at most this many
# last digits: a search by the full number would confirm a number they are not allowed to see
# (《个人信息保护法》第六条).
PHONE_TAIL_DIGITS = 4
# At most this many phones of the company are read for one tail (four digits match about one phone in
# 10,000: this covers 50 M phones).
PHONE_TAIL_SCAN = 5000
# Phones read per person found (a hit shows two of its room's): a bound for the LIMIT below.
PHONES_READ_PER_PERSON = 10

# What each branch of the look-up statement found (its first column).
_BY_CODE, _BY_NUMBER, _BY_NAME, _BY_PHONE = 0, 1, 2, 3


def _bounds(prefix: str) -> tuple[str, str]:
    """``key LIKE 'prefix%'`` as the range ``[prefix, upper)`` (``prefix_range``)."""
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _branches(project_id: int, text: str, limit: int, full_phone: bool) -> list[tuple[str, list]]:
    """The look-ups a text asks for, each ``(SQL, params)`` selecting ``(branch, id, number, a, b)``:
    every one a range of its own (project, key …) index read in that index's order with a LIMIT.

    * room codes (``3-2-15``, ``3栋2单元``): rooms by ``code_key``, in natural order (``code_sort``);
    * room numbers (``1502``, three characters or more): "every 1502 of the project" is thousands
      of rooms in a project of a million — read in the order of the (project, number_rev,
      code_sort) index, the exact number first and each number in natural order, so the LIMIT
      stops the scan;
    * names (Chinese) or pinyin initials and pinyin (letters): people by each key, in (key, id)
      order — the order of the (project, key, id) index: 20 entries read, not every person of a
      common initial. One range per key: an OR of two ranges let PostgreSQL walk the name index;
    * phone tails (four digits, or more for ``full_phone``): the phones with that tail in the
      whole company (a range of the number_rev index, about one phone in 10,000), then their
      people by primary key with their project, which is tested in Python: in SQL a planner
      without statistics ANDs the project's whole project_id index (1.4 M people) with the few
      keys."""
    room, person, phone = table(Room), table(Person), table(Phone)
    branches: list[tuple[str, list]] = []
    ranges = []
    with contextlib.suppress(ValueError):
        ranges.append(_bounds(room_code(*parse_room_code(text)).lower()))
    if not _HAS_CJK.search(text):
        ranges.append(_bounds(text))
    if ranges:
        where = " OR ".join(["(code_key >= %s AND code_key < %s)"] * len(ranges))
        branches.append(
            (
                f"SELECT {_BY_CODE}, id, CAST(NULL AS BIGINT), code_sort, code_key FROM {room} "  # noqa: S608
                f"WHERE project_id = %s AND ({where}) ORDER BY code_sort, code_key, id LIMIT %s",
                [project_id, *(bound for pair in ranges for bound in pair), limit],
            )
        )
    if text.isalnum() and not _HAS_CJK.search(text) and len(text) >= 3:
        branches.append(
            (
                f"SELECT {_BY_NUMBER}, id, CAST(NULL AS BIGINT), code_sort, code_key "  # noqa: S608
                f"FROM {room} WHERE project_id = %s AND number_rev >= %s AND number_rev < %s "
                "ORDER BY number_rev, code_sort, id LIMIT %s",
                [project_id, *_bounds(text[::-1]), limit],
            )
        )
    if _HAS_CJK.search(text):
        keys = ["name_key"]
    elif _ASCII_LETTERS.match(text):
        keys = ["name_initials", "name_pinyin"]
    else:
        keys = []
    for key in keys:  # column names of the model, never the text
        branches.append(
            (
                f"SELECT {_BY_NAME}, id, CAST(NULL AS BIGINT), name_key, CAST(NULL AS TEXT) "  # noqa: S608
                f"FROM {person} WHERE project_id = %s AND {key} >= %s AND {key} < %s "
                f"ORDER BY {key}, id LIMIT %s",
                [project_id, *_bounds(text), limit],
            )
        )
    digits = text.isdigit() and len(text) >= 4
    if digits and (full_phone or len(text) <= PHONE_TAIL_DIGITS):
        branches.append(
            (
                f"SELECT {_BY_PHONE}, id, project_id, CAST(NULL AS TEXT), CAST(NULL AS TEXT) "  # noqa: S608
                f"FROM {person} WHERE id IN (SELECT person_id FROM {phone} "
                "WHERE number_rev >= %s AND number_rev < %s ORDER BY number_rev LIMIT %s)",
                [*_bounds(text[::-1]), PHONE_TAIL_SCAN],
            )
        )
    return branches


def _look_up(
    project_id: int, text: str, limit: int, full_phone: bool
) -> tuple[list[int], list[int]]:
    """(room ids, person ids) matching the text, from every look-up in ONE statement: a UNION ALL
    of index range scans, each planned on its own. A search was seven or eight statements, and on
    a busy machine the wait between them was most of its time."""
    branches = _branches(project_id, text, limit, full_phone)
    if not branches:
        return [], []
    # Each branch is SQL of _branches (model tables and columns); the values are parameters.
    sql = " UNION ALL ".join(
        f"SELECT * FROM ({part}) AS b{n}"  # noqa: S608
        for n, (part, _) in enumerate(branches)
    )
    params = [value for _, values in branches for value in values]
    rooms: dict[int, tuple[str, str]] = {}
    names: dict[int, str] = {}
    phones: list[int] = []
    for branch, pk, owner_project, a, b in fetch(sql, params):
        if branch in (_BY_CODE, _BY_NUMBER):
            rooms[pk] = (a, b)
        elif branch == _BY_NAME:
            names[pk] = a
        elif owner_project == project_id:
            phones.append(pk)
    room_ids = sorted(rooms, key=lambda pk: (*rooms[pk], pk))[:limit]
    person_ids = sorted(names, key=lambda pk: (names[pk], pk))[:limit]
    return room_ids, person_ids + sorted(set(phones))[:limit]


def _rooms_with_people(room_ids: list[int]) -> dict[int, tuple[str, str, list[tuple[int, str]]]]:
    """room id → (code, building, [(person id, name) of its current occupancies by role, id]), in one
    statement: each room by primary key, its current occupancies by the room's index."""
    marks = ", ".join(["%s"] * len(room_ids))
    sql = (
        f"SELECT r.id, r.code, b.name, p.id, p.name FROM {table(Room)} r "  # noqa: S608
        f"JOIN {table(Building)} b ON b.id = r.building_id "
        f"LEFT JOIN {table(Occupancy)} o ON o.room_id = r.id AND o.end_date IS NULL "
        f"LEFT JOIN {table(Person)} p ON p.id = o.person_id "
        f"WHERE r.id IN ({marks}) ORDER BY r.id, o.role, o.id"
    )
    found: dict[int, tuple[str, str, list[tuple[int, str]]]] = {}
    for room_id, code, building, person_id, name in fetch(sql, list(room_ids)):
        entry = found.setdefault(room_id, (code, building, []))
        if person_id is not None:
            entry[2].append((person_id, name))
    return found


def _phones_of(person_ids: set[int]) -> dict[int, list[str]]:
    """The found people's phones, primary first. Read in person_id order with a LIMIT: without one,
    a planner without statistics expects a list of 30 people to match a sixth of the company's
    phones and reads them all (250 ms at 1,000,000 rooms); with it, the person_id index."""
    if not person_ids:
        return {}
    rows = (
        Phone.objects.filter(person_id__in=sorted(person_ids))
        .order_by("person_id")
        .values_list("person_id", "is_primary", "id", "number")
    )[: len(person_ids) * PHONES_READ_PER_PERSON]
    found: dict[int, list[str]] = {}
    for person_id, _primary, _pk, number in sorted(rows, key=lambda r: (r[0], not r[1], r[2])):
        found.setdefault(person_id, []).append(number)
    return found


def search_households(
    *, project: Project | int, text: str, limit: int | None = None, full_phone: bool = False
) -> list[SearchHit]:
    """Rooms matching a room code, a room number, a name, pinyin initials or a phone's last digits.

    By default a phone is matched by its last ``PHONE_TAIL_DIGITS`` digits only; ``full_phone`` (for
    users who see phone numbers, ``core.scope.can_see_phones``) allows longer digit strings.

    At most four statements whatever the text, each made of index range scans with a limit: the
    look-ups (``_look_up``), the rooms of the people found, the rooms with their current
    occupants, and those people's phones.
    """
    project_id = project.pk if isinstance(project, Project) else project
    limit = limit or settings.WUYE_SEARCH_LIMIT
    text = search_text(text)
    if not text:
        return []
    room_ids, person_ids = _look_up(project_id, text, limit, full_phone)
    matched_by_person: dict[int, str] = {}
    if person_ids:
        # Cut in Python, not by LIMIT: with a LIMIT a planner without statistics walks the room
        # index in order and tests every current occupancy of the company against these few people
        # (a second at 1,000,000 rooms); without one it reads their few rows by person.
        rows = (
            Occupancy.objects.filter(person_id__in=person_ids, end_date__isnull=True)
            .order_by("room_id")
            .values_list("room_id", "person__name")
        )
        for room_id, name in list(rows)[: limit * 2]:
            matched_by_person.setdefault(room_id, name)
    ordered_ids = list(dict.fromkeys([*room_ids, *matched_by_person]))[:limit]
    if not ordered_ids:
        return []
    rooms = _rooms_with_people(ordered_ids)
    phones = _phones_of({pk for _, _, people in rooms.values() for pk, _ in people})
    hits = []
    for room_id in ordered_ids:
        code, building, people = rooms[room_id]
        hits.append(
            SearchHit(
                room_id=room_id,
                code=code,
                building=building,
                people=list(dict.fromkeys(name for _, name in people)),
                phones=[number for pk, _ in people for number in phones.get(pk, [])][:2],
                matched=matched_by_person.get(room_id, ""),
            )
        )
    return hits


def search_page(
    *,
    project: Project | int,
    text: str,
    full_phone: bool = False,
    user=None,
    limit: int | None = None,
) -> SearchPage:
    """``search_households`` cut at ``limit`` (default ``WUYE_SEARCH_LIMIT``), saying whether more
    matched, each hit with what its room owes. Two more queries than the search itself."""
    project_id = project.pk if isinstance(project, Project) else project
    limit = limit or settings.WUYE_SEARCH_LIMIT
    hits = search_households(project=project_id, text=text, limit=limit + 1, full_phone=full_phone)
    more, hits = len(hits) > limit, hits[:limit]
    arrears = room_arrears(project_id, [h.room_id for h in hits], user)
    for hit in hits:
        hit.arrears = arrears.get(hit.room_id)
    return SearchPage(hits, more, limit)


def room_payer(room: Room, on: datetime.date | None = None) -> Person | None:
    """Who owes the room's fees on a date: the developer before handover (物业管理条例 art. 41),
    then the occupancy marked as payer, else the owner."""
    on = on or timezone.localdate()
    if not room.handed_over or (room.handover_date and on < room.handover_date):
        return Person.objects.filter(project_id=room.project_id, is_developer=True).first()
    current = Occupancy.objects.filter(
        Q(start_date__isnull=True) | Q(start_date__lte=on),
        Q(end_date__isnull=True) | Q(end_date__gte=on),
        room=room,
    ).select_related("person")
    payer = (
        current.filter(is_payer=True).first() or current.filter(role=OccupancyRole.OWNER).first()
    )
    return payer.person if payer else None


@dataclass
class Household:
    room: Room
    current: list[Occupancy]
    past: list[Occupancy]
    payer: Person | None
    legacy_issues: list[LegacyIssue]
    tickets: list[ServiceTicket]
    open_issue_count: int
    open_ticket_count: int


def household_file(room_id: int, project_ids: list[int]) -> Household | None:
    """Everything on the household page (一户一档), in a fixed number of queries."""
    room = (
        Room.objects.filter(id=room_id, project_id__in=project_ids)
        .select_related("project", "building", "unit")
        .prefetch_related(
            Prefetch(
                "occupancies",
                queryset=Occupancy.objects.select_related("person")
                .prefetch_related("person__phones")
                .order_by("role", "id"),
                to_attr="all_occupancies",
            ),
            Prefetch(
                "legacy_issues",
                queryset=LegacyIssue.objects.prefetch_related("events__user"),
                to_attr="issue_list",
            ),
            Prefetch("tickets", queryset=ServiceTicket.objects.all(), to_attr="ticket_list"),
            "parking_spaces",
        )
        .first()
    )
    if room is None:
        return None
    current = [o for o in room.all_occupancies if o.end_date is None]
    past = [o for o in room.all_occupancies if o.end_date is not None]
    return Household(
        room=room,
        current=current,
        past=past,
        payer=room_payer(room),
        legacy_issues=room.issue_list,
        tickets=room.ticket_list,
        open_issue_count=sum(1 for i in room.issue_list if i.state in OPEN_ISSUE_STATES),
        open_ticket_count=sum(1 for t in room.ticket_list if t.state in ("open", "processing")),
    )


def buildings_with_counts(project: Project) -> QuerySet[Building]:
    return (
        Building.objects.filter(project=project)
        .select_related("steward")
        .annotate(
            room_count=Count("rooms"),
            vacant_count=Count("rooms", filter=Q(rooms__occupancy_state="vacant")),
            not_handed_over_count=Count("rooms", filter=Q(rooms__handed_over=False)),
        )
        .order_by("sort", *natural_order("code"))
    )


@dataclass
class FloorRow:
    floor: int | None  # None: rooms whose floor is not recorded
    rooms: list[Room]


@dataclass
class UnitFloors:
    unit: Unit | None
    floors: list[FloorRow]
    room_count: int


def units_with_rooms(building: Building, user=None) -> list[UnitFloors]:
    """Rooms of a building as they hang on the board: unit by unit (in natural order), one row per
    floor from the top down, rooms along the row in natural order (1801 1802 1803 1804, then 1701 …).
    Each room carries ``arrears`` (settings.WUYE_ROOM_ARREARS). Three or four queries in all."""
    rooms = list(Room.objects.filter(building=building).select_related("unit"))
    arrears = room_arrears(building.project_id, [r.id for r in rooms], user)
    for room in rooms:
        room.arrears = arrears.get(room.id)
    rooms.sort(
        key=lambda r: (
            natural_sort_key(r.unit.code if r.unit else ""),
            r.floor is None,
            -(r.floor or 0),
            natural_sort_key(r.number),
        )
    )
    units: dict[int | None, UnitFloors] = {}
    for room in rooms:
        group = units.setdefault(room.unit_id, UnitFloors(room.unit, [], 0))
        if not group.floors or group.floors[-1].floor != room.floor:
            group.floors.append(FloorRow(room.floor, []))
        group.floors[-1].rooms.append(room)
        group.room_count += 1
    return list(units.values())


def project_overview(project: Project) -> dict[str, int]:
    """Counts for the project's home page, in three aggregate queries."""
    rooms = Room.objects.filter(project=project).aggregate(
        rooms=Count("id"),
        handed_over_rooms=Count("id", filter=Q(handed_over=True)),
        not_handed_over_rooms=Count("id", filter=Q(handed_over=False)),
        vacant_rooms=Count("id", filter=Q(occupancy_state="vacant")),
        rented_rooms=Count("id", filter=Q(occupancy_state="rented")),
    )
    return {
        **rooms,
        "buildings": Building.objects.filter(project=project).count(),
        "people": Person.objects.filter(project=project, is_developer=False).count(),
        "open_issues": LegacyIssue.objects.filter(
            project=project, state__in=OPEN_ISSUE_STATES
        ).count(),
        "open_tickets": ServiceTicket.objects.filter(
            project=project, state__in=("open", "processing")
        ).count(),
    }
