"""Excel import of the registry (一户一档): rooms, people, phones and occupancies.

Two layouts are read:

* the template (see ``exporting.import_template_workbook``): sheets 房屋, 客户 and 房屋关系;
* the flat layout old systems export: one sheet, one row per room, owners and phones in the row.

``import_preview`` reads an upload, lists every bad row and counts what a commit would create, update
or leave unchanged, and keeps all of it on an ``ImportBatch``; ``import_commit`` writes it
all-or-nothing. The matching rules make a second import of the same file change nothing:

* rooms by (project, code);
* people by name and a shared phone number, else by name and a current occupancy on one of their
  rooms in the file;
* phones by number per person; occupancies by (room, person, role) among current ones.

An import adds and updates; it never deletes, never clears a stored value because a cell is blank, and
never ends an occupancy (a sale or a move-out is recorded on the household page).
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from wuye.core.audit import _jsonable, audit_record, snapshot
from wuye.core.errors import ValidationFailed
from wuye.core.importing import (
    HEADER_SEARCH_ROWS,
    XLSX,
    Column,
    Layout,
    RowError,
    RowStream,
    Sheet,
    SheetSpec,
    Where,
    auto_mapping,
    check_readable,
    find_header,
    make_layout,
    mapping_errors,
    read_sheets,
)
from wuye.core.importing import Row as _Row
from wuye.core.importing.batch import (
    Analysis,
    batch_commit,
    batch_new,
    batch_preview,
    batch_remap,
)
from wuye.core.masking import mask_id_number
from wuye.core.models import AuditEntry, Project, User
from wuye.registry.enums import (
    IdType,
    OccupancyRole,
    OccupancyState,
    PersonKind,
    RoomUse,
)
from wuye.registry.models import (
    Building,
    ImportBatch,
    ImportKind,
    Occupancy,
    Person,
    Phone,
    Room,
    Unit,
)
from wuye.registry.normalize import (
    cell_text,
    floor_from_number,
    halfwidth,
    looks_like_id_card,
    normalize_id_number,
    normalize_phone,
    parse_area,
    parse_date,
    parse_floor,
    parse_room_code,
    parse_yes_no,
    room_code,
    split_names,
    split_phones,
)
from wuye.registry.services import (
    building_get_or_create,
    person_search_keys,
    phone_search_key,
    room_search_keys,
    unit_get_or_create,
)

# --- the columns each sheet may have -------------------------------------------------------------


_ROOM_CODE = (
    "房间号",
    "房屋编号",
    "房屋编码",
    "房产名称",
    "房屋名称",
    "房间编号",
    "房产编号",
    "房间",
    "房屋",
)
_PHONE = ("联系电话", "手机号", "手机", "联系方式", "手机号码", "电话号码", "移动电话")
_ID_NUMBER = ("身份证号", "身份证号码", "身份证", "证件号", "证件号码")

_ROOM_COLUMNS = (
    Column("code", "房号", _ROOM_CODE, required=True),
    Column("floor", "楼层", ("所在楼层",)),
    Column("gross_area", "建筑面积", ("面积", "计费面积", "收费面积", "产权面积")),
    Column("inner_area", "套内面积", ("套内建筑面积",)),
    Column("use", "用途", ("房屋类型", "物业类型", "房屋用途")),
    Column("handed_over", "是否收楼", ("收楼状态", "交房状态", "是否交房")),
    Column("handover_date", "收楼日期", ("交房日期", "入伙日期", "交付日期")),
    Column("occupancy_state", "使用状态", ("状态", "房屋状态", "居住状态")),
    Column("note", "备注"),
)

ROOMS = SheetSpec("rooms", "房屋", _ROOM_COLUMNS)

PEOPLE = SheetSpec(
    "people",
    "客户",
    (
        Column("name", "姓名", ("客户名称", "客户姓名", "业主姓名", "名称"), required=True),
        Column("kind", "类型", ("客户类型",)),
        Column("id_type", "证件类型"),
        Column("id_number", "证件号码", _ID_NUMBER),
        Column("phones", "电话", _PHONE),
        Column("home_address", "家庭住址", ("住址", "地址")),
        Column("work_address", "工作单位地址", ("工作单位", "单位地址")),
        Column("mailing_address", "邮寄地址", ("通讯地址",)),
        Column("preferred_contact_times", "方便联系时间", ("联系时间",)),
        Column("written_contact_only", "仅书面联系"),
        Column("notes", "备注"),
    ),
)

OCCUPANCIES = SheetSpec(
    "occupancies",
    "房屋关系",
    (
        Column("code", "房号", _ROOM_CODE, required=True),
        Column("name", "姓名", ("客户名称", "客户姓名"), required=True),
        Column("phones", "电话", _PHONE),
        Column("role", "身份", ("关系", "客户身份"), required=True),
        Column("start_date", "起始日期", ("开始日期", "生效日期")),
        Column("is_payer", "是否缴费人", ("缴费人",)),
    ),
)

TEMPLATE_SHEETS = (ROOMS, PEOPLE, OCCUPANCIES)

FLAT = SheetSpec(
    "flat",
    "",
    (
        Column("building", "楼栋", ("楼号", "栋号", "楼栋号", "楼宇", "楼栋名称")),
        Column("unit", "单元", ("单元号",)),
        *_ROOM_COLUMNS,
        Column(
            "owner_name",
            "业主",
            ("业主姓名", "客户名称", "姓名", "户主", "业主名称", "客户姓名", "产权人"),
        ),
        Column("owner_phone", "电话", (*_PHONE, "业主电话", "业主手机")),
        Column("owner_id_number", "身份证号", (*_ID_NUMBER, "业主身份证号")),
        Column("tenant_name", "租户", ("租户姓名", "承租人")),
        Column("tenant_phone", "租户电话", ("租户手机", "租户联系电话", "承租人电话")),
    ),
)

# --- Chinese labels to stored values -------------------------------------------------------------


def _labels(choices: Any, **synonyms: str) -> dict[str, str]:
    table = {str(label): value for value, label in choices.choices}
    table.update(synonyms)
    return table


USE_LABELS = _labels(
    RoomUse, 住房=RoomUse.RESIDENCE, 商业=RoomUse.SHOP, 底商=RoomUse.SHOP, 门面=RoomUse.SHOP,
    商服=RoomUse.SHOP, 办公=RoomUse.OFFICE, 写字间=RoomUse.OFFICE, 车库=RoomUse.PARKING,
)  # fmt: skip
STATE_LABELS = _labels(
    OccupancyState, 空房=OccupancyState.VACANT, 闲置=OccupancyState.VACANT,
    装修中=OccupancyState.DECORATING, 已入住=OccupancyState.OCCUPIED, 自住=OccupancyState.OCCUPIED,
    居住=OccupancyState.OCCUPIED, 在住=OccupancyState.OCCUPIED, 已出租=OccupancyState.RENTED,
    租赁=OccupancyState.RENTED,
)  # fmt: skip
# Old systems put the handover in the status column: 未收楼 means not handed over, hence vacant.
STATE_HANDOVER = {"未收楼": False, "未交房": False, "未交付": False, "已收楼": True, "已交房": True}
ROLE_LABELS = _labels(
    OccupancyRole, 产权人=OccupancyRole.OWNER, 户主=OccupancyRole.OWNER,
    共同产权人=OccupancyRole.CO_OWNER, 租客=OccupancyRole.TENANT, 承租人=OccupancyRole.TENANT,
    家属=OccupancyRole.RESIDENT, 居住人=OccupancyRole.RESIDENT,
)  # fmt: skip
KIND_LABELS = _labels(
    PersonKind,
    公司=PersonKind.ORGANISATION,
    企业=PersonKind.ORGANISATION,
    机构=PersonKind.ORGANISATION,
)
ID_TYPE_LABELS = _labels(
    IdType, 身份证=IdType.ID_CARD, 港澳通行证=IdType.HK_MO_TW, 台胞证=IdType.HK_MO_TW,
    营业执照=IdType.CREDIT_CODE,
)  # fmt: skip


def _choice(table: dict[str, str], what: str, choices: Any) -> Callable[[object], str | None]:
    allowed = "、".join(str(label) for _, label in choices.choices)

    def parse(value: object) -> str | None:
        text = halfwidth(cell_text(value)).replace(" ", "")
        if not text:
            return None
        if text in table:
            return table[text]
        raise ValueError(f"{what}“{value}”不是可选值（可选：{allowed}）")

    return parse


_use = _choice(USE_LABELS, "用途", RoomUse)
_role = _choice(ROLE_LABELS, "身份", OccupancyRole)
_kind = _choice(KIND_LABELS, "类型", PersonKind)
_id_type = _choice(ID_TYPE_LABELS, "证件类型", IdType)
_plain_state = _choice(STATE_LABELS, "使用状态", OccupancyState)


def _state(value: object) -> tuple[str | None, bool | None]:
    """The use state and, when the cell says 未收楼/已收楼, whether the room is handed over."""
    text = halfwidth(cell_text(value)).replace(" ", "")
    if text in STATE_HANDOVER:
        handed = STATE_HANDOVER[text]
        return (None if handed else OccupancyState.VACANT), handed
    return _plain_state(value), None


def _text(limit: int) -> Callable[[object], str]:
    def parse(value: object) -> str:
        text = cell_text(value)
        if len(text) > limit:
            raise ValueError(f"内容超过 {limit} 个字")
        return text

    return parse


def _phones(value: object) -> list[str]:
    return list(dict.fromkeys(normalize_phone(p) for p in split_phones(cell_text(value))))


def _names(value: object) -> list[tuple[str, str]]:
    """The names of a cell, each with the note written beside it (``王强（商铺）``, ``李娜 租户``)."""
    names: dict[str, str] = {}
    for text in split_names(cell_text(value)):
        name, note = split_name_note(text)
        if len(name) > 100:
            raise ValueError(f"姓名“{name[:20]}…”超过 100 个字")
        if len(note) > 200:
            raise ValueError(f"姓名“{name[:20]}”后的备注超过 200 个字")
        names.setdefault(name, note)
    return list(names.items())


def _show_names(names: list[tuple[str, str]]) -> str:
    return "/".join(f"{name}（{note}）" if note else name for name, note in names)


_ORGANISATION = re.compile(
    r"公司|集团|置业|地产|实业|企业|银行|事务所|委员会|合作社|有限|商行|(中心|厂|医院|学校)$"
)
# Words people write beside a name in the name cell; after a space only these make a note, so that
# two names separated by a space are not taken for a name and a note.
_NOTE_WORDS = ("租户", "租客", "承租", "业主", "户主", "产权", "商铺", "门面", "店面", "已故",
               "已售", "已卖", "代缴", "代收", "代管", "家属", "亲属", "父", "母", "儿", "女",
               "妻", "夫", "自住", "出租", "空置", "车位", "车库", "办公", "仓库", "法人",
               "联系人", "委托", "代理", "监护")  # fmt: skip
_NAME = r"[\u3400-\u9fff\uf900-\ufaff·A-Za-z][\u3400-\u9fff\uf900-\ufaff·A-Za-z .]*?"  # what names are made of
_PAREN_NOTE = re.compile(rf"^(?P<name>{_NAME})\s*\((?P<note>[^()]+)\)$")
_SPACE_NOTE = re.compile(rf"^(?P<name>{_NAME})\s+(?P<note>\S.{{0,19}})$")


def looks_like_organisation(name: str) -> bool:
    return bool(_ORGANISATION.search(name))


def split_name_note(text: str) -> tuple[str, str]:
    """``'王强(商铺)'`` → ``('王强', '商铺')``, ``'李娜 租户'`` → ``('李娜', '租户')``; an organisation's
    name is kept whole (``某某银行(深圳分行)``). ``text`` is half-width already."""
    text = text.strip()
    if looks_like_organisation(text):
        return text, ""
    match = _PAREN_NOTE.match(text)
    if match:
        return match["name"].strip(), match["note"].strip()
    match = _SPACE_NOTE.match(text)
    if match and any(word in match["note"] for word in _NOTE_WORDS):
        return match["name"], match["note"].strip()
    return text, ""


def _name(value: object) -> str:
    name = cell_text(value)
    if len(name) > 100:
        raise ValueError("姓名超过 100 个字")
    return name


def name_key(name: str) -> str:
    """What two spellings of one name share: full-width letters, spaces and case do not count."""
    return re.sub(r"\s+", "", halfwidth(name)).lower()


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


# --- the batch: preview and commit ---------------------------------------------------------------


def _analyse(batch: ImportBatch, *, record_developer: bool = False) -> Analysis:
    """Reads the batch's file with its mapping; the report to keep and the plan of the commit."""
    started = time.monotonic()
    parsed = parse_workbook(bytes(batch.content), batch.mapping or None)
    plan: Plan | None = None
    errors = list(parsed.errors)
    if parsed.readable:  # bad rows are left out; the plan still shows what the good ones would do
        plan, db_errors = make_plan(parsed, batch.project, record_developer=record_developer)
        errors.extend(db_errors)
    errors.sort(key=lambda e: (_sheet_order(e.sheet), e.row or 0))
    report = {
        "layout": parsed.kind,
        "sheets": [layout.report() for layout in parsed.layouts],
        "errors": [e.as_dict() for e in errors],
        "error_count": len(errors),
        "data_rows": parsed.data_rows,
        "counts": plan.counts if plan else {},
        "new_buildings": plan.new_buildings if plan else [],
        "new_units": plan.new_units if plan else 0,
        "preview": parsed.preview,
        "warnings": [w.as_dict() for w in plan.warnings] if plan else [],
        "rooms_without_area": plan.rooms_without_area if plan else [],
        "developer_offer": _offer_report(plan),
        "developer_recorded": bool(record_developer and plan and plan.developer_offer),
        "seconds": round(time.monotonic() - started, 2),
    }
    return Analysis(report, plan, {"kind": parsed.kind})


