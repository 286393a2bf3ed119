"""导入 — what the file says: the workbook's layout (template or flat) found, each row parsed into rooms,
people and occupancies, with every bad cell as a row error (row number and column)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from wuye.core.errors import ValidationFailed
from wuye.core.importing import (
    HEADER_SEARCH_ROWS,
    XLSX,
    Layout,
    RowError,
    RowStream,
    Sheet,
    SheetSpec,
    Where,
    auto_mapping,
    find_header,
    make_layout,
    mapping_errors,
    read_sheets,
)
from wuye.core.importing import Row as _Row
from wuye.core.masking import mask_id_number
from wuye.registry.enums import (
    IdType,
    OccupancyRole,
    OccupancyState,
)
from wuye.registry.import_columns import (
    FLAT,
    ROOMS,
    TEMPLATE_SHEETS,
    _id_type,
    _kind,
    _name,
    _names,
    _phones,
    _role,
    _show_names,
    _state,
    _text,
    _use,
    looks_like_organisation,
    name_key,
)
from wuye.registry.models import (
    ImportKind,
)
from wuye.registry.normalize import (
    cell_text,
    halfwidth,
    looks_like_id_card,
    normalize_id_number,
    parse_area,
    parse_date,
    parse_floor,
    parse_room_code,
    parse_yes_no,
    room_code,
)

# --- what the file says --------------------------------------------------------------------------


@dataclass(eq=False)
class RoomIn:
    code: str
    building: str
    unit: str
    number: str
    values: dict[str, Any]  # only what the file gives; blank cells leave stored values alone
    where: Where


@dataclass(eq=False)
class PersonIn:
    name: str
    phones: list[str]
    values: dict[str, Any]
    where: Where
    rooms: set[str] = field(default_factory=set)
    db_id: int | None = None
    name_note: str = ""  # written beside the name in its cell; never overwrites a stored note

    @property
    def key(self) -> str:
        return name_key(self.name)

    @property
    def organisation(self) -> bool:
        return looks_like_organisation(self.name)


@dataclass(eq=False)
class OccupancyIn:
    code: str
    person: PersonIn
    role: str
    values: dict[str, Any]
    where: Where


def _show_list(values: list[str]) -> str:
    return "/".join(values)


def _show_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


# --- reading the workbook ------------------------------------------------------------------------


UNREADABLE = (
    "无法读取文件：请上传 Excel 2007 及以后的 .xlsx 文件（旧的 .xls 请先在 Excel 中另存为 .xlsx）"
)


def _read_workbook(content: bytes) -> list[Sheet]:
    return read_sheets(content, (XLSX,), unreadable=UNREADABLE)


def _find_header(sheet: Sheet, spec: SheetSpec) -> tuple[int, dict[int, str], int]:
    guess = find_header(sheet, spec, HEADER_SEARCH_ROWS)
    return guess.row, guess.headers, guess.score


def _detect(sheets: list[Sheet]) -> tuple[str, list[tuple[SheetSpec, Sheet]]]:
    sheets = [s for s in sheets if s.rows]
    if not sheets:
        raise ValidationFailed("文件中没有数据", code="import.empty")
    by_title = {re.sub(r"\s+", "", halfwidth(s.title)): s for s in sheets}
    template = [(spec, by_title[spec.title]) for spec in TEMPLATE_SHEETS if spec.title in by_title]
    if template and not _rooms_sheet_is_flat(template):
        return ImportKind.TEMPLATE, template
    scored = [(_find_header(s, FLAT)[2], -i, s) for i, s in enumerate(sheets)]
    return ImportKind.FLAT, [(FLAT, max(scored, key=lambda t: (t[0], t[1]))[2])]


def _rooms_sheet_is_flat(template: list[tuple[SheetSpec, Sheet]]) -> bool:
    """A lone sheet called 房屋 that carries owner columns is an old system's flat export."""
    if len(template) != 1 or template[0][0] is not ROOMS:
        return False
    _, headers, _ = _find_header(template[0][1], FLAT)
    return "owner_name" in auto_mapping(FLAT, headers)


