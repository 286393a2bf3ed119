"""Reads of the payments app."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F, QuerySet, Sum

from wuye.core.money import ZERO, money
from wuye.payments.enums import LineKind, NoticeState, OrderStatus, ReconStatus, RefundStatus
from wuye.payments.models import (
    Notification,
    OnlineRefund,
    OrderIssue,
    PaymentOrder,
    ReconciliationLine,
)


def order_by_no(out_trade_no: str) -> PaymentOrder | None:
    """The order with this merchant order number (商户订单号), or None."""
    if not out_trade_no:
        return None
    return (
        PaymentOrder.objects.select_related("account__room", "project", "payment")
        .filter(out_trade_no=out_trade_no)
        .first()
    )


def open_orders(
    *,
    project_ids: Iterable[int] | None = None,
    account=None,
    created_before: datetime.datetime | None = None,
) -> QuerySet[PaymentOrder]:
    """Orders still waiting for the payer (oldest first), optionally of some projects or one
    account, or created before a moment (the periodic query leaves the newest a minute)."""
    orders = PaymentOrder.objects.filter(status=OrderStatus.OPEN)
    if project_ids is not None:
        orders = orders.filter(project_id__in=list(project_ids))
    if account is not None:
        orders = orders.filter(account=account)
    if created_before is not None:
        orders = orders.filter(created_at__lt=created_before)
    return orders.select_related("account__room", "project").order_by("created_at", "id")


def partial_refunds_in_flight(account_id: int) -> Decimal:
    """What the account's partial online refunds still in flight (处理中) will take out of its prepaid
    balance when the platform confirms them (a whole refund reverses its payment instead)."""
    total = (
        OnlineRefund.objects.filter(order__account_id=account_id, status=RefundStatus.PROCESSING)
        .exclude(amount=F("order__paid_amount"))
        .aggregate(total=Sum("amount"))["total"]
    )
    return money(total or ZERO)


def owner_orders_since(account_id: int, since: datetime.datetime) -> int:
    """Orders the owner page or API made for the account since ``since`` (a cashier's have a
    ``created_by``)."""
    return PaymentOrder.objects.filter(
        account_id=account_id, created_by__isnull=True, created_at__gt=since
    ).count()


def orders_in(project_ids: Iterable[int]) -> QuerySet[PaymentOrder]:
    return (
        PaymentOrder.objects.filter(project_id__in=list(project_ids))
        .select_related("account__room", "project", "payment")
        .order_by("-created_at", "-id")
    )


def open_issues(project_ids: Iterable[int]) -> QuerySet[OrderIssue]:
    return (
        OrderIssue.objects.filter(order__project_id__in=list(project_ids), resolved_at__isnull=True)
        .select_related("order__account__room", "order__project")
        .order_by("-created_at")
    )


def notices_waiting(project_ids: Iterable[int]) -> QuerySet[Notification]:
    """Payment notices not posted yet (pending, or failed and waiting for a retry, with why), oldest
    first: finance see them on the orders page."""
    return Notification.objects.filter(
        state__in=[NoticeState.PENDING, NoticeState.FAILED],
        kind=LineKind.PAY,
        out_trade_no__in=PaymentOrder.objects.filter(project_id__in=list(project_ids)).values(
            "out_trade_no"
        ),
    ).order_by("id")


@dataclass(frozen=True)
class ReconTotals:
    """A reconciliation's figures over some of its lines: counts, net amounts (payments less
    refunds), the platform's fee and the lines that differ."""

    platform_count: int
    platform_amount: Decimal
    ledger_count: int
    ledger_amount: Decimal
    fee_amount: Decimal
    difference_count: int


def _net(lines: list[ReconciliationLine], field: str) -> Decimal:
    total = ZERO
    for line in lines:
        value = getattr(line, field)
        if value is not None:
            total += value if line.kind == LineKind.PAY else -value
    return money(total)


def recon_totals(lines: Iterable[ReconciliationLine]) -> ReconTotals:
    """The figures of ``lines``: of a whole day when it is run, of the lines a user may see on the
    page and in the export (the statement covers every project and company on the merchant account)."""
    lines = list(lines)
    return ReconTotals(
        platform_count=sum(1 for line in lines if line.platform_amount is not None),
        platform_amount=_net(lines, "platform_amount"),
        ledger_count=sum(1 for line in lines if line.ledger_amount is not None),
        ledger_amount=_net(lines, "ledger_amount"),
        fee_amount=money(sum((line.fee for line in lines), ZERO)),
        difference_count=sum(1 for line in lines if line.status != ReconStatus.MATCHED),
    )
