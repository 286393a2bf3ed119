"""Masking of phone and ID numbers for roles that do not need them (SPEC §1, LAW.md §2)."""

from __future__ import annotations

import re
from typing import Any


def mask_phone(number: str) -> str:
    """``13812341234`` → ``138****1234``; short numbers keep only their last two digits."""
    if not number:
        return ""
    if len(number) >= 7:
        return number[:3] + "****" + number[-4:]
    return "*" * (len(number) - 2) + number[-2:]


def mask_name(name: str) -> str:
    """``张三`` → ``张*``, ``欧阳娜娜`` → ``欧***``: enough for an owner to recognise their own
    household on a forwarded page, not to identify a person."""
    name = (name or "").strip()
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def mask_id_number(number: str) -> str:
    """``110101199001011234`` → ``110101********1234``."""
    if not number:
        return ""
    if len(number) > 10:
        return number[:6] + "*" * (len(number) - 10) + number[-4:]
    return "*" * (len(number) - 2) + number[-2:]


# Numbers inside free text (an audit entry's changes, an object's name): mainland ID card numbers
# and mobile or landline phone numbers, not part of a longer run of digits.
_ID_IN_TEXT = re.compile(r"(?<![0-9])[1-9][0-9]{16}[0-9Xx](?![0-9])")
_PHONE_IN_TEXT = re.compile(
    r"(?<![0-9])(?:\+?86)?(?:1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})(?![0-9])"
)
_ID_KEYS = ("id_number", "证件号码")
_PHONE_KEYS = ("phone", "phones", "number", "mobile", "used", "to", "电话", "号码")


def mask_text(text: str, *, phones: bool, ids: bool) -> str:
    """``text`` with the ID numbers and phone numbers in it masked, for a viewer who may not see
    them (``phones``/``ids``: the viewer may see that kind in full)."""
    if not ids:
        text = _ID_IN_TEXT.sub(lambda m: mask_id_number(m.group(0)), text)
    if not phones:
        text = _PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group(0)), text)
    return text


def mask_data(value: Any, *, phones: bool, ids: bool, key: str = "") -> Any:
    """A copy of a JSON-like value (an audit entry's changes) with personal numbers masked as the
    viewer's role asks, by field name and by what the text looks like; the stored value is untouched."""
    if isinstance(value, dict):
        return {k: mask_data(v, phones=phones, ids=ids, key=str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_data(v, phones=phones, ids=ids, key=key) for v in value]
    if not isinstance(value, str) or not value:
        return value
    name = key.lower()
    if not ids and any(k in name for k in _ID_KEYS):
        return mask_id_number(value)
    if not phones and name in _PHONE_KEYS and any(c.isdigit() for c in value):
        return mask_phone(value)
    return mask_text(value, phones=phones, ids=ids)


def mask_bank_account(number: str) -> str:
    """A bank account or card number with only its first four and last four digits:
    ``6222020200112233445`` → ``6222 **** **** 3445``; short numbers keep their last four."""
    digits = "".join(ch for ch in str(number or "") if ch.isalnum())
    if not digits:
        return ""
    if len(digits) <= 8:
        return "*" * max(len(digits) - 4, 0) + digits[-4:]
    return f"{digits[:4]} **** **** {digits[-4:]}"
