"""日结 (docs/user/日结.md): one cashier's day in figures, the project's closings, the days that
were never closed, and who can close a day.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, QuerySet

from wuye.core.models import Project, User
from wuye.core.money import ZERO
from wuye.core.roles import Role
from wuye.ledger.enums import PaymentMethod
from wuye.ledger.models import CashierClosing, Payment, PaymentReversal, Refund

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
    def cash_handed_over(self) -> Decimal:
        """The notes and coins in the cashier's drawer: what is counted and handed over by hand."""
        return sum((t.net for t in self.totals if t.method == PaymentMethod.CASH), ZERO)

    @property
    def electronic_handed_over(self) -> Decimal:
        """WeChat, Alipay, card, transfer, withholding: already in the bank; finance checks them
        against the statements rather than receiving them from the cashier."""
        return self.handed_over - self.cash_handed_over

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
