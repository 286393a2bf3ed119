"""滞纳金 (docs/user/计费-滞纳金与优惠.md, LAW.md §6): only where the contract sets one, simple
interest, capped — the one computation, here, where the data it needs lives (the allocations are
the ledger's; the contract's rule and the LPR are billing's settings, read from below). Billing asks
for it through ``WUYE_LATE_FEES`` (its 减免与补偿 page and waivers); docs/decisions/0011.

``late_fee`` is a pure function over a bill's outstanding history, so the same figure comes out for
any as-of date, at the window, on a statement and in a written demand. The capped figure is what
demands and lawsuits use.

**The day-count rule (one rule, here only).** Interest accrues on each calendar day from the day after
the grace period ends (``accrual_start``) up to and including the as-of day, on what was still unpaid
at the start of that day. Money paid (or a reduction) dated a day still accrues on that day and stops
from the next day. So the days of a bill unpaid since its due date, as of day X or paid on day X, are
the same: X − due date − grace days (a bill 100 days overdue with no grace accrues 100 days). The fee
window's quote as of a day and the late-fee bill a payment of that day issues therefore agree to the
fen: paying the quoted total leaves nothing over. Every place that shows or charges a late fee goes
through ``late_fee`` (``late_fees_for``). The user guide (docs/user/计费-滞纳金与优惠.md, “逾期天数怎么算”)
says the same in Chinese.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum

from wuye.billing.enums import AdjustmentKind, BillKind
from wuye.billing.models import (
    DAYS_PER_YEAR,
    LAW_MAX_CAP_MULTIPLIER,
    Bill,
    BillAdjustment,
    LateFeeRule,
    LateFeeWaiver,
)
from wuye.billing.selectors import DEFAULT_CAP_MULTIPLIER, lpr_on
from wuye.core.models import Project
from wuye.core.money import ZERO, money
from wuye.ledger.models import Allocation
from wuye.ledger.selectors.outstanding import per_bill_sum, visible_on

ONE_DAY = datetime.timedelta(days=1)


# --- the computation -------------------------------------------------------------------------------


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


def late_fee_terms_for(project: Project, on: datetime.date) -> LateFeeTerms | None:
    """The late-fee terms in force on ``on``: the contract's rule and the company's latest LPR; ``None``
    when the contract sets no late fee."""
    rule = LateFeeRule.objects.filter(project=project).first()
    if rule is None or not rule.enabled or rule.daily_rate <= 0:
        return None
    return LateFeeTerms(
        daily_rate=rule.daily_rate,
        grace_days=rule.grace_days,
        start_date=rule.start_date,
        cap_multiplier=rule.cap_multiplier or DEFAULT_CAP_MULTIPLIER,
        lpr_annual=lpr_on(project.company_id, on),
    )


# --- per bill, from the ledger ---------------------------------------------------------------------


@dataclass(frozen=True)
class LateFeeDue:
    """A bill's late fee on a date (LAW.md §6): ``capped`` is the lawful figure, ``contract`` the
    contract's (shown beside it when higher); ``due`` is what may still be asked for."""

    days: int = 0
    contract: Decimal = ZERO
    capped: Decimal = ZERO
    waived: Decimal = ZERO  # Σ LateFeeWaiver
    billed: Decimal = ZERO  # Σ late-fee bills already issued for it (less their reversals)

    @property
    def due(self) -> Decimal:
        return max(money(self.capped - self.waived - self.billed), ZERO)

    @property
    def contract_exceeds_cap(self) -> bool:
        return self.contract > self.capped


NO_LATE_FEE_DUE = LateFeeDue()


def late_fees_for(
    project: Project,
    bills: Sequence[Bill],
    as_of: datetime.date,
    *,
    terms: LateFeeTerms | None | bool = True,
    extra_payments: dict[int, list[tuple[datetime.date, Decimal]]] | None = None,
) -> dict[int, LateFeeDue]:
    """The late fee of each charge in ``bills`` as of ``as_of``, keyed by bill id (bills without one
    are left out). Four queries for any number of bills (plus two for the terms).

    A bill's history for the late fee is its allocations and its reductions (discount, waiver,
    compensation) on their dates: money paid or reduced on a day still
    accrues that day and stops from the next (the day-count rule above). A reversal
    (冲红) of the bill cancels it from the start, so it lowers the principal instead. ``bills`` need
    ``fee_item`` loaded. ``extra_payments`` adds entries not yet written (a payment being recorded).
    """
    if terms is True:
        terms = late_fee_terms_for(project, as_of)
    if not terms:
        return {}
    candidates = [
        b
        for b in bills
        if b.kind == BillKind.CHARGE
        and b.fee_item.late_fee_applies
        and b.due_date >= terms.start_date
        and accrual_start(b.due_date, terms) <= as_of
    ]
    if not candidates:
        return {}
    ids = [b.pk for b in candidates]
    history: dict[int, list[tuple[datetime.date, Decimal]]] = defaultdict(list)
    cancelled: dict[int, Decimal] = defaultdict(Decimal)
    for bill_id, day, amount in Allocation.objects.filter(
        bill_id__in=ids, effective_date__lte=as_of
    ).values_list("bill_id", "effective_date", "amount"):
        history[bill_id].append((day, amount))
    for bill_id, kind, day, amount in BillAdjustment.objects.filter(
        bill_id__in=ids, effective_date__lte=as_of
    ).values_list("bill_id", "kind", "effective_date", "amount"):
        if kind == AdjustmentKind.REVERSAL:
            cancelled[bill_id] += amount
        else:
            history[bill_id].append((day, amount))
    waived = dict(
        LateFeeWaiver.objects.filter(bill_id__in=ids, effective_date__lte=as_of)
        .order_by()
        .values("bill_id")
        .annotate(total=Sum("amount"))
        .values_list("bill_id", "total")
    )
    billed: dict[int, Decimal] = defaultdict(Decimal)
    for parent_id, amount, reversed_amount in (
        Bill.objects.filter(kind=BillKind.LATE_FEE, late_fee_for_id__in=ids)
        .filter(visible_on(as_of))
        .annotate(rev=per_bill_sum(BillAdjustment, as_of, kind=AdjustmentKind.REVERSAL))
        .values_list("late_fee_for_id", "amount", "rev")
    ):
        billed[parent_id] += amount - reversed_amount
    extra = extra_payments or {}
    result = {}
    for bill in candidates:
        fee = late_fee(
            principal=bill.amount - cancelled[bill.pk],
            due_date=bill.due_date,
            payments=history[bill.pk] + extra.get(bill.pk, []),
            as_of=as_of,
            terms=terms,
        )
        if fee.capped or fee.contract:
            result[bill.pk] = LateFeeDue(
                days=fee.days,
                contract=fee.contract,
                capped=fee.capped,
                waived=money(waived.get(bill.pk, ZERO)),
                billed=money(billed[bill.pk]),
            )
    return result
