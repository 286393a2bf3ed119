"""Payments: of a user's scope, one payment's detail, a household's latest, totals per method."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Prefetch, QuerySet, Sum

from wuye.billing.models import Account
from wuye.ledger.models import Allocation, Payment, PaymentLine, PaymentReversal, ReceiptPrint

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


def line_totals(payment_ids: Iterable[int]) -> dict[str, Decimal]:
    """Σ payment lines per method for some payments (one query)."""
    return dict(
        PaymentLine.objects.filter(payment_id__in=list(payment_ids))
        .order_by()
        .values("method")
        .annotate(total=Sum("amount"))
        .values_list("method", "total")
    )