def _layouts(
    kind: str, chosen: list[tuple[SheetSpec, Sheet]], mapping: dict | None, errors: list[RowError]
) -> list[Layout]:
    layouts = []
    for spec, sheet in chosen:
        wanted = (mapping or {}).get(sheet.title)
        layout = make_layout(spec, sheet, wanted, named=kind == ImportKind.TEMPLATE)
        errors.extend(mapping_errors(layout))
        layouts.append(layout)
    return layouts


# --- parsing rows --------------------------------------------------------------------------------


class _People:
    """The people of a file, one object per person however many rows mention them."""

    def __init__(self) -> None:
        self.all: list[PersonIn] = []
        self._listed: dict[str, list[PersonIn]] = defaultdict(list)  # rows of the 客户 sheet
        self._by_phone: dict[tuple[str, str], PersonIn] = {}
        self._by_room: dict[tuple[str, str], PersonIn] = {}
        self._organisations: dict[str, PersonIn] = {}  # by name key

    def add_listed(self, person: PersonIn) -> str | None:
        """Adds a row of the 客户 sheet; returns the reason when it repeats an earlier row."""
        for other in self._listed[person.key]:
            if set(other.phones) & set(person.phones):
                return f"与第{other.where.row}行是同一客户（姓名和电话相同）"
            if not other.phones and not person.phones:
                return f"与第{other.where.row}行同名且都没有电话，无法区分"
        self._listed[person.key].append(person)
        self.all.append(person)
        return None

    def resolve(self, name: str, phones: list[str]) -> PersonIn | None:
        """The 客户-sheet person a 房屋关系 row means; None when the sheet has nobody of that name."""
        candidates = self._listed.get(name_key(name), [])
        if not candidates:
            return None
        sharing = [c for c in candidates if set(c.phones) & set(phones)]
        if sharing:
            return sharing[0]
        if len(candidates) == 1:
            return candidates[0]
        without_phone = [c for c in candidates if not c.phones]
        if not phones and len(without_phone) == 1:
            return without_phone[0]
        raise ValueError(
            f"「客户」表中有 {len(candidates)} 位“{name}”，请在「电话」中填写其中一位的电话以区分"
        )

    def mention(
        self,
        *,
        name: str,
        phones: list[str],
        values: dict[str, Any],
        room: str,
        where: Where,
        note: str = "",
    ) -> PersonIn:
        """A person named in a room's row: the same name with a shared phone, or the same name on the
        same room when either has no phone, is the same person. An organisation (a developer holding
        unsold rooms) is one person on every row of its name when either has no phone."""
        key = name_key(name)
        found = next((self._by_phone[(key, p)] for p in phones if (key, p) in self._by_phone), None)
        if found is None:
            on_room = self._by_room.get((key, room))
            if on_room is not None and (not phones or not on_room.phones):
                found = on_room
        if found is None and looks_like_organisation(name):
            known = self._organisations.get(key)
            if known is not None and (not phones or not known.phones):
                found = known
        if found is None:
            found = PersonIn(name=name, phones=[], values={}, where=where)
            self.all.append(found)
        if found.organisation:
            self._organisations.setdefault(key, found)
        found.name_note = found.name_note or note
        found.phones.extend(p for p in phones if p not in found.phones)
        for k, v in values.items():
            found.values.setdefault(k, v)
        found.rooms.add(room)
        for p in found.phones:
            self._by_phone[(key, p)] = found
        self._by_room[(key, room)] = found
        return found


@dataclass
class Parsed:
    kind: str
    layouts: list[Layout]
    errors: list[RowError]
    rooms: dict[str, RoomIn] = field(default_factory=dict)
    people: _People = field(default_factory=_People)
    occupancies: list[OccupancyIn] = field(default_factory=list)
    bad_codes: set[str] = field(default_factory=set)  # rooms whose rows failed: no second error
    bad_names: set[str] = field(default_factory=set)
    code_rows: dict[str, int] = field(default_factory=dict)  # room code → first row with it
    preview: list[dict[str, Any]] = field(default_factory=list)
    data_rows: int = 0
    readable: bool = True  # False when key columns are missing and no row could be read


