"""What a bill still asks for, on any date: the one expression every app uses.

Allocations include the negative ones that reverse a payment (冲红), so a reversed payment simply stops
counting from the reversal's date on. A bill counts from the first of its period start and the day it
was created (a bill issued in advance is owed from the day it is issued; an imported old bill from its
period) — see ``visible_on``.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db.models import (
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Round
from django.utils import timezone

from wuye.billing.models import Bill, BillAdjustment
from wuye.core.money import ZERO, money
from wuye.core.sql import cents, date_param, date_placeholder, fetch, table
from wuye.ledger.models import Allocation

MONEY_FIELD = DecimalField(max_digits=14, decimal_places=2)
ZERO_MONEY = Value(ZERO, output_field=MONEY_FIELD)


def today() -> datetime.date:
    return timezone.localdate()


def sum_money(expression, **kwargs) -> Coalesce:
    return Coalesce(Sum(expression, **kwargs), ZERO_MONEY, output_field=MONEY_FIELD)


# --- outstanding per bill --------------------------------------------------------------------------


def visible_on(on: datetime.date, prefix: str = "") -> Q:
    """Bills that exist on ``on``: their period has started, or they were already issued (billed in
    advance). ``prefix`` lets other models filter through their bill (``"bill__"``)."""
    return Q(**{f"{prefix}period_start__lte": on}) | Q(**{f"{prefix}created_at__date__lte": on})


def bill_visible_date(bill: Bill) -> datetime.date:
    """The day from which a bill counts (Python twin of ``visible_on``)."""
    created = timezone.localdate(bill.created_at) if bill.created_at else bill.period_start
    return min(bill.period_start, created)


def per_bill_sum(model, as_of: datetime.date | None, **filters) -> Coalesce:
    rows = model.objects.filter(bill=OuterRef("pk"), **filters)
    if as_of is not None:
        rows = rows.filter(effective_date__lte=as_of)
    rows = rows.order_by().values("bill").annotate(total=Sum("amount")).values("total")
    return Coalesce(Subquery(rows, output_field=MONEY_FIELD), ZERO_MONEY, output_field=MONEY_FIELD)


def bill_outstanding(bills: QuerySet[Bill], as_of: datetime.date | None = None) -> QuerySet[Bill]:
    """``bills`` annotated with ``adjusted`` (Σ adjustments), ``allocated`` (Σ allocations, net of
    reversals) and ``outstanding`` = amount − adjusted − allocated.

    With ``as_of`` only entries dated on or before it count, and only bills that existed then are
    kept; without it every entry counts (what a payment may still take, right now).
    """
    if as_of is not None:
        bills = bills.filter(visible_on(as_of))
    return bills.annotate(
        adjusted=per_bill_sum(BillAdjustment, as_of),
        allocated=per_bill_sum(Allocation, as_of),
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


def overdue_per_account(
    bills: QuerySet[Bill], as_of: datetime.date
) -> list[tuple[int, Decimal, int, datetime.date]]:
    """``(account_id, Σ outstanding, bills, oldest due date)`` over those of ``bills`` (a filtered
    ``Bill`` queryset) that still ask for money on ``as_of`` — the sums of ``bill_outstanding``, in
    one statement shaped for many bills.

    ``bill_outstanding`` computes each bill's sums in correlated subqueries: two index probes per
    bill, right for a page of bills, minutes for the 12 M bills of a company-sized project. Here each
    selected bill is joined to its allocations and grouped by bill (the database can stream that in
    bill order, bills and allocations both read once); the adjustments, a few per thousand bills,
    are summed apart. Same terms: entries dated on or before ``as_of``, bills visible on it
    (``visible_on``), each bill rounded to the fen before the ``> 0`` test."""
    selected = bills.filter(visible_on(as_of)).order_by()
    rows_sql, rows_params = selected.values(
        "id", "account_id", "amount", "due_date"
    ).query.sql_with_params()
    ids_sql, ids_params = selected.values("id").query.sql_with_params()
    day = date_param(as_of)
    on = date_placeholder()
    sql = (
        f"SELECT o.account_id, SUM({cents('o.outstanding')}), COUNT(*), MIN(o.due_date) FROM ("  # noqa: S608
        "SELECT b.account_id, b.due_date, "
        "ROUND(b.amount - COALESCE(MAX(j.total), 0) - COALESCE(SUM(a.amount), 0), 2) AS outstanding "
        f"FROM ({rows_sql}) b "
        f"LEFT JOIN {table(Allocation)} a ON a.bill_id = b.id AND a.effective_date <= {on} "
        f"LEFT JOIN (SELECT e.bill_id, SUM(e.amount) AS total FROM {table(BillAdjustment)} e "
        f"WHERE e.effective_date <= {on} AND e.bill_id IN ({ids_sql}) GROUP BY e.bill_id) j "
        "ON j.bill_id = b.id "
        "GROUP BY b.id, b.account_id, b.due_date, b.amount"
        ") o WHERE o.outstanding > 0 GROUP BY o.account_id"
    )
    params = [*rows_params, day, day, *ids_params]
    return [
        (account_id, money(Decimal(total) / 100), n, _as_date(oldest))  # summed in fen
        for account_id, total, n, oldest in fetch(sql, params)
    ]


def _as_date(value) -> datetime.date:
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(value)
