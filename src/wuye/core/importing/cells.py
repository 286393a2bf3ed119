"""What a spreadsheet cell holds, as text: the two helpers every import and form starts from."""

from __future__ import annotations

import datetime
import unicodedata


def halfwidth(text: str) -> str:
    """Full-width digits, letters and punctuation to ASCII (NFKC), trimmed; ``㎡`` becomes ``m2``."""
    return unicodedata.normalize("NFKC", str(text)).strip()


def cell_text(value: object) -> str:
    """What a cell shows, as text: ``13812345678.0`` → ``'13812345678'``, a date → ``'2021-05-01'``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).strip()
