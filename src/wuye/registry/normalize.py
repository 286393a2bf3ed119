"""Turning what people type and what old spreadsheets hold into clean values.

Every function either returns a clean value or raises ``ValueError`` with a Chinese reason, so the
importer and the forms report the same thing.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal, InvalidOperation

import phonenumbers
from pypinyin import Style, lazy_pinyin
from stdnum.cn import ric
from stdnum.exceptions import InvalidComponent

from wuye.core.importing.cells import cell_text, halfwidth  # noqa: F401  (re-exported)

_ROOM_PATTERNS = [
    # 3-2-1502, 3#2-1502, A-1-101, 3/2/1502
    re.compile(
        r"^(?P<b>[0-9A-Za-z]+)\s*[-#/_.]\s*(?P<u>[0-9A-Za-z]+)\s*[-#/_.]\s*(?P<r>[0-9A-Za-z]+)$"
    ),
    # 3栋2单元1502室, 3号楼2单元1502, 3幢2单元1502号, A座1单元101
    re.compile(
        r"^(?P<b>[0-9A-Za-z]+)\s*(?:号楼|栋|幢|座|号|#)\s*-?\s*(?P<u>[0-9A-Za-z]+)\s*(?:单元|-)\s*-?\s*"
        r"(?P<r>[0-9A-Za-z]+)\s*(?:室|号|房)?$"
    ),
    # 12-S101 or 12栋S101 (a building without entrances, such as a row of shops)
    re.compile(
        r"^(?P<b>[0-9A-Za-z]+)\s*(?:号楼|栋|幢|座|-|#)\s*(?P<r>[0-9A-Za-z]+)\s*(?:室|号|房)?$"
    ),
]


def parse_room_code(value: str) -> tuple[str, str, str]:
    """``'3栋2单元1502'`` or ``'3-2-1502'`` → ``('3', '2', '1502')``; unit is ``''`` when there is none."""
    text = halfwidth(value).replace(" ", "").upper()
    if not text:
        raise ValueError("房号为空")
    for pattern in _ROOM_PATTERNS:
        match = pattern.match(text)
        if match:
            parts = match.groupdict()
            return parts["b"], parts.get("u") or "", parts["r"]
    raise ValueError(f"无法识别的房号“{value}”，应为 3-2-1502 或 3栋2单元1502 这样的格式")


def room_code(building: str, unit: str, number: str) -> str:
    return "-".join(p for p in (building, unit, number) if p)


def floor_from_number(number: str) -> int | None:
    """The floor of a room number such as 1502 (15) or 301 (3); None when it cannot be told."""
    digits = re.sub(r"\D", "", number)
    if len(digits) >= 3:
        return int(digits[:-2]) or None
    return None


_AREA_UNITS = re.compile(r"(m2|m²|平方米|平米|平方|平)$", re.IGNORECASE)


def parse_area(value: object) -> Decimal | None:
    """``'89.5㎡'``, ``'1,089.5 平方米'``, ``89.5`` → ``Decimal('89.50')``; blank → None."""
    if value is None:
        return None
    if isinstance(value, int | float | Decimal):
        number = Decimal(str(value))
    else:
        text = halfwidth(str(value)).replace(",", "").replace(" ", "")
        text = _AREA_UNITS.sub("", text)
        if not text:
            return None
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"面积“{value}”不是数字") from None
    if not number.is_finite() or number < 0:
        raise ValueError(f"面积“{value}”不能为负数")
    if number > Decimal("99999999"):
        raise ValueError(f"面积“{value}”过大")
    return number.quantize(Decimal("0.01"))


def normalize_phone(value: object) -> str:
    """A Chinese mobile or landline number with spaces, dashes, +86 and full-width digits removed.

    Raises ``ValueError`` when it is not a valid number (too short, wrong prefix, letters in it).
    """
    text = halfwidth(str(value)).strip()
    if text.endswith(".0") and text[:-2].isdigit():  # numbers typed as numbers in Excel
        text = text[:-2]
    if not text:
        raise ValueError("电话为空")
    compact = re.sub(r"[\s\-()（）]", "", text)
    try:
        parsed = phonenumbers.parse(compact, "CN")
    except phonenumbers.NumberParseException:
        raise ValueError(f"电话“{value}”无法识别") from None
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError(f"电话“{value}”不是有效的号码")
    national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    digits = re.sub(r"\D", "", national)
    if parsed.country_code != 86:
        return "+" + str(parsed.country_code) + digits
    return digits


_NAME_SEPARATORS = re.compile(r"\s*[/、,，;；&|]\s*")


def split_names(value: object) -> list[str]:
    """``'张三/李四'`` → ``['张三', '李四']``."""
    text = halfwidth(str(value or ""))
    return [name for name in _NAME_SEPARATORS.split(text) if name]


def split_phones(value: object) -> list[str]:
    """A cell with one or several numbers (``'138 1234 5678/0755-86001234'``) → the raw numbers."""
    text = halfwidth(str(value or ""))
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    return [p for p in re.split(r"\s*[/、,，;；|]\s*", text) if p.strip()]


def pinyin_keys(name: str) -> tuple[str, str]:
    """Full pinyin and initials for search: ``'张三'`` → ``('zhangsan', 'zs')``."""
    syllables = [s.lower() for s in lazy_pinyin(name, errors="ignore") if s.strip()]
    initials = [s.lower() for s in lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")]
    clean = re.compile(r"[^a-z0-9]")
    return clean.sub("", "".join(syllables)), clean.sub("", "".join(initials))


def search_text(value: str) -> str:
    """What the search box compares: half-width, lower-case, without spaces."""
    return halfwidth(value).lower().replace(" ", "")


# --- spreadsheet cells ---------------------------------------------------------------------------


_DATE_TEXT = re.compile(
    r"^(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$"
)
_EXCEL_EPOCH = datetime.date(1899, 12, 30)


def parse_date(value: object) -> datetime.date | None:
    """An Excel date, a serial number, ``2021-05-01``, ``2021/5/1``, ``2021年5月1日`` or ``20210501``."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = halfwidth(cell_text(value))
    if not text:
        return None
    if re.fullmatch(r"\d{8}", text):
        parts = (int(text[:4]), int(text[4:6]), int(text[6:]))
    elif isinstance(value, int | float) and 1 <= value < 100_000:
        # A date cell whose number format was lost: Excel counts days from 1899-12-30.
        return _EXCEL_EPOCH + datetime.timedelta(days=int(value))
    else:
        match = _DATE_TEXT.match(text)
        if not match:
            raise ValueError(f"日期“{value}”无法识别，应为 2021-05-01 这样的格式")
        parts = (int(match["y"]), int(match["m"]), int(match["d"]))
    try:
        result = datetime.date(*parts)
    except ValueError:
        raise ValueError(f"日期“{value}”不存在") from None
    if not 1900 < result.year < 2100:
        raise ValueError(f"日期“{value}”超出合理范围")
    return result