def _rows(parsed: Parsed, layout: Layout) -> Iterable[_Row]:
    stream = RowStream(layout, parsed.errors)  # blank and 合计/小计 rows skipped
    for row in stream:
        parsed.data_rows += 1
        yield row
    parsed.preview.append(stream.preview())


def _room_code_parts(row: _Row) -> tuple[str, str, str] | None:
    """The code cell, or 楼栋 + 单元 + 房号 columns as many old systems keep them."""
    building = (
        halfwidth(cell_text(row.raw("building"))).replace(" ", "") if row.has("building") else ""
    )
    unit = halfwidth(cell_text(row.raw("unit"))).replace(" ", "") if row.has("unit") else ""
    text = cell_text(row.raw("code"))
    if not text:
        row.fail("code", "房号为空")
        return None
    try:
        parts = parse_room_code(text)
        if not building or parts[0] == re.sub(r"(号楼|栋|幢|座|号|#)$", "", building).upper():
            return parts
    except ValueError as exc:
        if not building:
            row.fail("code", str(exc))
            row.display["code"] = text
            return None
    composed = "-".join(
        p
        for p in (
            re.sub(r"(号楼|栋|幢|座|号|#)$", "", building),
            re.sub(r"(单元|号)$", "", unit),
            re.sub(r"(室|号|房)$", "", halfwidth(text).replace(" ", "")),
        )
        if p
    )
    try:
        return parse_room_code(composed)
    except ValueError:
        row.fail("code", f"楼栋“{building}”、单元“{unit}”、房号“{text}”拼不成有效的房号")
        row.display["code"] = composed
        return None


def _room_code_checked(row: _Row, parts: tuple[str, str, str]) -> str | None:
    code = room_code(*parts)
    if len(code) > 40 or len(parts[0]) > 20 or len(parts[1]) > 20 or len(parts[2]) > 20:
        row.fail("code", f"房号“{code}”过长")
        return None
    row.display["code"] = code
    return code


_ROOM_PARSERS: tuple[tuple[str, Callable[[object], Any], Callable[[Any], str] | None], ...] = (
    ("floor", parse_floor, _show_value),
    ("gross_area", parse_area, _show_value),
    ("inner_area", parse_area, _show_value),
    ("use", _use, None),
    ("handed_over", parse_yes_no, _show_value),
    ("handover_date", parse_date, _show_value),
    ("note", _text(200), None),
)


def _parse_room(row: _Row) -> RoomIn | None:
    parts = _room_code_parts(row)
    code = _room_code_checked(row, parts) if parts else None
    values: dict[str, Any] = {}
    for key, parser, show in _ROOM_PARSERS:
        if row.has(key):
            value = row.parse(key, parser, show)
            if value is not None and value != "":
                values[key] = value
    if row.has("occupancy_state"):
        state, handed = row.parse("occupancy_state", _state) or (None, None)
        if state:
            values["occupancy_state"] = state
        if handed is not None:
            values.setdefault("handed_over", handed)
    _check_room_values(row, values)
    if code is None or parts is None:
        return None
    return RoomIn(code, parts[0], parts[1], parts[2], values, row.where)


def _check_room_values(row: _Row, values: dict[str, Any]) -> None:
    message = room_values_problem(values)
    if message:
        row.fail(message[0], message[1])


def room_values_problem(values: dict[str, Any]) -> tuple[str, str] | None:
    """(field, reason) when a room's values contradict each other, as the database would refuse."""
    gross, inner = values.get("gross_area"), values.get("inner_area")
    if gross is not None and inner is not None and inner > gross:
        return "inner_area", f"套内面积 {inner} 大于建筑面积 {gross}"
    state = values.get("occupancy_state")
    if values.get("handed_over") is False and state and state != OccupancyState.VACANT:
        label = OccupancyState(state).label
        return "occupancy_state", f"未收楼的房屋使用状态只能是“空置”，不能是“{label}”"
    return None


def _register_room(parsed: Parsed, row: _Row, room: RoomIn | None) -> bool:
    """Keeps a good room; a code seen before in the file, even on a bad row, is an error here."""
    if room is None:
        return False
    first = parsed.code_rows.setdefault(room.code, row.number)
    if first != row.number:
        row.fail("code", f"房号 {room.code} 与第{first}行重复")
        return False
    if not row.ok:
        parsed.bad_codes.add(room.code)
        return False
    parsed.rooms[room.code] = room
    return True


