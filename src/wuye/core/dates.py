"""Dates typed by users or carried in a URL: one parser and one range for every page and report.

A report asked for ``?as_of=9999-12-31`` or ``0001-01-01`` used to fail deep inside date arithmetic
(a month after 9999-12 does not exist). Every date parameter goes through ``date_param`` (query strings)
or ``date_in_range`` (a validator on form fields), which refuse dates outside ``DATE_MIN``–``DATE_MAX``
with a message that names the field.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError

from wuye.core.errors import ValidationFailed

# Property-fee records of Chinese estates start in the 1990s; nothing is planned past 2099.
DATE_MIN = datetime.date(1990, 1, 1)
DATE_MAX = datetime.date(2099, 12, 31)
BAD_FORMAT = "请输入正确的日期（YYYY-MM-DD）"
OUT_OF_RANGE = f"日期应在 {DATE_MIN:%Y-%m-%d} 至 {DATE_MAX:%Y-%m-%d} 之间"


def date_in_range(value: datetime.date | None) -> None:
    """Django validator: ``ValidationError`` for a date outside ``DATE_MIN``–``DATE_MAX``."""
    if value is not None and not (DATE_MIN <= value <= DATE_MAX):
        raise ValidationError(OUT_OF_RANGE, code="date_out_of_range")


def date_param(
    value: str | None, *, label: str = "日期", default: datetime.date | None = None
) -> datetime.date | None:
    """``YYYY-MM-DD`` from a query string or form value; ``default`` when blank. A value that is not a
    date, or lies outside the supported range, raises ``ValidationFailed`` naming ``label``."""
    text = (value or "").strip()
    if not text:
        return default
    try:
        day = datetime.date.fromisoformat(text[:10]) if len(text) == 10 else None
    except ValueError:
        day = None
    if day is None:
        raise ValidationFailed(f"{label}：{BAD_FORMAT}", field=label)
    if not (DATE_MIN <= day <= DATE_MAX):
        raise ValidationFailed(f"{label}：{OUT_OF_RANGE}", field=label)
    return day
