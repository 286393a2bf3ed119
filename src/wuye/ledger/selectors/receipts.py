"""收据 (docs/user/收银台.md, “收据与发票”): what a payment's receipt prints."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils import timezone

from wuye.billing.enums import BillKind
from wuye.billing.models import Bill
from wuye.core.money import ZERO, money
from wuye.ledger.enums import PaymentMethod, PrepaidKind
from wuye.ledger.models import Allocation, Payment, PaymentReversal, PrepaidMovement

if TYPE_CHECKING:
    from wuye.ledger.pdf import ReceiptData
from wuye.ledger.selectors.outstanding import sum_money


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
        ).aggregate(total=sum_money("amount"))["total"]
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
