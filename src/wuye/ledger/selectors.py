"""Reads of the ledger: what a household owes, on any date, and what a cashier took in a day.

Balances are sums, never stored fields (ARCHITECTURE.md "the ledger is append-only"):

    outstanding(bill, as of D) = amount − Σ adjustments − Σ allocations        (each dated ≤ D)
    prepaid balance(account, as of D) = Σ prepaid movements                     (dated ≤ D)

Allocations include the negative ones that reverse a payment (冲红), so a reversed payment simply stops
counting from the reversal's date on. A bill counts from the first of its period start and the day it
was created (a bill issued in advance is owed from the day it is issued; an imported old bill from its
period) — see ``visible_on``. Every figure here is a SQL aggregate with a fixed number of queries,
whatever the number of bills.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import (
    BooleanField,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Round
from django.utils import timezone
from django.utils.module_loading import import_string

from wuye.billing.enums import AdjustmentKind, BillKind
from wuye.billing.late_fees import LateFeeTerms, accrual_start, late_fee
from wuye.billing.models import Account, Bill, BillAdjustment, LateFeeWaiver
from wuye.billing.selectors import (  # noqa: F401  (accounts_of_room is re-exported)
    accounts_of_room,
    billing_settings,
    late_fee_terms_for,
)
from wuye.core.models import Project, User
from wuye.core.money import ZERO, money
from wuye.core.roles import Role
from wuye.ledger.enums import PaymentMethod, PrepaidKind
from wuye.ledger.models import (
    Allocation,
    CashierClosing,
    Payment,
    PaymentLine,
    PaymentReversal,
    PrepaidMovement,
    ReceiptPrint,
    Refund,
)
from wuye.registry.models import Room
from wuye.registry.selectors import room_payer

if TYPE_CHECKING:
    from wuye.ledger.pdf import NoticeData, ReceiptData

MONEY_FIELD = DecimalField(max_digits=14, decimal_places=2)
_ZERO = Value(ZERO, output_field=MONEY_FIELD)


def _today() -> datetime.date:
    return timezone.localdate()


def _sum(expression, **kwargs) -> Coalesce:
    return Coalesce(Sum(expression, **kwargs), _ZERO, output_field=MONEY_FIELD)


# --- outstanding per bill --------------------------------------------------------------------------


def visible_on(on: datetime.date, prefix: str = "") -> Q:
    """Bills that exist on ``on``: their period has started, or they were already issued (billed in
    advance). ``prefix`` lets other models filter through their bill (``"bill__"``)."""
    return Q(**{f"{prefix}period_start__lte": on}) | Q(**{f"{prefix}created_at__date__lte": on})


def bill_visible_date(bill: Bill) -> datetime.date:
    """The day from which a bill counts (Python twin of ``visible_on``)."""
    created = timezone.localdate(bill.created_at) if bill.created_at else bill.period_start
    return min(bill.period_start, created)


def _per_bill_sum(model, as_of: datetime.date | None, **filters) -> Coalesce:
    rows = model.objects.filter(bill=OuterRef("pk"), **filters)
    if as_of is not None:
        rows = rows.filter(effective_date__lte=as_of)
    rows = rows.order_by().values("bill").annotate(total=Sum("amount")).values("total")
    return Coalesce(Subquery(rows, output_field=MONEY_FIELD), _ZERO, output_field=MONEY_FIELD)


def bill_outstanding(bills: QuerySet[Bill], as_of: datetime.date | None = None) -> QuerySet[Bill]:
    """``bills`` annotated with ``adjusted`` (Σ adjustments), ``allocated`` (Σ allocations, net of
    reversals) and ``outstanding`` = amount − adjusted − allocated.

    With ``as_of`` only entries dated on or before it count, and only bills that existed then are
    kept; without it every entry counts (what a payment may still take, right now).
    """
    if as_of is not None:
        bills = bills.filter(visible_on(as_of))
    return bills.annotate(
        adjusted=_per_bill_sum(BillAdjustment, as_of),
        allocated=_per_bill_sum(Allocation, as_of),
    ).annotate(
        # Rounded to the fen in SQL: SQLite keeps decimals as binary floats, and a sum such as
        # 0.10 + 0.20 − 0.30 must compare equal to 0 there, as it does on PostgreSQL.
        outstanding=Round(
            ExpressionWrapper(
                F("amount") - F("adjusted") - F("allocated"), output_field=MONEY_FIELD
            ),
            2,
            output_field=MONEY_FIELD,
        )
    )


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
        .annotate(rev=_per_bill_sum(BillAdjustment, as_of, kind=AdjustmentKind.REVERSAL))
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


# --- the fee window --------------------------------------------------------------------------------


def unpaid_bills(account: Account, as_of: datetime.date | None = None) -> list[Bill]:
    """The account's bills that still ask for money on ``as_of`` (default today), oldest due first.

    Each bill carries ``adjusted``, ``allocated``, ``outstanding`` and ``late_fee`` (a ``LateFeeDue``;
    ``late_fee.due`` is the capped figure less waivers and late-fee bills already issued). Late-fee
    bills (``kind="late_fee"``) that are still unpaid are listed too. Three queries without a late-fee
    rule, eight with one (counting the account's project), whatever the number of bills.
    """
    on = as_of or _today()
    bills = list(
        bill_outstanding(Bill.objects.filter(account=account), on)
        .filter(outstanding__gt=0)
        .select_related("fee_item")
        .order_by("due_date", "period_start", "id")
    )
    fees = late_fees_for(account.project, bills, on) if bills else {}
    for bill in bills:
        bill.adjusted, bill.allocated = money(bill.adjusted), money(bill.allocated)
        bill.outstanding = money(bill.outstanding)
        bill.late_fee = fees.get(bill.pk, NO_LATE_FEE_DUE)
    return bills


@dataclass(frozen=True)
class AccountPosition:
    """What a payer account owed on ``as_of``: the answer to "what did this household owe, and what was
    overdue, on date X" for any past date."""

    account_id: int
    as_of: datetime.date
    billed: Decimal  # Σ bills that existed on as_of
    reduced: (
        Decimal  # Σ their adjustments dated ≤ as_of (reversals, discounts, waivers, compensations)
    )
    paid: Decimal  # Σ allocations dated ≤ as_of, net of reversed payments
    outstanding: Decimal  # billed − reduced − paid
    overdue: Decimal  # Σ outstanding of bills due before as_of
    overdue_bills: int
    oldest_overdue_due_date: datetime.date | None
    prepaid_balance: Decimal  # Σ prepaid movements dated ≤ as_of

    @property
    def net(self) -> Decimal:
        """Outstanding less prepaid balance (negative: the household is in credit)."""
        return self.outstanding - self.prepaid_balance


def account_position(account: Account | int, as_of: datetime.date | None = None) -> AccountPosition:
    """Totals of one account on ``as_of`` (default today): two queries."""
    on = as_of or _today()
    account_id = account.pk if isinstance(account, Account) else account
    overdue = Q(due_date__lt=on, outstanding__gt=0)
    totals = bill_outstanding(Bill.objects.filter(account_id=account_id), on).aggregate(
        billed=_sum("amount"),
        reduced=_sum("adjusted"),
        paid=_sum("allocated"),
        overdue=_sum("outstanding", filter=overdue),
        overdue_bills=Count("pk", filter=overdue),
        oldest=Min("due_date", filter=overdue),
    )
    billed, reduced, paid = (money(totals[k]) for k in ("billed", "reduced", "paid"))
    return AccountPosition(
        account_id=account_id,
        as_of=on,
        billed=billed,
        reduced=reduced,
        paid=paid,
        outstanding=billed - reduced - paid,
        overdue=money(totals["overdue"]),
        overdue_bills=totals["overdue_bills"],
        oldest_overdue_due_date=totals["oldest"],
        prepaid_balance=prepaid_balance(account_id, on),
    )


def prepaid_balance(account: Account | int, as_of: datetime.date | None = None) -> Decimal:
    """Σ the account's prepaid movements dated on or before ``as_of`` (default: all of them)."""
    rows = PrepaidMovement.objects.filter(account=account)
    if as_of is not None:
        rows = rows.filter(effective_date__lte=as_of)
    return money(rows.aggregate(total=_sum("amount"))["total"])


def prepaid_available(account: Account | int, on: datetime.date) -> Decimal:
    """How much prepaid balance may be taken out on ``on`` without the balance going negative on any
    day from ``on`` onwards (a back-dated draw must not overdraw a later day): the lowest running
    balance from ``on`` on. One query."""
    movements = sorted(
        PrepaidMovement.objects.filter(account=account).values_list("effective_date", "amount")
    )
    balance = sum((amount for day, amount in movements if day <= on), ZERO)
    lowest = balance
    for day, amount in movements:
        if day > on:
            balance += amount
            lowest = min(lowest, balance)
    return money(max(lowest, ZERO))


def account_of_room(room: Room, on: datetime.date | None = None) -> Account | None:
    """The account of whoever pays for ``room`` on ``on``; ``None`` when it has none yet (reading only:
    ``billing.services.account_for`` creates it)."""
    payer = room_payer(room, on)
    if payer is None:
        return None
    return Account.objects.filter(room=room, payer=payer).select_related("payer", "room").first()


# --- payments --------------------------------------------------------------------------------------


def payments_in(project_ids: Iterable[int]) -> QuerySet[Payment]:
    """Payments of the given projects (start every payment query from the user's scope)."""
    return Payment.objects.filter(project_id__in=list(project_ids))


def payment_detail(payment_id: int, project_ids: Iterable[int]) -> Payment | None:
    """One payment with its lines, allocations (and their bills), prints and reversal, in the user's
    scope: five queries."""
    return (
        payments_in(project_ids)
        .filter(pk=payment_id)
        .select_related("project__company", "account__room", "account__payer", "cashier")
        .prefetch_related(
            "lines",
            Prefetch(
                "allocations",
                queryset=Allocation.objects.select_related("bill__fee_item").order_by("id"),
            ),
            Prefetch("prints", queryset=ReceiptPrint.objects.order_by("id")),
        )
        .first()
    )


def payment_with_key(idempotency_key: str, account: Account) -> Payment | None:
    """The account's payment made from the form carrying ``idempotency_key`` (a double submit)."""
    if not idempotency_key:
        return None
    return Payment.objects.filter(idempotency_key=idempotency_key, account=account).first()


def payment_is_reversed(payment: Payment) -> bool:
    return PaymentReversal.objects.filter(payment=payment).exists()


def payments_of_account(account: Account, limit: int = 50) -> list[Payment]:
    """The account's latest payments with their lines and reversal (three queries)."""
    return list(
        Payment.objects.filter(account=account)
        .select_related("cashier", "reversal")
        .prefetch_related("lines")
        .order_by("-business_date", "-id")[:limit]
    )


def period_text(bill: Bill) -> str:
    """A bill's period as printed: ``2024-03``, ``2024-01～2024-03``, a late fee's issue date."""
    if bill.kind == BillKind.LATE_FEE:
        return f"{bill.period_start:%Y-%m-%d}"
    if (bill.period_start.year, bill.period_start.month) == (
        bill.period_end.year,
        bill.period_end.month,
    ):
        return f"{bill.period_start:%Y-%m}"
    return f"{bill.period_start:%Y-%m}～{bill.period_end:%Y-%m}"


def receipt_data(
    payment: Payment, *, is_reprint: bool = False, is_view: bool = False
) -> ReceiptData:
    """The receipt of a payment as ``wuye.ledger.pdf.ReceiptData`` (what ``receipt_pdf`` draws).

    Lines are the bills the payment paid (late fees named as such); ``prepaid_deposit`` is what went
    into prepaid balance; ``prepaid_balance`` is the balance right after this payment.
    """
    from wuye.ledger.pdf import ReceiptData, ReceiptLine

    payment = (
        Payment.objects.select_related(
            "project__company", "account__room", "account__payer", "cashier"
        )
        .prefetch_related("lines")
        .get(pk=payment.pk)
    )
    allocations = (
        Allocation.objects.filter(payment=payment, amount__gt=0)
        .select_related("bill__fee_item", "bill__late_fee_for")
        .order_by("bill__due_date", "bill__period_start", "bill_id")
    )
    lines = []
    for allocation in allocations:
        bill = allocation.bill
        item = bill.fee_item.name
        if bill.kind == BillKind.LATE_FEE:
            parent = bill.late_fee_for
            item = f"{item}滞纳金" + (f"（{parent.period_start:%Y-%m}）" if parent else "")
        lines.append(ReceiptLine(item=item, period=period_text(bill), amount=allocation.amount))
    movements = list(
        PrepaidMovement.objects.filter(payment=payment)
        .exclude(kind=PrepaidKind.REVERSAL)
        .values_list("id", "kind", "amount")
    )
    deposit = sum((a for _, k, a in movements if k == PrepaidKind.DEPOSIT), ZERO)
    if movements:
        cutoff = max(i for i, _, _ in movements)
    else:
        cutoff = (
            PrepaidMovement.objects.filter(
                account_id=payment.account_id, created_at__lte=payment.created_at
            )
            .order_by("-id")
            .values_list("id", flat=True)
            .first()
        ) or 0
    balance = money(
        PrepaidMovement.objects.filter(
            account_id=payment.account_id, id__lte=cutoff, effective_date__lte=payment.business_date
        ).aggregate(total=_sum("amount"))["total"]
    )
    reversal = PaymentReversal.objects.filter(payment=payment).first()
    labels = dict(PaymentMethod.choices)
    return ReceiptData(
        company=payment.project.company.name,
        project=payment.project.name,
        receipt_no=payment.receipt_no,
        room_code=payment.account.room.code,
        payer=payment.account.payer.name,
        business_date=payment.business_date,
        entered_at=timezone.localtime(payment.received_at),
        cashier=str(payment.cashier),
        lines=lines,
        methods=[
            (str(labels.get(line.method, line.method)), line.amount) for line in payment.lines.all()
        ],
        total=payment.amount,
        prepaid_deposit=deposit,
        prepaid_balance=balance,
        is_reprint=is_reprint,
        is_view=is_view,
        reversed_note=(
            f"{reversal.business_date:%Y-%m-%d} {reversal.reason}" if reversal is not None else ""
        ),
        service_phone=payment.project.service_phone,
    )


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
        owed=_sum("outstanding")
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


# --- the cashier's day -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MethodTotal:
    method: str
    label: str
    received: Decimal = ZERO
    reversed: Decimal = ZERO  # payments of any day reversed on this day
    refunded: Decimal = ZERO

    @property
    def net(self) -> Decimal:
        return self.received - self.reversed - self.refunded

    def as_json(self) -> dict[str, str]:
        return {
            "label": self.label,
            "received": str(self.received),
            "reversed": str(self.reversed),
            "refunded": str(self.refunded),
            "net": str(self.net),
        }


@dataclass
class CashierDay:
    project_id: int
    cashier_id: int
    business_date: datetime.date
    totals: list[MethodTotal]  # one per method used, in PaymentMethod order
    payments: list[Payment]  # with lines, account__room, account__payer; ``is_reversed``
    reversals: list[PaymentReversal]  # made by the cashier that day (with payment and its lines)
    refunds: list[Refund]
    closing: CashierClosing | None

    @property
    def handed_over(self) -> Decimal:
        """Money the cashier hands to finance: the net of every method except prepaid balance (which
        moves no money)."""
        return sum((t.net for t in self.totals if t.method != PaymentMethod.PREPAID), ZERO)

    @property
    def received(self) -> Decimal:
        return sum((t.received for t in self.totals), ZERO)

    @property
    def is_closed(self) -> bool:
        return self.closing is not None


def cashier_day(
    project: Project | int, cashier: User | int, business_date: datetime.date
) -> CashierDay:
    """日结 figures of one cashier and day: totals per method (received, reversed, refunded, net),
    the receipts, the reversals and the refunds. Six queries (five without reversals)."""
    project_id = project.pk if isinstance(project, Project) else project
    cashier_id = cashier.pk if isinstance(cashier, User) else cashier
    payments = list(
        Payment.objects.filter(
            project_id=project_id, cashier_id=cashier_id, business_date=business_date
        )
        .select_related("account__room", "account__payer", "reversal")
        .prefetch_related("lines")
        .order_by("receipt_no")
    )
    for payment in payments:
        try:
            payment.is_reversed = payment.reversal is not None
        except PaymentReversal.DoesNotExist:
            payment.is_reversed = False
    reversals = list(
        PaymentReversal.objects.filter(
            payment__project_id=project_id, requested_by_id=cashier_id, business_date=business_date
        )
        .select_related("payment__account__room", "approved_by")
        .prefetch_related("payment__lines")
        .order_by("id")
    )
    refunds = list(
        Refund.objects.filter(
            account__project_id=project_id, requested_by_id=cashier_id, business_date=business_date
        )
        .select_related("account__room", "approved_by")
        .order_by("id")
    )
    received: dict[str, Decimal] = defaultdict(Decimal)
    for payment in payments:
        for line in payment.lines.all():
            received[line.method] += line.amount
    reversed_: dict[str, Decimal] = defaultdict(Decimal)
    for reversal in reversals:
        for line in reversal.payment.lines.all():
            reversed_[line.method] += line.amount
    refunded: dict[str, Decimal] = defaultdict(Decimal)
    for refund in refunds:
        refunded[refund.method] += refund.amount
    totals = [
        MethodTotal(
            method=method.value,
            label=str(method.label),
            received=received.get(method.value, ZERO),
            reversed=reversed_.get(method.value, ZERO),
            refunded=refunded.get(method.value, ZERO),
        )
        for method in PaymentMethod
        if method.value in received or method.value in reversed_ or method.value in refunded
    ]
    closing = CashierClosing.objects.filter(
        project_id=project_id, cashier_id=cashier_id, business_date=business_date
    ).first()
    return CashierDay(
        project_id=project_id,
        cashier_id=cashier_id,
        business_date=business_date,
        totals=totals,
        payments=payments,
        reversals=reversals,
        refunds=refunds,
        closing=closing,
    )


def day_is_closed(project_id: int, cashier_id: int, business_date: datetime.date) -> bool:
    return CashierClosing.objects.filter(
        project_id=project_id, cashier_id=cashier_id, business_date=business_date
    ).exists()


def closing_of(
    project_id: int, cashier_id: int, business_date: datetime.date
) -> CashierClosing | None:
    """The cashier's 日结 of that day, if the day is closed (the window says so at the top)."""
    return CashierClosing.objects.filter(
        project_id=project_id, cashier_id=cashier_id, business_date=business_date
    ).first()


def line_totals(payment_ids: Iterable[int]) -> dict[str, Decimal]:
    """Σ payment lines per method for some payments (one query)."""
    return dict(
        PaymentLine.objects.filter(payment_id__in=list(payment_ids))
        .order_by()
        .values("method")
        .annotate(total=Sum("amount"))
        .values_list("method", "total")
    )


# --- the back office -------------------------------------------------------------------------------


def prepaid_movements(account: Account | int, limit: int = 50) -> list[PrepaidMovement]:
    """The account's latest prepaid movements, newest first (one query)."""
    return list(
        PrepaidMovement.objects.filter(account=account)
        .select_related("payment")
        .order_by("-effective_date", "-id")[:limit]
    )


def closings_in(
    project: Project | int,
    date_from: datetime.date,
    date_to: datetime.date,
    cashier_id: int | None = None,
) -> QuerySet[CashierClosing]:
    """The project's closings (日结) in a date range, newest first, for finance."""
    rows = CashierClosing.objects.filter(
        project=project, business_date__range=(date_from, date_to)
    ).select_related("cashier")
    if cashier_id:
        rows = rows.filter(cashier_id=cashier_id)
    return rows.order_by("-business_date", "cashier__username")


@dataclass(frozen=True)
class UnclosedDay:
    cashier: User
    business_date: datetime.date
    entries: int  # payments, reversals and refunds of that cashier dated that day


def unclosed_days(
    project: Project | int, *, before: datetime.date, cashier_id: int | None = None, limit: int = 60
) -> list[UnclosedDay]:
    """Days before ``before`` on which a cashier took money, reversed a payment or refunded in the
    project and never closed (日结), newest first: the closing page flags them (issue 13 item 12).
    Four queries."""
    counts: dict[tuple[int, datetime.date], int] = defaultdict(int)
    sources = (
        (Payment.objects.filter(project=project), "cashier_id"),
        (PaymentReversal.objects.filter(payment__project=project), "requested_by_id"),
        (Refund.objects.filter(account__project=project), "requested_by_id"),
    )
    for rows, who in sources:
        rows = rows.filter(business_date__lt=before)
        if cashier_id is not None:
            rows = rows.filter(**{who: cashier_id})
        for user_id, day, n in (
            rows.order_by()
            .values(who, "business_date")
            .annotate(n=Count("pk"))
            .values_list(who, "business_date", "n")
        ):
            counts[(user_id, day)] += n
    closed = set(
        CashierClosing.objects.filter(project=project, business_date__lt=before).values_list(
            "cashier_id", "business_date"
        )
    )
    keys = sorted((k for k in counts if k not in closed), key=lambda k: (k[1], k[0]), reverse=True)
    keys = keys[:limit]
    users = User.objects.in_bulk({k[0] for k in keys})
    return [UnclosedDay(users[c], d, counts[(c, d)]) for c, d in keys if c in users]


def day_cashiers(project: Project | int, business_date: datetime.date) -> list[User]:
    """Who can have a 日结 for that day: the project's cashiers and anyone who took money, reversed a
    payment or refunded in the project that day (a supervisor at the window). Four queries."""
    ids = set(
        Payment.objects.filter(project=project, business_date=business_date).values_list(
            "cashier_id", flat=True
        )
    )
    ids |= set(
        PaymentReversal.objects.filter(
            payment__project=project, business_date=business_date
        ).values_list("requested_by_id", flat=True)
    )
    ids |= set(
        Refund.objects.filter(account__project=project, business_date=business_date).values_list(
            "requested_by_id", flat=True
        )
    )
    return list(
        User.objects.filter(
            Q(pk__in=ids) | Q(memberships__project=project, memberships__role=Role.CASHIER)
        )
        .distinct()
        .order_by("username")
    )


def notices_for(
    project: Project,
    *,
    building_id: int,
    unit_id: int | None = None,
    as_of: datetime.date | None = None,
    period_to: datetime.date | None = None,
) -> list[NoticeData]:
    """缴费通知单 of a building (or one of its units): one ``NoticeData`` per payer account that owes
    money on ``as_of`` (default today), with each unpaid bill (late-fee bills included), the capped
    late fee still to be charged, the total, and the project's payment instructions. Only bills whose
    period starts on or before ``period_to`` count, when given. Each notice carries only its own
    account's bills (LAW.md §2). A fixed number of queries (ten with a late-fee rule) for any size.
    """
    from wuye.ledger.pdf import NoticeData, NoticeLine

    on = as_of or _today()
    rows = Bill.objects.filter(project=project, room__building_id=building_id)
    if unit_id:
        rows = rows.filter(room__unit_id=unit_id)
    if period_to is not None:
        rows = rows.filter(period_start__lte=period_to)
    bills = list(
        bill_outstanding(rows, on)
        .filter(outstanding__gt=0)
        .prefetch_related("fee_item")  # one FeeItem per item, not one per bill
        .order_by("account_id", "due_date", "period_start", "id")
    )
    if not bills:
        return []
    fees = late_fees_for(project, bills, on)
    accounts = {
        a.pk: a
        for a in Account.objects.filter(pk__in={b.account_id for b in bills}).select_related(
            "payer", "room__unit"
        )
    }
    company = project.company.name
    instructions = billing_settings(project).payment_instructions
    # How to pay by bank transfer, from the app that keeps the receiving accounts (banking, above).
    bank_details = "".join(
        import_string(path)(project=project)
        for path in getattr(settings, "WUYE_NOTICE_BANK_DETAILS", [])
    )
    by_account: dict[int, list[Bill]] = defaultdict(list)
    for bill in bills:
        by_account[bill.account_id].append(bill)
    notices = []
    for account_id, own in by_account.items():
        account = accounts[account_id]
        lines = [
            NoticeLine(
                item=bill.fee_item.name + ("滞纳金" if bill.kind == BillKind.LATE_FEE else ""),
                period=period_text(bill),
                due_date=bill.due_date,
                amount=money(bill.outstanding),
            )
            for bill in own
        ]
        notices.append(
            NoticeData(
                company=company,
                project=project.name,
                room_code=account.room.code,
                payer=account.payer.name,
                issued_on=on,
                lines=lines,
                total=sum((line.amount for line in lines), ZERO),
                late_fee=sum((fees[b.pk].due for b in own if b.pk in fees), ZERO),
                payment_instructions=instructions,
                service_phone=project.service_phone,
                bank_details=bank_details.replace("{room}", account.room.code),
            )
        )
    # Walking order of whoever delivers them: by room code, naturally (2-1-902 before 2-1-1001).
    notices.sort(key=lambda n: _natural_key(n.room_code))
    return notices


def _natural_key(code: str) -> tuple:
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in code.split("-"))