def _parse_flat(parsed: Parsed, layout: Layout) -> None:
    for row in _rows(parsed, layout):
        room = _parse_room(row)
        owners = _parse_people_cells(row, "owner_name", "owner_phone", "owner_id_number")
        tenants = _parse_people_cells(row, "tenant_name", "tenant_phone", None)
        if not _register_room(parsed, row, room) or room is None:
            continue
        for index, (name, note, phones, values) in enumerate(owners):
            role = OccupancyRole.OWNER if index == 0 else OccupancyRole.CO_OWNER
            _add_mention(parsed, row, room.code, name, note, phones, values, role)
        for name, note, phones, values in tenants:
            _add_mention(parsed, row, room.code, name, note, phones, values, OccupancyRole.TENANT)


def _add_mention(
    parsed: Parsed,
    row: _Row,
    code: str,
    name: str,
    note: str,
    phones: list[str],
    values: dict[str, Any],
    role: str,
) -> None:
    person = parsed.people.mention(
        name=name, phones=phones, values=values, room=code, where=row.where, note=note
    )
    parsed.occupancies.append(OccupancyIn(code, person, role, {}, row.where))


def _parse_people_cells(
    row: _Row, name_col: str, phone_col: str, id_col: str | None
) -> list[tuple[str, str, list[str], dict[str, Any]]]:
    """Names (with the note beside each), phones and ID numbers of one cell each: ``张三/李四`` with
    ``138…/139…`` pair up in order when the counts match; otherwise every phone belongs to the first
    name."""
    noted = (row.parse(name_col, _names, _show_names) or []) if row.has(name_col) else []
    names = [name for name, _note in noted]
    phones = (row.parse(phone_col, _phones, _show_list) or []) if row.has(phone_col) else []
    ids = (row.parse(id_col, _id_numbers, _show_ids) or []) if id_col and row.has(id_col) else []
    if phones and not names:
        row.fail(phone_col, "有电话但没有姓名")
    if ids and not names:
        row.fail(id_col or "", "有证件号码但没有姓名")
    if len(ids) > 1 and len(ids) != len(names):
        row.fail(id_col or "", f"证件号码有 {len(ids)} 个，姓名有 {len(names)} 个，无法对应")
    if len(names) > 1 and len(phones) == len(names):
        phone_lists = [[p] for p in phones]
    else:
        phone_lists = [phones] + [[] for _ in names[1:]]
    id_list = ids if len(ids) == len(names) else ids[:1] + [""] * (len(names) - 1)
    return [
        (
            name,
            note,
            phone_lists[i],
            {"id_number": id_list[i]} if i < len(id_list) and id_list[i] else {},
        )
        for i, (name, note) in enumerate(noted)
    ]


def _id_numbers(value: object) -> list[str]:
    raw = value if isinstance(value, int | float) else None
    if raw is not None:
        return [normalize_id_number(raw, id_card=True)]
    parts = [p for p in re.split(r"\s*[/、,，;；|]\s*", cell_text(value)) if p.strip()]
    return [normalize_id_number(p, id_card=looks_like_id_card(p)) for p in parts]


def _show_ids(ids: list[str]) -> str:
    # ID numbers appear masked in the preview, whoever looks at the batch later.
    return "/".join(mask_id_number(i) for i in ids)


def _parse_template(parsed: Parsed, layouts: list[Layout]) -> None:
    by_key = {layout.spec.key: layout for layout in layouts}
    if "rooms" in by_key:
        for row in _rows(parsed, by_key["rooms"]):
            _register_room(parsed, row, _parse_room(row))
    if "people" in by_key:
        for row in _rows(parsed, by_key["people"]):
            _parse_person_row(parsed, row)
    if "occupancies" in by_key:
        for row in _rows(parsed, by_key["occupancies"]):
            _parse_occupancy_row(parsed, row)


