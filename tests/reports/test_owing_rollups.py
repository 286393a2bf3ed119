"""The household roll-ups of decision 0019: AccountOwing (what each account owes on AccountDebt's date,
due or not: the household rate's "paid everything" count early in a month) and MonthOwing (accounts
owing at each month's end, per building: the trend's household counts). Hand-computed ledgers, the
live answer beside them, and each kept current after a payment, a reversal and a new bill."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.reports.builders import D, account, bill, fee_item, pay, reverse, scope
from wuye.billing.calc import month_end
from wuye.billing.models import Bill
from wuye.core.roles import Role
from wuye.reports import selectors, summary_check, summary_refresh
from wuye.reports.models import (
    AccountDebt,
    AccountOwing,
    DebtTotal,
    MonthOwing,
    OpenBill,
    OwedRange,
    RollupState,
)
from wuye.reports.sql import Window

pytestmark = pytest.mark.django_db


def reads(queries, model) -> int:
    return sum(f"FROM {model._meta.db_table} " in q["sql"] for q in queries)


def months_back(day: datetime.date, n: int) -> datetime.date:
    year, month = divmod(day.year * 12 + day.month - 1 - n, 12)
    return D(year, month + 1, 1)


@pytest.fixture
def supervisor(make_user, project):
    return make_user("supervisor", Role.SUPERVISOR, project)


# --- AccountOwing: "paid everything" while this month's bills are not due yet -----------------------


@pytest.fixture
def not_due(project, cashier):
    """Three households billed for the last two months (due) and this month (due in ten days): a
    pays everything, b the two due bills, c nothing."""
    today = timezone.localdate()
    item = fee_item(project)
    this, due_later = months_back(today, 0), today + datetime.timedelta(days=10)
    a, b, c = (account(project, code) for code in ("1-1-101", "1-1-102", "2-1-101"))
    for acct in (a, b, c):
        for back in (2, 1):
            bill(acct, item, "100.00", months_back(today, back))
        bill(acct, item, "100.00", this, due_date=due_later)
    pay(cashier, a, "300.00", business_date=today)
    pay(cashier, b, "200.00", business_date=today)
    window = Window(months_back(today, 2), month_end(this))
    return {"a": a, "b": b, "c": c, "item": item, "today": today, "window": window}


def owed_ranges(project) -> dict[tuple, int]:
    return {
        (r.rollup, r.building_id, r.first_period, r.last_period): r.accounts
        for r in OwedRange.objects.filter(project_id=project.pk)
    }


def households(project, window, today, live=False):
    [row] = selectors.collection_rates(scope(project), window, today, live=live)
    return row.households_billed, row.households_clear, row.households_paid


def test_paid_everything_early_in_a_month_comes_from_account_owing(project, not_due):
    summary_refresh.refresh(full=True)
    today, window = not_due["today"], not_due["window"]
    assert RollupState.objects.get(name="owing").as_of == today
    with CaptureQueriesContext(connection) as queries:
        fast = households(project, window, today)
    # Billed 3; behind only c (b's unpaid bill is not due); paid everything only a.
    assert fast == (3, 2, 1)
    assert fast == households(project, window, today, live=True)
    # AccountOwing's rows counted per range of periods owed (OwedRange, decision 0020).
    assert reads(queries.captured_queries, OwedRange) > 0
    # The open bills are not counted for it (they were, COUNT(DISTINCT) over the window's, before).
    assert not any(
        f"FROM {OpenBill._meta.db_table} " in q["sql"] and "COUNT(DISTINCT" in q["sql"]
        for q in queries.captured_queries
    )
    owing = {
        r.account_id: (r.first_period, r.last_period)
        for r in AccountOwing.objects.filter(project_id=project.pk)
    }
    this = months_back(today, 0)
    assert owing == {
        not_due["b"].pk: (this, this),
        not_due["c"].pk: (months_back(today, 2), this),
    }
    # … and per range: b owes this month (building one), c since two months back (building two),
    # and c alone is behind (AccountDebt: its two due bills).
    one, two = not_due["b"].room.building_id, not_due["c"].room.building_id
    assert owed_ranges(project) == {
        ("owing", one, this, this): 1,
        ("owing", two, months_back(today, 2), this): 1,
        ("debt", two, months_back(today, 2), months_back(today, 1)): 1,
    }
    assert summary_check.check() == []


def test_account_owing_is_kept_current_after_a_payment_a_reversal_and_a_new_bill(
    project, not_due, cashier, supervisor
):
    summary_refresh.refresh(full=True)
    today, window, b = not_due["today"], not_due["window"], not_due["b"]
    one, this = b.room.building_id, months_back(today, 0)
    payment = pay(cashier, b, "100.00", business_date=today)  # b pays this month's bill too
    assert households(project, window, today) == (3, 2, 2)
    assert not AccountOwing.objects.filter(account_id=b.pk).exists()
    assert ("owing", one, this, this) not in owed_ranges(project)
    assert summary_check.check() == []
    reverse(payment, cashier, supervisor, today)  # 冲红: b owes it again
    assert households(project, window, today) == (3, 2, 1)
    assert AccountOwing.objects.filter(account_id=b.pk).exists()
    assert owed_ranges(project)[("owing", one, this, this)] == 1
    assert summary_check.check() == []
    parking = fee_item(project, code="CWF", name="车位费")
    bill(
        not_due["a"],
        parking,
        "50.00",
        months_back(today, 0),
        due_date=today + datetime.timedelta(days=10),
    )
    assert households(project, window, today) == (3, 2, 0)
    assert owed_ranges(project)[("owing", one, this, this)] == 2  # a owes its parking now
    for live in (False, True):
        assert households(project, window, today, live=live) == (3, 2, 0)
    assert summary_check.check() == []


def test_account_owing_on_another_date_or_with_fee_items_answers_from_the_open_bills(
    project, not_due
):
    summary_refresh.refresh(full=True)
    today, window = not_due["today"], not_due["window"]
    RollupState.objects.filter(name="owing").update(as_of=today - datetime.timedelta(days=1))
    with CaptureQueriesContext(connection) as queries:
        assert households(project, window, today) == (3, 2, 1)
    assert reads(queries.captured_queries, AccountOwing) == 0
    s = scope(project, fee_item_ids=(not_due["item"].pk,))
    fast = selectors.collection_rates(s, window, today)[0].figures()
    assert fast == selectors.collection_rates(s, window, today, live=True)[0].figures()
    summary_refresh.refresh()  # the next refresh of the day builds it for today again
    assert RollupState.objects.get(name="owing").as_of == today
    assert summary_check.check() == []


def test_paid_everything_on_a_past_date_counts_what_was_paid_after_it(project, cashier):
    """A report date before the window's bills fall due: a payment made after it (before the due
    date: in no LateEvent) was not made yet on it. OpenBill and LateEvent alone took a bill paid
    since as paid on the date."""
    item = fee_item(project)
    a, b, c = (account(project, code) for code in ("1-1-101", "1-1-102", "2-1-101"))
    jan = D(2025, 1, 1)
    for acct in (a, b, c):
        bill(acct, item, "100.00", jan)  # due 15 January
    pay(cashier, a, "100.00", business_date=D(2025, 1, 2))
    pay(cashier, b, "100.00", business_date=D(2025, 1, 20))  # late: a LateEvent
    summary_refresh.refresh(full=True)
    window = Window(jan, month_end(jan))
    # (billed, clear, paid everything): nothing is due on 1 or 10 January, so all are clear.
    expected = {D(2025, 1, 1): (3, 3, 0), D(2025, 1, 10): (3, 3, 1), D(2025, 1, 31): (3, 2, 2)}
    for day, counts in expected.items():
        assert households(project, window, day, live=True) == counts, day
        assert households(project, window, day) == counts, day
    # c pays on the 3rd too: every bill paid now, none of them on the 1st.
    pay(cashier, c, "100.00", business_date=D(2025, 1, 3))
    assert households(project, window, D(2025, 1, 1)) == (3, 3, 0)
    assert households(project, window, D(2025, 1, 1), live=True) == (3, 3, 0)
    assert households(project, window, D(2025, 1, 10)) == (3, 3, 2)


def test_check_names_an_account_owing_row_that_differs(project, not_due):
    summary_refresh.refresh(full=True)
    row = AccountOwing.objects.get(account_id=not_due["c"].pk)
    AccountOwing.objects.filter(pk=row.pk).update(first_period=row.last_period)
    [diff] = summary_check.check()
    assert diff.table.startswith("AccountOwing") and diff.key == (row.account_id, row.building_id)


# --- DebtTotal: AccountDebt added up per building and payer type (decision 0020) --------------------


def totals(project) -> dict[tuple, tuple]:
    return {
        (r.building_id, r.developer): (r.b0_fen, r.n0, r.principal_fen, r.accounts)
        for r in DebtTotal.objects.filter(project_id=project.pk)
    }


def aging_rows(project, today, group="company", live=False):
    return [
        (r.key, r.developer, r.buckets, r.counts, r.total, r.accounts)
        for r in selectors.aging(scope(project), today, group, True, live=live)
    ]


def assert_aging_is_live(project, today):
    for group in ("company", "building", "steward"):
        assert aging_rows(project, today, group) == aging_rows(project, today, group, live=True)


def test_debt_totals_answer_aging_and_are_kept_current(project, not_due, cashier, supervisor):
    summary_refresh.refresh(full=True)
    today, a, c = not_due["today"], not_due["a"], not_due["c"]
    one, two = a.room.building_id, c.room.building_id
    # Only c is overdue: its two due bills, both less than 90 days past due.
    assert totals(project) == {(two, False): (20000, 1, 20000, 1)}
    with CaptureQueriesContext(connection) as queries:
        rows = aging_rows(project, today)
    assert reads(queries.captured_queries, DebtTotal) == 1
    assert reads(queries.captured_queries, AccountDebt) == 0
    assert rows[0][2][0] == Decimal("200.00") and rows[0][5] == 1  # ¥200 in bucket one, one account
    assert_aging_is_live(project, today)
    payment = pay(cashier, c, "150.00", business_date=today)
    assert_aging_is_live(project, today)
    assert totals(project) == {(two, False): (5000, 1, 5000, 1)}
    assert summary_check.check() == []
    reverse(payment, cashier, supervisor, today)
    assert_aging_is_live(project, today)
    assert totals(project) == {(two, False): (20000, 1, 20000, 1)}
    # A parking bill of a's for last month, already due and unpaid: building one owes too.
    bill(a, fee_item(project, code="CWF", name="车位费"), "50.00", months_back(today, 1))
    assert_aging_is_live(project, today)
    assert totals(project) == {(two, False): (20000, 1, 20000, 1), (one, False): (5000, 1, 5000, 1)}
    assert summary_check.check() == []


def test_check_names_a_debt_total_that_differs(project, not_due):
    summary_refresh.refresh(full=True)
    DebtTotal.objects.update(n0=2)
    [diff] = summary_check.check()
    assert diff.table == "DebtTotal"
    assert diff.key == (project.pk, not_due["c"].room.building_id, 0)


# --- MonthOwing: accounts owing at each month's end -------------------------------------------------


@pytest.fixture
def months(project, cashier):
    """Bills for three past months (due on the 15th): a pays each on the 2nd of its month, b never,
    c its first bill late (in the month after the third)."""
    today = timezone.localdate()
    item = fee_item(project)
    m3, m2, m1 = (months_back(today, n) for n in (3, 2, 1))
    a, b, c = (account(project, code) for code in ("1-1-101", "1-1-102", "2-1-101"))
    for acct in (a, b, c):
        for first in (m3, m2, m1):
            bill(acct, item, "100.00", first)
    for first in (m3, m2, m1):
        pay(cashier, a, "100.00", business_date=first + datetime.timedelta(days=1))
    pay(cashier, c, "100.00", business_date=m1 + datetime.timedelta(days=3))
    return {"a": a, "b": b, "c": c, "item": item, "today": today, "months": (m3, m2, m1)}


def cells(project) -> dict[tuple[datetime.date, int], int]:
    return {
        (r.month, r.building_id): r.accounts
        for r in MonthOwing.objects.filter(project_id=project.pk, accounts__gt=0)
    }


def trend_households(project, today, live=False):
    return {
        m: (r.households_billed, r.households_clear)
        for m, r in selectors.rate_trend(scope(project), 4, today, live=live)
    }


def assert_trend_is_live(project, today):
    fast = [(m, r.figures()) for m, r in selectors.rate_trend(scope(project), 12, today)]
    slow = [(m, r.figures()) for m, r in selectors.rate_trend(scope(project), 12, today, live=True)]
    assert fast == slow


def test_month_owing_counts_the_accounts_owing_at_each_months_end(project, months):
    summary_refresh.refresh(full=True)
    today, (m3, m2, m1) = months["today"], months["months"]
    one, two = months["a"].room.building_id, months["c"].room.building_id
    # At each month's end b owes (building one) and c owes (building two): c paid its first bill
    # only in the third month, after the first two months' ends.
    assert cells(project) == {(m, one): 1 for m in (m3, m2, m1)} | {
        (m, two): 1 for m in (m3, m2, m1)
    }
    with CaptureQueriesContext(connection) as queries:
        fast = trend_households(project, today)
    assert reads(queries.captured_queries, MonthOwing) == 1
    assert fast == trend_households(project, today, live=True)
    assert [fast[m] for m in (m3, m2, m1)] == [(3, 1)] * 3
    assert_trend_is_live(project, today)
    assert summary_check.check() == []


def test_month_owing_is_kept_current_after_back_dated_payments_reversals_and_old_bills(
    project, months, cashier, supervisor
):
    summary_refresh.refresh(full=True)
    today, (m3, m2, m1) = months["today"], months["months"]
    b, c = months["b"], months["c"]
    one, two = b.room.building_id, c.room.building_id
    # b pays its first bill back-dated inside the first month, after it fell due: at that month's
    # end b no longer owed.
    payment = pay(cashier, b, "100.00", business_date=m3 + datetime.timedelta(days=20))
    assert_trend_is_live(project, today)
    assert cells(project) == {(m2, one): 1, (m1, one): 1} | {(m, two): 1 for m in (m3, m2, m1)}
    assert trend_households(project, today)[m3] == (3, 2)
    assert summary_check.check() == []
    # Its 冲红 today: the bill owes again from today, not at the first month's end (the bill is
    # irregular now: a negative allocation).
    reverse(payment, cashier, supervisor, today)
    assert_trend_is_live(project, today)
    assert (m3, one) not in cells(project)
    assert summary_check.check() == []
    # An old bill for the second month entered now (an import): a owed at that month's end.
    parking = fee_item(project, code="CWF", name="车位费")
    bill(months["a"], parking, "50.00", m2)
    assert_trend_is_live(project, today)
    assert cells(project)[(m2, one)] == 2
    assert trend_households(project, today)[m2] == (3, 0)
    assert summary_check.check() == []


def test_an_account_owing_in_two_buildings_in_a_month_makes_the_trend_read_the_open_bills(
    project, months
):
    summary_refresh.refresh(full=True)
    today, m2 = months["today"], months["months"][1]
    b, c = months["b"], months["c"]
    assert RollupState.objects.get(name="months").shared_accounts == 0
    # A bill of b naming c's room (another building), unpaid at the second month's end.
    Bill.objects.create(
        project_id=project.pk,
        account=b,
        room_id=c.room_id,
        fee_item=fee_item(project, code="CWF", name="车位费"),
        period_start=m2,
        period_end=month_end(m2),
        amount="30.00",
        due_date=m2 + datetime.timedelta(days=14),
    )
    summary_refresh.refresh()
    assert RollupState.objects.get(name="months").shared_accounts == 1
    with CaptureQueriesContext(connection) as queries:
        fast = trend_households(project, today)
    assert reads(queries.captured_queries, MonthOwing) == 0
    assert fast == trend_households(project, today, live=True)
    assert fast[m2] == (3, 1)  # b once, not twice
    assert_trend_is_live(project, today)
    assert summary_check.check() == []
    summary_refresh.refresh(full=True)
    assert RollupState.objects.get(name="months").shared_accounts == 1
    assert summary_check.check() == []


def test_check_names_a_month_owing_cell_that_differs(project, months):
    summary_refresh.refresh(full=True)
    row = MonthOwing.objects.filter(project_id=project.pk).order_by("month", "building_id").first()
    MonthOwing.objects.filter(pk=row.pk).update(accounts=row.accounts + 1)
    [diff] = summary_check.check()
    assert diff.table == "MonthOwing" and diff.key == (row.month.isoformat(), row.building_id)


def test_summaries_built_before_these_roll_ups_get_them_on_the_next_refresh(project, months):
    summary_refresh.refresh(full=True)
    AccountOwing.objects.all().delete()
    MonthOwing.objects.all().delete()
    RollupState.objects.filter(name__in=("owing", "months")).delete()
    summary_refresh.refresh()
    assert MonthOwing.objects.exists()
    assert RollupState.objects.get(name="owing").as_of == months["today"]
    assert summary_check.check() == []
