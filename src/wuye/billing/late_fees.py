"""Late fees (滞纳金), LAW.md §6: only where the contract sets one, simple interest, capped.

Pure functions over a bill's outstanding history, so the same figure comes out for any as-of date, at the
window, on a statement and in a written demand. The capped figure is what demands and lawsuits use.

**The day-count rule (one rule, here only).** Interest accrues on each calendar day from the day after
the grace period ends (``accrual_start``) up to and including the as-of day, on what was still unpaid
at the start of that day. Money paid (or a reduction) dated a day still accrues on that day and stops
from the next day. So the days of a bill unpaid since its due date, as of day X or paid on day X, are
the same: X − due date − grace days (a bill 100 days overdue with no grace accrues 100 days). The fee
window's quote as of a day and the late-fee bill a payment of that day issues therefore agree to the
fen: paying the quoted total leaves nothing over. Every place that shows or charges a late fee goes
through ``late_fee`` (the ledger's ``late_fees_for``). The user guide
(docs/user/计费-滞纳金与优惠.md, “逾期天数怎么算”) says the same in Chinese.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from wuye.core.money import ZERO, money

DAYS_PER_YEAR = Decimal(365)
# LAW.md §6: at most 1.5 × the one-year LPR a year, whatever a project sets (it may only lower it).
LAW_MAX_CAP_MULTIPLIER = Decimal("1.5")
ONE_DAY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class LateFeeTerms:
    daily_rate: Decimal  # the contract's rate per day, e.g. 0.0003
    grace_days: int
    start_date: datetime.date  # bills due before this date carry no late fee
    cap_multiplier: Decimal  # × the one-year LPR, per year (default 1.5)
    lpr_annual: Decimal  # the one-year LPR in force, e.g. 0.0300

    @property
    def capped_daily_rate(self) -> Decimal:
        multiplier = min(self.cap_multiplier, LAW_MAX_CAP_MULTIPLIER)
        return min(self.daily_rate, multiplier * self.lpr_annual / DAYS_PER_YEAR)


@dataclass(frozen=True)
class LateFee:
    days: int  # days on which interest accrued
    contract: Decimal  # at the contract's rate, uncapped (shown for comparison only)
    capped: Decimal  # at the lawful rate and never above the principal: the figure to demand

    @property
    def contract_exceeds_cap(self) -> bool:
        return self.contract > self.capped


NO_LATE_FEE = LateFee(days=0, contract=ZERO, capped=ZERO)


def accrual_start(due_date: datetime.date, terms: LateFeeTerms) -> datetime.date:
    """The first day that accrues: the day after the grace period ends."""
    return due_date + datetime.timedelta(days=terms.grace_days + 1)


def late_fee(
    *,
    principal: Decimal,
    due_date: datetime.date,
    payments: Sequence[tuple[datetime.date, Decimal]],
    as_of: datetime.date,
    terms: LateFeeTerms | None,
) -> LateFee:
    """Simple interest on what was still unpaid each day from the end of the grace period to ``as_of``
    (both included).

    ``principal`` is the bill's amount after reductions; ``payments`` are (date, amount) reductions of it
    (a negative amount is a reversed payment). The day-count rule (module docstring): an entry dated a
    day takes effect from the next day, so the day it is paid still accrues, and the as-of day accrues.
    """
    if terms is None or terms.daily_rate <= 0 or principal <= 0 or due_date < terms.start_date:
        return NO_LATE_FEE
    start = accrual_start(due_date, terms)
    if as_of < start:
        return NO_LATE_FEE
    outstanding = principal
    day_sum = Decimal(0)  # Σ outstanding × days
    days = 0
    cursor = start  # the first day not yet counted
    for when, amount in sorted(payments):
        effective = when + ONE_DAY  # paid on ``when``: ``when`` still accrues, the next day not
        if effective <= cursor:
            outstanding -= amount
            continue
        if when >= as_of:
            break
        span = (effective - cursor).days
        if outstanding > 0:
            day_sum += outstanding * span
            days += span
        outstanding -= amount
        cursor = effective
    span = (as_of - cursor).days + 1
    if outstanding > 0 and span > 0:
        day_sum += outstanding * span
        days += span
    contract = money(day_sum * terms.daily_rate)
    capped = min(money(day_sum * terms.capped_daily_rate), money(principal))
    return LateFee(days=days, contract=contract, capped=capped)
