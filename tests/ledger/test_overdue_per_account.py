"""``overdue_per_account`` (the daily run's set-based read) gives what ``bill_outstanding`` gives."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db.models import Count, Min, Sum
from django.utils import timezone

from tests.ledger import factories
from wuye.billing.models import Bill, BillAdjustment
from wuye.core.money import money
from wuye.ledger.selectors.outstanding import bill_outstanding, overdue_per_account

D = datetime.date


def by_bill_outstanding(bills, on):
    rows = (
        bill_outstanding(bills, on)
        .filter(outstanding__gt=0)
        .order_by()
        .values("account_id")
        .annotate(total=Sum("outstanding"), n=Count("id"), oldest=Min("due_date"))
        .values_list("account_id", "total", "n", "oldest")
    )
    return sorted((a, money(t), n, o) for a, t, n, o in rows)


def test_same_sums_as_bill_outstanding_on_every_date(project, item, make_user):
    cashier = make_user("cashier_o", "cashier", project)
    a = factories.account(project, "1-1-101", owner="甲")
    b = factories.account(project, "1-1-102", owner="乙")
    c = factories.account(project, "1-1-103", owner="丙")
    for account in (a, b, c):
        factories.monthly_bills(account, item, D(2025, 1, 1), 6, amount="100.10")
    factories.pay(cashier, a, "250.20")  # two bills and part of a third
    factories.pay(cashier, c, "600.60")  # everything
    # A waiver on one of b's bills; the payments are dated today, after the earlier report dates.
    first_b = Bill.objects.filter(account=b).order_by("period_start").first()
    BillAdjustment.objects.create(
        bill=first_b,
        kind="waiver",
        amount=Decimal("30.00"),
        effective_date=D(2025, 3, 1),
        reason="困难减免",
        approved_by=cashier,
    )
    bills = Bill.objects.filter(project=project)
    today = timezone.localdate()
    for on in (D(2025, 1, 10), D(2025, 2, 20), D(2025, 3, 1), D(2025, 4, 10), today):
        due = bills.filter(due_date__lt=on)
        assert sorted(overdue_per_account(due, on)) == by_bill_outstanding(due, on), on
    owing = {row[0]: row for row in overdue_per_account(bills.filter(due_date__lt=today), today)}
    assert set(owing) == {a.pk, b.pk}  # c paid everything
    assert owing[a.pk][1:3] == (Decimal("350.40"), 4)
    assert owing[b.pk][1:3] == (Decimal("570.60"), 6)
