"""对账单 (docs/user/对账单.md): a household's statement for a date range."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import BooleanField, ExpressionWrapper, Q, Sum

from wuye.billing.enums import AdjustmentKind, BillKind
from wuye.billing.models import Account, Bill, BillAdjustment
from wuye.core.money import ZERO, money
from wuye.ledger.enums import PaymentMethod, PrepaidKind
from wuye.ledger.models import Allocation, Payment, PrepaidMovement
from wuye.ledger.selectors.outstanding import (
    bill_outstanding,
    bill_visible_date,
    sum_money,
    visible_on,
)
from wuye.ledger.selectors.prepaid import prepaid_balance
from wuye.ledger.selectors.receipts import period_text

# --- statement -------------------------------------------------------------------------------------

LINE_ORDER = {"bill": 0, "adjustment": 1, "payment": 2, "reversal": 3, "prepaid": 4, "refund": 5}


@dataclass
class StatementLine:
    date: datetime.date
    kind: str  # bill / adjustment / payment / reversal / prepaid (automatic consumption) / refund
    text: str
    charge: Decimal = ZERO  # raises what is owed (a bill, a reversed payment)
    credit: Decimal = ZERO  # lowers what is owed (a reduction, a payment, prepaid consumed)
    prepaid_change: Decimal = ZERO  # + deposited, − drawn or refunded
    balance: Decimal = ZERO  # owed after this line
    prepaid_balance: Decimal = ZERO  # prepaid balance after this line
    ref_id: int | None = None  # bill, adjustment, payment, prepaid movement or refund id
    sort_key: tuple = field(default=(), repr=False)


@dataclass
class Statement:
    account_id: int
    date_from: datetime.date
    date_to: datetime.date
    opening_balance: Decimal
    opening_prepaid: Decimal
    lines: list[StatementLine]
    closing_balance: Decimal
    closing_prepaid: Decimal

    @property
    def total_charged(self) -> Decimal:
        return sum((line.charge for line in self.lines), ZERO)

    @property
    def total_credited(self) -> Decimal:
        return sum((line.credit for line in self.lines), ZERO)


def _owed_on(account_id: int, on: datetime.date) -> Decimal:
    totals = bill_outstanding(Bill.objects.filter(account_id=account_id), on).aggregate(
        owed=sum_money("outstanding")
    )
    return money(totals["owed"])


def statement(account: Account, date_from: datetime.date, date_to: datetime.date) -> Statement:
    """对账单: opening balance on the day before ``date_from``, one line per bill, reduction, payment,
    reversal, prepaid consumption and refund dated in the range with the running balance (what is
    owed) and the running prepaid balance, and the closing balance on ``date_to``. A fixed number of
    queries (ten) for any range.
    """
    if date_to < date_from:
        date_from, date_to = date_to, date_from
    before = date_from - datetime.timedelta(days=1)
    opening = _owed_on(account.pk, before)
    opening_prepaid = prepaid_balance(account.pk, before)
    lines: list[StatementLine] = []

    # Bills that came into existence in the range (their period started or they were issued).
    bills = (
        Bill.objects.filter(account=account)
        .filter(visible_on(date_to))
        .exclude(visible_on(before))
        .select_related("fee_item", "late_fee_for")
    )
    for bill in bills:
        day = bill_visible_date(bill)
        name = bill.fee_item.name + ("滞纳金" if bill.kind == BillKind.LATE_FEE else "")
        lines.append(
            StatementLine(
                date=day,
                kind="bill",
                text=f"{name} {period_text(bill)}",
                charge=bill.amount,
                ref_id=bill.pk,
                sort_key=(day, LINE_ORDER["bill"], bill.due_date, bill.pk),
            )
        )
    adjustment_labels = dict(AdjustmentKind.choices)
    for adjustment in BillAdjustment.objects.filter(
        bill__account=account, effective_date__range=(date_from, date_to)
    ).select_related("bill__fee_item"):
        bill = adjustment.bill
        lines.append(
            StatementLine(
                date=adjustment.effective_date,
                kind="adjustment",
                text=f"{adjustment_labels.get(adjustment.kind, adjustment.kind)}："
                f"{bill.fee_item.name} {period_text(bill)}（{adjustment.reason}）",
                credit=adjustment.amount,
                ref_id=adjustment.pk,
                sort_key=(adjustment.effective_date, LINE_ORDER["adjustment"], adjustment.pk),
            )
        )

    # Payments and their reversals: allocations and prepaid movements grouped per payment and sign.
    by_payment: dict[tuple[int, bool], dict] = {}
    by_consumption: dict[int, Decimal] = defaultdict(Decimal)

    def group(payment_id: int, is_reversal: bool, day: datetime.date) -> dict:
        return by_payment.setdefault(
            (payment_id, is_reversal), {"date": day, "owed": ZERO, "prepaid": ZERO}
        )

    for payment_id, prepaid_id, is_reversal, day, total in (
        Allocation.objects.filter(bill__account=account, effective_date__range=(date_from, date_to))
        .annotate(is_rev=ExpressionWrapper(Q(amount__lt=0), output_field=BooleanField()))
        .order_by()
        .values("payment_id", "prepaid_id", "is_rev", "effective_date")
        .annotate(total=Sum("amount"))
        .values_list("payment_id", "prepaid_id", "is_rev", "effective_date", "total")
    ):
        if payment_id is not None:
            group(payment_id, bool(is_reversal), day)["owed"] += money(total)
        else:
            by_consumption[prepaid_id] += money(total)
    consumptions: list[PrepaidMovement] = []
    refunds: list[PrepaidMovement] = []
    for movement in PrepaidMovement.objects.filter(
        account=account, effective_date__range=(date_from, date_to)
    ).order_by("id"):
        if movement.payment_id is not None:
            is_rev = movement.kind == PrepaidKind.REVERSAL
            group(movement.payment_id, is_rev, movement.effective_date)["prepaid"] += (
                movement.amount
            )
        elif movement.kind == PrepaidKind.REFUND:
            refunds.append(movement)
        else:
            consumptions.append(movement)
    payments = {
        p.pk: p
        for p in Payment.objects.filter(pk__in={pid for pid, _ in by_payment}).prefetch_related(
            "lines"
        )
    }
    labels = dict(PaymentMethod.choices)
    for (payment_id, is_reversal), sums in by_payment.items():
        payment = payments[payment_id]
        methods = "，".join(
            f"{labels.get(x.method, x.method)} {x.amount}" for x in payment.lines.all()
        )
        if is_reversal:
            text = f"收款冲红 No.{payment.receipt_no:08d}"
            charge, credit = -sums["owed"], ZERO
        else:
            text = f"收款 No.{payment.receipt_no:08d}（{methods}）"
            charge, credit = ZERO, sums["owed"]
        kind = "reversal" if is_reversal else "payment"
        lines.append(
            StatementLine(
                date=sums["date"],
                kind=kind,
                text=text,
                charge=charge,
                credit=credit,
                prepaid_change=sums["prepaid"],
                ref_id=payment_id,
                sort_key=(sums["date"], LINE_ORDER[kind], payment.receipt_no),
            )
        )
    for movement in consumptions:
        lines.append(
            StatementLine(
                date=movement.effective_date,
                kind="prepaid",
                text="预存款抵扣账单"
                if movement.kind == PrepaidKind.CONSUME
                else movement.get_kind_display(),
                credit=by_consumption.pop(movement.pk, ZERO),
                prepaid_change=movement.amount,
                ref_id=movement.pk,
                sort_key=(movement.effective_date, LINE_ORDER["prepaid"], movement.pk),
            )
        )
    for movement in refunds:
        lines.append(
            StatementLine(
                date=movement.effective_date,
                kind="refund",
                text="预存款退款",
                prepaid_change=movement.amount,
                ref_id=movement.refund_id,
                sort_key=(movement.effective_date, LINE_ORDER["refund"], movement.pk),
            )
        )
    lines.sort(key=lambda line: line.sort_key)
    balance, prepaid = opening, opening_prepaid
    for line in lines:
        balance += line.charge - line.credit
        prepaid += line.prepaid_change
        line.balance, line.prepaid_balance = balance, prepaid
    return Statement(
        account_id=account.pk,
        date_from=date_from,
        date_to=date_to,
        opening_balance=opening,
        opening_prepaid=opening_prepaid,
        lines=lines,
        closing_balance=_owed_on(account.pk, date_to),
        closing_prepaid=prepaid_balance(account.pk, date_to),
    )
