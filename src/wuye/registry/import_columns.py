"""导入 — the registry import's columns: the sheets (房屋, 客户, 房屋关系, or one flat sheet), each
column's header synonyms, the Chinese labels of stored values, and the cell parsers (names with notes,
phones, ID numbers)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from wuye.core.importing import (
    Column,
    SheetSpec,
)
from wuye.registry.enums import (
    IdType,
    OccupancyRole,
    OccupancyState,
    PersonKind,
    RoomUse,
)
from wuye.registry.normalize import (
    cell_text,
    halfwidth,
    normalize_phone,
    split_names,
    split_phones,
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