_PERSON_TEXTS = (
    ("home_address", 200),
    ("work_address", 200),
    ("mailing_address", 200),
    ("preferred_contact_times", 100),
    ("notes", 2000),
)


def _parse_person_row(parsed: Parsed, row: _Row) -> None:
    name = row.parse("name", _name)
    if not name and row.ok:
        row.fail("name", "姓名为空")
    values: dict[str, Any] = {}
    for key, parser in (
        ("kind", _kind),
        ("id_type", _id_type),
        ("written_contact_only", parse_yes_no),
    ):
        if row.has(key):
            value = row.parse(key, parser)
            if value is not None:
                values[key] = value
    for key, limit in _PERSON_TEXTS:
        if row.has(key):
            text = row.parse(key, _text(limit))
            if text:
                values[key] = text
    if row.has("id_number"):
        id_type = values.get("id_type")
        number = row.parse("id_number", lambda v: _id_number(v, id_type), mask_id_number)
        if number:
            values["id_number"] = number
    phones = (row.parse("phones", _phones, _show_list) or []) if row.has("phones") else []
    if not row.ok or not name:
        if name:
            parsed.bad_names.add(name_key(name))
        return
    problem = parsed.people.add_listed(
        PersonIn(name=name, phones=phones, values=values, where=row.where)
    )
    if problem:
        row.fail("name", problem)


def _id_number(value: object, id_type: str | None) -> str:
    text = cell_text(value)
    id_card = id_type == IdType.ID_CARD or (id_type is None and looks_like_id_card(text))
    if isinstance(value, int | float) and not isinstance(value, bool):
        return normalize_id_number(value, id_card=id_card)
    return normalize_id_number(text, id_card=id_card)


def _parse_occupancy_row(parsed: Parsed, row: _Row) -> None:
    parts = _room_code_parts(row)
    code = _room_code_checked(row, parts) if parts else None
    name = row.parse("name", _name)
    if not name and row.ok:
        row.fail("name", "姓名为空")
    role = row.parse("role", _role)
    if role is None and row.ok:
        row.fail("role", "身份为空（业主/共有人/租户/住户）")
    phones = (row.parse("phones", _phones, _show_list) or []) if row.has("phones") else []
    values: dict[str, Any] = {}
    for key, parser in (("start_date", parse_date), ("is_payer", parse_yes_no)):
        if row.has(key):
            value = row.parse(key, parser, _show_value)
            if value is not None:
                values[key] = value
    if not row.ok or not code or not name or not role:
        return
    if code in parsed.bad_codes or name_key(name) in parsed.bad_names:
        return  # the row that defines it is already reported
    try:
        person = parsed.people.resolve(name, phones)
    except ValueError as exc:
        row.fail("name", str(exc))
        return
    if person is None:
        person = parsed.people.mention(
            name=name, phones=phones, values={}, room=code, where=row.where
        )
    person.rooms.add(code)
    parsed.occupancies.append(OccupancyIn(code, person, role, values, row.where))


MASKED_NOTE = "注意：本表电话和/或证件号码已按您的权限脱敏，仅供查阅，不能用于导入。"


def _refuse_masked(sheets: list[Sheet]) -> None:
    for sheet in sheets:
        if sheet.rows and cell_text(sheet.rows[0][1][0] if sheet.rows[0][1] else "") == MASKED_NOTE:
            raise ValidationFailed(
                "这是脱敏后的导出文件（电话或证件号码带 *），不能用于导入；请由能查看完整号码的人员重新导出",
                code="import.masked",
            )


def parse_workbook(content: bytes, mapping: dict | None = None) -> Parsed:
    """Everything the file says, with every bad row; nothing is read from the database."""
    sheets = _read_workbook(content)
    _refuse_masked(sheets)
    kind, chosen = _detect(sheets)
    errors: list[RowError] = []
    layouts = _layouts(kind, chosen, mapping, errors)
    parsed = Parsed(kind=kind, layouts=layouts, errors=errors)
    if errors:  # without the key columns no row can be read meaningfully
        parsed.readable = False
        return parsed
    if kind == ImportKind.FLAT:
        _parse_flat(parsed, layouts[0])
    else:
        _parse_template(parsed, layouts)
    return parsed
