"""Charge arithmetic: periods, due dates, prices over time, proration, policies, rounding.

Pure functions over plain values (model instances are read, never queried or saved), so the billing run,
pay-ahead and the tests get the same figure for the same facts.

Conventions (docs/user/收费设置与计费.md explains them to users):

* A standard's ``unit_price`` is **per month** for AREA (元/㎡/月), FIXED (元/户/月) and PARKING
  (元/车位/月): a quarterly fixed fee of 30 a month bills 90. For METERED it is per unit of usage (元/吨,
  元/度). SHARED items take no price: the registered total is split by area.
* Billing periods are aligned to the calendar: months; quarters from January, April, July, October;
  half-years from January and July; years from January.
* A part of a month counts ``days / days in that month`` (February 2028 has 29 days). Prices are looked up
  day by day: a standard for the room's use wins over one with a blank use; a day no standard covers is
  not charged.
* Intermediate figures are exact fractions; a line is rounded once, at the end, with its fee item's rule.
"""

from __future__ import annotations

import calendar
import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Context, Decimal
from fractions import Fraction
from typing import Protocol

from wuye.billing.enums import CYCLE_MONTHS, ChargeMethod, NotHandedOverPolicy, VacancyPolicy
from wuye.core.money import allocate, money

ONE_DAY = datetime.timedelta(days=1)