_YES = frozenset({"是", "y", "yes", "true", "1", "√", "✓", "已", "有", "已收楼", "已交房"})
_NO = frozenset({"否", "n", "no", "false", "0", "×", "✗", "未", "无", "未收楼", "未交房"})


def parse_yes_no(value: object) -> bool | None:
    """``是``/``否`` (also Y/N, 1/0, √/×, TRUE/FALSE); blank → None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    text = halfwidth(cell_text(value)).lower()
    if not text:
        return None
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise ValueError(f"“{value}”应为“是”或“否”")


def parse_floor(value: object) -> int | None:
    """``15``, ``15.0``, ``'15层'``, ``'15F'``; basements ``'B1'``, ``'负1'``, ``'-1'`` → -1; blank → None."""
    text = halfwidth(cell_text(value)).upper().replace(" ", "")
    if not text:
        return None
    text = re.sub(r"(层|楼|F)$", "", text)
    text = re.sub(r"^(B|负|地下)", "-", text)
    try:
        floor = int(text)
    except ValueError:
        raise ValueError(f"楼层“{value}”不是整数") from None
    if not -10 <= floor <= 200:
        raise ValueError(f"楼层“{value}”超出合理范围")
    return floor


def normalize_id_number(value: object, *, id_card: bool) -> str:
    """An ID number, upper-case, without spaces; a PRC ID card (``id_card``) must pass its checksum.

    Refuses masked numbers (``110101********1234``) and 18-digit numbers Excel stored as a number,
    whose last digits are already lost.
    """
    if isinstance(value, int | float) and not isinstance(value, bool) and abs(value) >= 1e15:
        raise ValueError("证件号码被 Excel 存成了数字，末几位已丢失，请把该列设为文本后重新填写")
    text = halfwidth(cell_text(value)).replace(" ", "").upper()
    if not text:
        return ""
    if "*" in text:
        raise ValueError(f"证件号码“{value}”已脱敏，不能导入")
    if len(text) > 30:
        raise ValueError(f"证件号码“{value}”过长")
    if id_card and not _valid_id_card(text):
        raise ValueError(f"身份证号“{value}”无效（位数、出生日期或校验位不对）")
    return text


def _valid_id_card(text: str) -> bool:
    """Length, check digit and birth date. Not the birthplace: python-stdnum's table of county codes
    refuses real older numbers (and raises on some), and a wrong county does not stop a lawsuit."""
    if re.fullmatch(r"\d{15}", text):  # first-generation cards, no check digit
        return True
    if not re.fullmatch(r"\d{17}[\dX]", text) or ric.calc_check_digit(text) != text[-1]:
        return False
    try:
        born = ric.get_birth_date(text)
    except InvalidComponent:
        return False
    return born.year >= 1900 and born <= datetime.datetime.now(tz=datetime.UTC).date()


def looks_like_id_card(text: str) -> bool:
    return bool(re.fullmatch(r"\d{15}|\d{17}[\dXx]", halfwidth(text).replace(" ", "")))
