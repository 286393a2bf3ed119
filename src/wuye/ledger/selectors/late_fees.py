"""滞纳金 as of a date (docs/user/计费-滞纳金与优惠.md, LAW.md §6): the capped figure each bill may
still be asked for, from its allocations and reductions.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import (
    Sum,
)

from wuye.billing.enums import AdjustmentKind, BillKind
from wuye.billing.late_fees import LateFeeTerms, accrual_start, late_fee
from wuye.billing.models import Bill, BillAdjustment, LateFeeWaiver
from wuye.billing.selectors import (
    late_fee_terms_for,
)
from wuye.core.models import Project
from wuye.core.money import ZERO, money
from wuye.ledger.models import (
    Allocation,
)

if TYPE_CHECKING:
    pass
from wuye.ledger.selectors.outstanding import per_bill_sum, visible_on

# --- late fees -------------------------------------------------------------------------------------


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
    accrues that day and stops from the next (``billing.late_fees``: the one day-count rule). A reversal
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