def _offer_report(plan: Plan | None) -> dict[str, Any] | None:
    if plan is None or plan.developer_offer is None:
        return None
    person, rooms = plan.developer_offer
    return {"name": person.name, "rooms": rooms}


def _sheet_order(title: str) -> int:
    titles = [s.title for s in TEMPLATE_SHEETS]
    return titles.index(title) if title in titles else -1


def _same_file(batch: ImportBatch) -> dict[str, Any]:
    return {"project_id": batch.project_id}


def import_preview(
    *,
    user: User | None,
    project: Project,
    filename: str,
    content: bytes,
    mapping: dict[str, dict[str, int | None]] | None = None,
) -> ImportBatch:
    """Reads an uploaded workbook and keeps it as a batch with its report; writes nothing else.

    ``mapping`` ({sheet title: {field key: column number}}) overrides the detected columns.
    Raises ``ValidationFailed`` when the file is not a readable .xlsx.
    """
    check_readable(content, (XLSX,), unreadable=UNREADABLE)  # refuse it before keeping it
    batch = batch_new(
        ImportBatch, user=user, filename=filename, content=content, mapping=mapping,
        project=project,
    )  # fmt: skip
    return batch_preview(batch, _analyse, same_file=_same_file(batch))


def import_remap(
    *, user: User | None, batch: ImportBatch, mapping: dict[str, dict[str, int | None]]
) -> ImportBatch:
    """Previews the batch again with the columns the user chose."""
    return batch_remap(batch, mapping, _analyse, same_file=_same_file(batch))


def import_commit(
    *, user: User | None, batch: ImportBatch, record_developer: bool = False
) -> ImportBatch:
    """Writes the batch all-or-nothing, reading its file again against the data as it is now.

    Refused while the preview shows errors; when the data changed since the preview and a row no longer
    fits, nothing is written and the batch is marked failed with the reasons. ``record_developer``:
    the user accepted the preview's offer (``report["developer_offer"]``) to record the organisation
    owning rooms not handed over as the project's developer, who then pays for them.
    """

    def analyse(locked: ImportBatch) -> Analysis:
        return _analyse(locked, record_developer=record_developer)

    def apply(locked: ImportBatch, plan: Plan) -> None:
        _apply(plan, user=user, project=locked.project, batch=locked)
        if _changed_anything(plan.counts):
            audit_record(
                user=user,
                action="批量导入",
                obj=locked,
                project=locked.project,
                changes={"file": locked.filename, "sha256": locked.sha256, "counts": plan.counts},
            )

    return batch_commit(batch, analyse=analyse, apply=apply, related=("project",))