# --- periods -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Period:
    start: datetime.date
    end: datetime.date  # inclusive
    months: int

    def __str__(self) -> str:
        if self.months == 1:
            return f"{self.start:%Y-%m}"
        return f"{self.start:%Y-%m}至{self.end:%Y-%m}"


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The first of the month ``months`` after ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def days_in_month(day: datetime.date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def month_end(day: datetime.date) -> datetime.date:
    return day.replace(day=days_in_month(day))


def cycle_months(cycle: str) -> int:
    return CYCLE_MONTHS[cycle]


def is_period_start(cycle: str, month: datetime.date) -> bool:
    """Whether a period of ``cycle`` starts in ``month`` (quarters in Jan/Apr/Jul/Oct and so on)."""
    return (month.month - 1) % cycle_months(cycle) == 0


def period_of(cycle: str, day: datetime.date) -> Period:
    """The calendar-aligned period of ``cycle`` that contains ``day``."""
    months = cycle_months(cycle)
    first_month = (day.month - 1) // months * months + 1
    start = datetime.date(day.year, first_month, 1)
    return Period(start=start, end=add_months(start, months) - ONE_DAY, months=months)


def next_period(cycle: str, period: Period) -> Period:
    return period_of(cycle, period.end + ONE_DAY)


def periods_from(cycle: str, day: datetime.date, count: int) -> list[Period]:
    """``count`` consecutive periods, the first one containing ``day``."""
    result = [period_of(cycle, day)]
    while len(result) < count:
        result.append(next_period(cycle, result[-1]))
    return result


def items_starting_in(items: Iterable, month: datetime.date) -> list:
    """The fee items whose billing period starts in ``month``: monthly items always, quarterly ones in
    January, April, July and October, and so on."""
    return [item for item in items if is_period_start(item.cycle, month)]


def due_date(period_start: datetime.date, due_days: int) -> datetime.date:
    """``due_days`` after the period starts (0: due on its first day)."""
    return period_start + datetime.timedelta(days=due_days)


# --- prices over time ----------------------------------------------------------------------------


class StandardLike(Protocol):
    room_use: str
    unit_price: Decimal
    valid_from: datetime.date
    valid_to: datetime.date | None


@dataclass(frozen=True, slots=True)
class PriceSpan:
    start: datetime.date
    end: datetime.date  # inclusive
    price: Decimal


def _covers(standard: StandardLike, day: datetime.date) -> bool:
    return standard.valid_from <= day and (standard.valid_to is None or day <= standard.valid_to)


def price_on(standards: Sequence[StandardLike], use: str, day: datetime.date) -> Decimal | None:
    """The unit price for a room of ``use`` on ``day``: the standard for that use, else the general one."""
    general = None
    for standard in standards:
        if not _covers(standard, day):
            continue
        if standard.room_use == use:
            return standard.unit_price
        if standard.room_use == "" and general is None:
            general = standard.unit_price
    return general


def price_spans(
    standards: Sequence[StandardLike], use: str, start: datetime.date, end: datetime.date
) -> list[PriceSpan]:
    """Day ranges of one price each over ``start``..``end``, cut at every standard's start and end;
    days with no applicable standard are left out."""
    relevant = [s for s in standards if s.room_use in (use, "")]
    cuts = {start, end + ONE_DAY}
    for standard in relevant:
        for cut in (
            standard.valid_from,
            (standard.valid_to + ONE_DAY) if standard.valid_to else None,
        ):
            if cut is not None and start < cut <= end:
                cuts.add(cut)
    ordered = sorted(cuts)
    spans: list[PriceSpan] = []
    for left, right in zip(ordered, ordered[1:], strict=False):
        price = price_on(relevant, use, left)
        if price is None:
            continue
        last = right - ONE_DAY
        if spans and spans[-1].price == price and spans[-1].end + ONE_DAY == left:
            spans[-1] = PriceSpan(spans[-1].start, last, price)
        else:
            spans.append(PriceSpan(left, last, price))
    return spans


def month_fraction(start: datetime.date, end: datetime.date) -> Fraction:
    """How many months ``start``..``end`` (inclusive) is, counting a part of a month by its days."""
    total = Fraction(0)
    cursor = start
    while cursor <= end:
        last = min(month_end(cursor), end)
        days = (last - cursor).days + 1
        dim = days_in_month(cursor)
        total += 1 if days == dim else Fraction(days, dim)
        cursor = last + ONE_DAY
    return total


def monthly_rate(spans: Sequence[PriceSpan]) -> Fraction:
    """Σ price × months over the spans: what one unit (㎡, household, space) costs for them."""
    return sum((Fraction(s.price) * month_fraction(s.start, s.end) for s in spans), Fraction(0))


def average_price(spans: Sequence[PriceSpan], start: datetime.date, end: datetime.date) -> Fraction:
    """A day-weighted price for metered usage over ``start``..``end`` (usage is not known by day)."""
    days = (end - start).days + 1
    weighted = sum((Fraction(s.price) * ((s.end - s.start).days + 1) for s in spans), Fraction(0))
    return weighted / days


def single_price(spans: Sequence[PriceSpan]) -> Decimal | None:
    prices = {s.price for s in spans}
    return prices.pop() if len(prices) == 1 else None


# --- rounding ------------------------------------------------------------------------------------


_EXACT = Context(prec=60)


def exact_decimal(value: Fraction) -> Decimal | None:
    """``value`` as a Decimal when its decimal expansion ends (denominator 2^a·5^b), else None."""
    den = value.denominator
    for p in (2, 5):
        while den % p == 0:
            den //= p
    if den != 1:
        return None
    return _EXACT.divide(Decimal(value.numerator), Decimal(value.denominator))


def exact_rate(value: Fraction) -> Decimal | Fraction:
    """The rate as a Decimal when that is exact (every whole-month line), else the fraction."""
    as_decimal = exact_decimal(value)
    return value if as_decimal is None else as_decimal


def round_line(value: Fraction | Decimal, rounding: str) -> Decimal:
    """A line's amount rounded to the fen once, with the fee item's rule."""
    if isinstance(value, Fraction):
        value = _EXACT.divide(Decimal(value.numerator), Decimal(value.denominator))
    return money(value, rounding)


def charge(quantity: Decimal, rate: Fraction | Decimal, factor: Decimal, rounding: str) -> Decimal:
    """quantity × rate × factor, rounded once. Exact: Decimal arithmetic when the rate is a finite
    decimal (see ``exact_rate``), fractions otherwise (a part of a month)."""
    if isinstance(rate, Fraction):
        as_decimal = exact_decimal(rate)
        if as_decimal is None:
            return round_line(Fraction(quantity) * rate * Fraction(factor), rounding)
        rate = as_decimal
    value = _EXACT.multiply(quantity, rate)
    if factor != 1:
        value = _EXACT.multiply(value, factor)
    return money(value, rounding)


# --- who pays which part of a period, and at what share ------------------------------------------


class RoomLike(Protocol):
    use: str
    handed_over: bool
    handover_date: datetime.date | None
    occupancy_state: str


@dataclass(frozen=True, slots=True)
class Segment:
    start: datetime.date
    end: datetime.date
    developer: bool  # before handover: the developer pays (物业管理条例 art. 41)


def payer_segments(room: RoomLike, period: Period, prorate_from_handover: bool) -> list[Segment]:
    """Splits a period at the handover date: the developer's days before it, the buyer's from it.

    Without proration the state on the period's first day decides the whole period.
    """
    if not room.handed_over:
        return [Segment(period.start, period.end, True)]
    handover = room.handover_date
    if handover is None or handover <= period.start:
        return [Segment(period.start, period.end, False)]
    if handover > period.end or not prorate_from_handover:
        return [Segment(period.start, period.end, True)]
    return [
        Segment(period.start, handover - ONE_DAY, True),
        Segment(handover, period.end, False),
    ]


EXEMPT = None


def policy_factor(item, *, developer: bool, vacant: bool) -> Decimal | None:
    """The share of the full charge billed (1, a reduced rate), or ``None`` when the policy exempts it.

    Not handed over: the developer pays in full, at a reduced rate, or nothing (a project setting).
    Vacant after handover: full, reduced by the vacancy rate, or nothing — only where the contract or
    local rules give a vacancy discount (LAW.md §5).
    """
    if developer:
        policy = item.not_handed_over_policy
        if policy == NotHandedOverPolicy.EXEMPT:
            return EXEMPT
        if policy == NotHandedOverPolicy.DEVELOPER_REDUCED:
            return Decimal(item.not_handed_over_rate)
        return Decimal(1)
    if vacant:
        policy = item.vacancy_policy
        if policy == VacancyPolicy.EXEMPT:
            return EXEMPT
        if policy == VacancyPolicy.REDUCED:
            return Decimal(item.vacancy_rate)
    return Decimal(1)


POLICY_METHODS = frozenset({ChargeMethod.AREA, ChargeMethod.FIXED, ChargeMethod.PARKING})


def applies_to(item, use: str) -> bool:
    """Whether ``item`` bills rooms of ``use`` (an empty list of uses means every use)."""
    return not item.uses or use in item.uses


def metered_usage(reading) -> Decimal:
    """Usage of a reading, across a meter replacement when one is recorded."""
    if reading.replaced:
        return (reading.old_meter_final - reading.previous) + (
            reading.current - reading.new_meter_start
        )
    return reading.current - reading.previous


def shared_split(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """A common meter's total over rooms by area, largest remainder: the shares add up exactly."""
    return allocate(total, list(weights))
