"""Excel export of the registry in the import template's layout, and the empty template itself.

An export by a role that sees full phones and ID numbers imports back as "unchanged"; for other roles
phones and ID numbers are masked and the workbook says it is not meant for import.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from wuye.core import xlsx
from wuye.core.audit import audit_record
from wuye.core.importing import SheetSpec
from wuye.core.masking import mask_id_number, mask_phone
from wuye.core.models import Project, User
from wuye.core.scope import can_see_id_numbers, can_see_phones
from wuye.core.sorting import natural_order
from wuye.registry.enums import IdType, OccupancyRole, OccupancyState, PersonKind, RoomUse
from wuye.registry.import_columns import OCCUPANCIES, PEOPLE, ROOMS
from wuye.registry.import_parsing import MASKED_NOTE
from wuye.registry.models import Occupancy, Phone, Room

# Columns Excel must keep as text: long digit strings would lose digits or leading zeros.
TEXT_COLUMNS = {"code", "phones", "id_number", "name"}
WIDTHS = {"code": 14, "name": 14, "phones": 26, "id_number": 22, "home_address": 30,
          "work_address": 30, "mailing_address": 30, "notes": 30, "note": 24}  # fmt: skip
YES_NO = ("是", "否")
CHOICES: dict[str, Sequence[str]] = {
    "use": [str(label) for label in RoomUse.labels],
    "handed_over": YES_NO,
    "occupancy_state": [str(label) for label in OccupancyState.labels],
    "kind": [str(label) for label in PersonKind.labels],
    "id_type": [str(label) for label in IdType.labels],
    "written_contact_only": YES_NO,
    "role": [str(label) for label in OccupancyRole.labels],
    "is_payer": YES_NO,
}
DATE_COLUMNS = {"handover_date", "start_date"}
VALIDATION_ROWS = 50_000

GUIDE = [
    "一户一档导入模板说明",
    "",
    "「房屋」表：一行一个房屋。房号写成 3-2-1502（楼栋-单元-房号）或 3栋2单元1502；没有单元的写 12-S101。",
    "  建筑面积、套内面积填数字（可带㎡）；套内面积不能大于建筑面积。楼层不填时按房号推算（1502 → 15 层）。",
    "  用途：住宅/商铺/写字楼/公寓/车位；是否收楼：是/否；使用状态：空置/装修/入住/出租（未收楼的只能是空置）。",
    "「客户」表：一行一位业主、共有人、租户或住户。多个电话用 / 分开，如 13812345678/0755-86001234。",
    "  类型：个人/单位；证件类型：居民身份证/护照/港澳台通行证/统一社会信用代码/其他；仅书面联系：是/否。",
    "「房屋关系」表：一行表示某人与某房屋的关系。姓名须与「客户」表一致；同名的客户请填电话区分。",
    "  身份：业主/共有人/租户/住户；每个房屋最多一个缴费人。",
    "日期写成 2021-05-01、2021/5/1 或 2021年5月1日，也可用 Excel 日期格式。",
    "",
    "导入规则：先预览，有任何错误都不会写入；确认后一次性全部导入。",
    "同一文件重复导入不会产生重复数据：房屋按房号匹配；客户按姓名+电话匹配，没有电话的按姓名+房屋匹配。",
    "空白单元格不会清除系统中已有的内容；导入不会删除房屋、客户或结束房屋关系。",
    "也可直接导入旧系统导出的“一行一户”表格（房号、面积、业主、电话等列），系统会自动识别列名。",
]


def _labels_of(choices: Any) -> dict[str, str]:
    return {value: str(label) for value, label in choices.choices}


def _yes_no(value: bool) -> str:
    return "是" if value else "否"


# --- writing sheets ------------------------------------------------------------------------------


def _header_cell(ws: Any, text: str) -> Cell:
    return xlsx.cell(
        ws,
        text,
        font=Font(bold=True),
        fill=PatternFill("solid", fgColor="DDEBF7"),
        alignment=Alignment(horizontal="center"),
    )


def _value_cell(ws: Any, key: str, value: object) -> Cell:
    if key in DATE_COLUMNS and isinstance(value, datetime.date):
        return xlsx.cell(ws, value, number_format="yyyy-mm-dd")
    if key in TEXT_COLUMNS and value:
        return xlsx.cell(ws, str(value), number_format="@")
    return xlsx.cell(ws, value)


def _add_sheet(
    book: Any, spec: SheetSpec, rows: Iterable[Sequence[object]], *, note: str = ""
) -> None:
    ws = book.create_sheet(spec.title)
    header_row = 2 if note else 1
    for index, column in enumerate(spec.columns, start=1):
        letter = get_column_letter(index)
        ws.column_dimensions[letter].width = WIDTHS.get(column.key, 12)
        if column.key in TEXT_COLUMNS:
            ws.column_dimensions[letter].number_format = "@"
        if column.key in CHOICES:
            validation = DataValidation(
                type="list", formula1='"' + ",".join(CHOICES[column.key]) + '"', allow_blank=True
            )
            validation.add(f"{letter}{header_row + 1}:{letter}{VALIDATION_ROWS}")
            ws.data_validations.append(validation)
    ws.freeze_panes = f"A{header_row + 1}"
    if note:
        ws.append([xlsx.cell(ws, note, font=Font(bold=True, color="C00000"))])
    ws.append([_header_cell(ws, c.label) for c in spec.columns])
    keys = [c.key for c in spec.columns]
    for row in rows:
        ws.append([_value_cell(ws, key, value) for key, value in zip(keys, row, strict=True)])


def _add_guide(book: Any, *, masked: bool) -> None:
    ws = book.create_sheet("说明")
    ws.column_dimensions["A"].width = 120
    lines = [MASKED_NOTE, "", *GUIDE] if masked else GUIDE
    for line in lines:
        ws.append([line])


def _save(book: Any) -> bytes:
    return xlsx.save(book)


def import_template_workbook() -> bytes:
    """The empty workbook to fill in: sheets 房屋, 客户, 房屋关系 with drop-downs, and a guide."""
    book = xlsx.workbook()
    for spec in (ROOMS, PEOPLE, OCCUPANCIES):
        _add_sheet(book, spec, [])
    _add_guide(book, masked=False)
    return _save(book)


# --- the registry as rows ------------------------------------------------------------------------


def _room_rows(project: Project) -> list[list[object]]:
    uses, states = _labels_of(RoomUse), _labels_of(OccupancyState)
    # Natural order (2栋 before 10栋, 902 before 1001), the order the building view shows.
    rooms = Room.objects.filter(project=project).order_by(
        "building__sort",
        *natural_order("building__code", "unit__code"),
        "floor",
        *natural_order("number", "code"),
    )
    return [
        [
            r.code,
            r.floor,
            r.gross_area,
            r.inner_area,
            uses.get(r.use, r.use),
            _yes_no(r.handed_over),
            r.handover_date,
            states.get(r.occupancy_state, r.occupancy_state),
            r.note,
        ]
        for r in rooms.only(*_ROOM_FIELDS)
    ]


_ROOM_FIELDS = ("code", "floor", "gross_area", "inner_area", "use", "handed_over", "handover_date",
                "occupancy_state", "note", "number", "building", "unit")  # fmt: skip


def _current_occupancies(project: Project) -> list[Occupancy]:
    return list(
        Occupancy.objects.filter(room__project=project, end_date__isnull=True)
        .select_related("room", "person")
        .order_by(*natural_order("room__code"), "role", "id")
    )


def _phones_by_person(project: Project) -> dict[int, list[str]]:
    phones: dict[int, list[str]] = defaultdict(list)
    ordered = Phone.objects.filter(person__project=project).order_by(
        "person_id", "-is_primary", "id"
    )
    for person_id, number in ordered.values_list("person_id", "number"):
        phones[person_id].append(number)
    return phones


class _Masks:
    def __init__(self, user: User, project: Project):
        self.phones = not can_see_phones(user, project)
        self.ids = not can_see_id_numbers(user, project)

    @property
    def any(self) -> bool:
        return self.phones or self.ids

    def phone(self, number: str) -> str:
        return mask_phone(number) if self.phones else number

    def id_number(self, number: str) -> str:
        return mask_id_number(number) if self.ids else number


def _person_rows(
    occupancies: list[Occupancy], phones: dict[int, list[str]], masks: _Masks
) -> list[list[object]]:
    kinds, id_types = _labels_of(PersonKind), _labels_of(IdType)
    people = {o.person_id: o.person for o in occupancies}
    return [
        [
            p.name,
            kinds.get(p.kind, p.kind),
            id_types.get(p.id_type, p.id_type),
            masks.id_number(p.id_number),
            "/".join(masks.phone(n) for n in phones.get(p.pk, [])),
            p.home_address,
            p.work_address,
            p.mailing_address,
            p.preferred_contact_times,
            _yes_no(p.written_contact_only),
            p.notes,
        ]
        for p in sorted(people.values(), key=lambda p: (p.name, p.pk))
    ]


def _occupancy_rows(
    occupancies: list[Occupancy], phones: dict[int, list[str]], masks: _Masks
) -> list[list[object]]:
    roles = _labels_of(OccupancyRole)
    return [
        [
            o.room.code,
            o.person.name,
            # The first phone tells two customers of the same name apart on re-import.
            masks.phone(phones[o.person_id][0]) if phones.get(o.person_id) else "",
            roles.get(o.role, o.role),
            o.start_date,
            _yes_no(o.is_payer),
        ]
        for o in occupancies
    ]


def export_registry(*, user: User, project: Project) -> bytes:
    """Rooms, current customers with phones, and current occupancies of ``project`` as .xlsx.

    Phones and ID numbers are masked for roles that may not see them; the export is audited because
    it carries personal data out of the system.
    """
    masks = _Masks(user, project)
    occupancies = _current_occupancies(project)
    phones = _phones_by_person(project)
    rooms = _room_rows(project)
    note = MASKED_NOTE if masks.any else ""
    book = xlsx.workbook()
    _add_sheet(book, ROOMS, rooms)
    people = _person_rows(occupancies, phones, masks)
    _add_sheet(book, PEOPLE, people, note=note)
    _add_sheet(book, OCCUPANCIES, _occupancy_rows(occupancies, phones, masks), note=note)
    _add_guide(book, masked=masks.any)
    content = _save(book)
    audit_record(
        user=user,
        action="导出一户一档",
        project=project,
        changes={
            "rooms": len(rooms),
            "people": len(people),
            "occupancies": len(occupancies),
            "phones_masked": masks.phones,
            "id_numbers_masked": masks.ids,
        },
    )
    return content
