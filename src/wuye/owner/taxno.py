"""Taxpayer numbers on an invoice request: the 18-character unified social credit code
(统一社会信用代码, GB 32100-2015, with its check character) or an old 15/20-character tax number."""

from __future__ import annotations

_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_valid(code: str) -> bool:
    if len(code) != 18 or any(ch not in _CHARS for ch in code):
        return False
    total = sum(_CHARS.index(ch) * w for ch, w in zip(code[:17], _WEIGHTS, strict=True))
    return _CHARS[(31 - total % 31) % 31] == code[17]


def tax_number_valid(code: str) -> bool:
    code = (code or "").strip().upper()
    if len(code) == 18:
        return uscc_valid(code)
    return len(code) in (15, 20) and code.isalnum()
