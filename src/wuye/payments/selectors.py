"""Reads of the payments app."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal

from django.db.models import F, QuerySet, Sum

from wuye.core.money import ZERO, money
from wuye.payments.enums import LineKind, NoticeState, OrderStatus, RefundStatus
from wuye.payments.models import Notification, OnlineRefund, OrderIssue, PaymentOrder


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
