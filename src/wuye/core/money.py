"""Money: Decimal only, quantized in one place, shares that add up exactly.

Every amount in wuye passes through ``money()``; never construct a money Decimal from a float.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, ROUND_UP, Decimal

FEN = Decimal("0.01")
ZERO = Decimal("0.00")

# Rounding rules a fee item may choose (default half-up to the fen, SPEC §3).
ROUNDING_MODES = {
    "half_up": ROUND_HALF_UP,
    "half_even": ROUND_HALF_EVEN,
    "down": ROUND_DOWN,
    "up": ROUND_UP,
}
ROUNDING_CHOICES = [
    ("half_up", "四舍五入"),
    ("half_even", "银行家舍入"),
    ("down", "舍去（抹零）"),
    ("up", "进位"),
]


def to_decimal(value: object) -> Decimal:
    """The one Decimal constructor for outside input: ints, strings and Decimals; floats are refused."""
    if isinstance(value, float):
        raise TypeError("money must not come from a float")
    if isinstance(value, Decimal):
        return value
    return Decimal(str(value).strip().replace(",", ""))


def money(value: object, rounding: str = "half_up") -> Decimal:
    """``value`` rounded to the fen with the named rule."""
    return to_decimal(value).quantize(FEN, rounding=ROUNDING_MODES[rounding])


def allocate(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split ``total`` (in fen) in proportion to ``weights`` by the largest-remainder method.

    The shares always add up to ``total`` exactly: each gets the floor of its exact share in fen, and the
    fen left over go one each to the largest remainders (ties to the earlier weight, so it is stable).
    """
    total = money(total)
    if not weights:
        if total != ZERO:
            raise ValueError("nothing to allocate to")
        return []
    if any(w < 0 for w in weights):
        raise ValueError("weights must not be negative")
    weight_sum = sum(weights, Decimal(0))
    if weight_sum == 0:
        raise ValueError("weights add up to zero")
    sign = -1 if total < 0 else 1
    total_fen = int(abs(total) / FEN)
    exact = [Decimal(total_fen) * w / weight_sum for w in weights]
    floors = [int(e) for e in exact]
    left = total_fen - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return [sign * Decimal(f) * FEN for f in floors]


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ["", "拾", "佰", "仟"]
_BIG_UNITS = ["", "万", "亿", "万亿"]


def _four_digits(n: int) -> str:
    out = ""
    zero = False
    for pos in range(3, -1, -1):
        d = n // 10**pos % 10
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += _DIGITS[d] + _SMALL_UNITS[pos]
    return out


def amount_in_words(value: Decimal) -> str:
    """A money amount in Chinese capitals as receipts print it: 1234.50 → 壹仟贰佰叁拾肆元伍角整."""
    amount = money(value)
    sign = "负" if amount < 0 else ""
    amount = abs(amount)
    yuan = int(amount)
    jiao = int(amount * 10) % 10
    fen = int(amount * 100) % 10
    groups = []
    while yuan:
        groups.append(yuan % 10000)
        yuan //= 10000
    text = ""
    need_zero = False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            need_zero = bool(text)
            continue
        if text and (need_zero or group < 1000):
            text += "零"
        text += _four_digits(group) + _BIG_UNITS[index]
        need_zero = False
    text = (text + "元") if text else ""
    if jiao == 0 and fen == 0:
        return sign + (text or "零元") + "整"
    if jiao:
        text += _DIGITS[jiao] + "角"
    elif text:
        text += "零"
    if fen:
        text += _DIGITS[fen] + "分"
    else:
        text += "整"
    return sign + text
