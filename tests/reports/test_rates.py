"""Collection rates (GLOSSARY.md "Rates") on small hand-built ledgers with answers worked out by hand."""

from decimal import Decimal

import pytest

from tests.ledger.factories import monthly_bills
from tests.reports.builders import (
    D,
    account,
    adjust,
    bill,
    fee_item,
    late_fee_bill,
    month,
    pay,
    reverse,
    scope,
)
from wuye.core.roles import Role
from wuye.ledger.services.prepaid import prepaid_consume
from wuye.reports import selectors
from wuye.reports.sql import Window

pytestmark = pytest.mark.django_db

Q1 = Window(D(2025, 1, 1), D(2025, 3, 31))
Q2 = Window(D(2025, 4, 1), D(2025, 6, 30))


def company(project, window, as_of, **kwargs):
    [row] = selectors.collection_rates(scope(project, **kwargs), window, as_of, live=True)
    return row


@pytest.fixture
def supervisor(make_user, project):
    return make_user("supervisor", Role.SUPERVISOR, project)


@pytest.fixture
def item(project):
    return fee_item(project)


@pytest.fixture
def acct(project):
    return account(project, "1-1-101")


def test_current_rate_counts_a_partial_payment_by_the_report_date(cashier, acct, item, project):
    monthly_bills(acct, item, D(2025, 1, 1), 3)  # 3 × 100, due on the 15th
    pay(cashier, acct, "150.00", business_date=D(2025, 3, 10))  # January paid, February half
    row = company(project, Q1, D(2025, 3, 31))
    assert (row.current_billed, row.current_received) == (Decimal("300.00"), Decimal("150.00"))
    assert row.current_rate == Decimal("0.5000")


def test_an_as_of_date_before_the_payment_sees_nothing_received(cashier, acct, item, project):
    monthly_bills(acct, item, D(2025, 1, 1), 3)
    pay(cashier, acct, "150.00", business_date=D(2025, 3, 10))
    row = company(project, Q1, D(2025, 3, 9))
    assert row.current_received == 0 and row.current_rate == Decimal("0.0000")


def test_recovery_rate_is_money_received_in_the_window_on_arrears_at_its_start(
    cashier, acct, item, project
):
    monthly_bills(acct, item, D(2025, 1, 1), 3)
    pay(cashier, acct, "150.00", business_date=D(2025, 3, 10))
    pay(cashier, acct, "100.00", business_date=D(2025, 5, 1))
    row = company(project, Q2, D(2025, 6, 30))
    assert row.opening_arrears == Decimal("150.00")  # 300 billed − 150 paid by 31 March
    assert row.recovered == Decimal("100.00")
    assert row.recovery_rate == Decimal("0.6667")
    # Before the May payment nothing was recovered yet.
    assert company(project, Q2, D(2025, 4, 30)).recovered == 0


def test_a_reversed_payment_stops_counting_from_the_reversal(
    cashier, supervisor, acct, item, project
):
    monthly_bills(acct, item, D(2025, 1, 1), 3)
    payment = pay(cashier, acct, "100.00", business_date=D(2025, 5, 1))
    reverse(payment, cashier, supervisor, D(2025, 5, 5))
    assert company(project, Q2, D(2025, 5, 3)).recovered == Decimal("100.00")
    assert company(project, Q2, D(2025, 6, 30)).recovered == 0
    assert company(project, Q2, D(2025, 6, 30)).recovery_rate == Decimal("0.0000")


def test_prepayment_counts_when_it_is_applied_to_the_bills(cashier, acct, item, project):
    pay(cashier, acct, "200.00", business_date=D(2025, 1, 5))  # no bills yet: prepaid balance
    monthly_bills(acct, item, D(2025, 1, 1), 2)
    prepaid_consume(account=acct, business_date=D(2025, 1, 20))
    assert company(project, Q1, D(2025, 1, 19)).current_received == 0
    row = company(project, Q1, D(2025, 1, 31))  # the balance paid January's bill on the 20th
    assert (row.current_billed, row.current_received) == (Decimal("200.00"), Decimal("100.00"))
    prepaid_consume(account=acct, business_date=D(2025, 2, 20))
    row = company(project, Q1, D(2025, 2, 28))
    assert row.current_received == Decimal("200.00") and row.current_rate == Decimal("1.0000")


def test_a_back_dated_payment_counts_from_its_own_date(cashier, acct, item, project):
    monthly_bills(acct, item, D(2025, 1, 1), 2)
    pay(cashier, acct, "100.00", business_date=D(2025, 5, 1))
    pay(cashier, acct, "100.00", business_date=D(2025, 2, 1))  # a transfer found late
    feb = Window(D(2025, 1, 1), D(2025, 2, 28))
    assert company(project, feb, D(2025, 1, 31)).current_received == 0
    assert company(project, feb, D(2025, 2, 28)).current_received == Decimal("100.00")
    assert company(project, feb, D(2025, 5, 1)).current_received == Decimal("200.00")


def test_a_waiver_lowers_what_was_billed_from_its_date(manager, acct, item, project):
    b = bill(acct, item, "100.00", D(2025, 1, 1))
    adjust(b, manager, "waiver", "30", D(2025, 1, 10))
    jan = month(2025, 1)
    assert company(project, jan, D(2025, 1, 9)).current_billed == Decimal("100.00")
    assert company(project, jan, D(2025, 1, 10)).current_billed == Decimal("70.00")


def test_overall_rate_adds_current_and_recovery(cashier, acct, item, project):
    monthly_bills(acct, item, D(2025, 1, 1), 6)  # Jan–Jun
    pay(cashier, acct, "250.00", business_date=D(2025, 5, 20))
    # Q2 window: opening arrears = Jan–Mar 300; the 250 pays Jan, Feb (recovered 200) and half of
    # March (recovered 50): recovered 250; current Apr–Jun billed 300, received 0.
    row = company(project, Q2, D(2025, 6, 30))
    assert (row.opening_arrears, row.recovered) == (Decimal("300.00"), Decimal("250.00"))
    assert (row.current_billed, row.current_received) == (Decimal("300.00"), 0)
    assert row.overall_rate == Decimal("0.4167")  # 250 / 600


def test_household_rate_counts_accounts_with_nothing_overdue_on_the_window_bills(
    cashier, item, project
):
    paid, late, not_due = (account(project, c) for c in ("1-1-101", "1-1-102", "1-1-103"))
    bill(paid, item, "100.00", D(2025, 1, 1))
    bill(late, item, "100.00", D(2025, 1, 1))
    bill(not_due, item, "100.00", D(2025, 1, 1), due_date=D(2025, 2, 15))
    pay(cashier, paid, "100.00", business_date=D(2025, 1, 10))
    pay(cashier, late, "60.00", business_date=D(2025, 1, 10))
    row = company(project, month(2025, 1), D(2025, 1, 31))
    # The third account's bill is not due yet on 31 January: nothing of it is overdue.
    assert (row.households_billed, row.households_clear) == (3, 2)
    assert row.household_rate == Decimal("0.6667")


def test_a_rate_with_nothing_to_divide_by_is_none_never_100_percent(project):
    row = company(project, Q1, D(2025, 3, 31))
    assert row.current_rate is None and row.recovery_rate is None
    assert row.overall_rate is None and row.household_rate is None
    assert row.current_billed == 0 and row.households_billed == 0


def test_late_fees_are_reported_apart_from_principal(cashier, acct, item, project):
    b = bill(acct, item, "100.00", D(2025, 1, 1))
    late_fee_bill(b, "5.00", D(2025, 1, 20))
    row = company(project, month(2025, 1), D(2025, 1, 31))
    assert row.current_billed == Decimal("100.00")
    assert (row.late_fee_billed, row.late_fee_received) == (Decimal("5.00"), 0)


def test_rate_trend_gives_one_row_per_month_ending_with_the_report_month(
    cashier, acct, item, project
):
    monthly_bills(acct, item, D(2025, 1, 1), 3)
    pay(cashier, acct, "100.00", business_date=D(2025, 2, 10))  # pays January
    trend = selectors.rate_trend(scope(project), 3, D(2025, 3, 10), live=True)
    assert [m for m, _ in trend] == [D(2025, 1, 1), D(2025, 2, 1), D(2025, 3, 1)]
    jan, feb, mar = (row for _, row in trend)
    assert jan.current_rate == Decimal("0.0000")  # as of 31 January the payment had not come
    assert feb.current_rate == Decimal("0.0000")  # it paid January, an arrear by February
    assert (feb.opening_arrears, feb.recovered) == (Decimal("100.00"), Decimal("100.00"))
    assert mar.opening_arrears == Decimal("100.00")  # February still unpaid on 28 Feb


def _three_households(project, item, cashier):
    """December 2025, each bill due on the 15th: one household paid on 12-02, two not yet."""
    accts = [account(project, c) for c in ("1-1-101", "1-1-102", "1-1-103")]
    for a in accts:
        bill(a, item, "100.00", D(2025, 12, 1), due_date=D(2025, 12, 15))
    pay(cashier, accts[0], "100.00", business_date=D(2025, 12, 2))
    return accts


def test_before_anything_is_due_the_household_rate_is_not_due_not_100_percent(
    cashier, item, project
):
    """By its definition nobody is behind before the due date (3 of 3 'clear'), so the row says
    so: 未到期, with the share that has paid everything billed beside it (1 of 3)."""
    _three_households(project, item, cashier)
    for live in (True, False):
        [row] = selectors.collection_rates(
            scope(project), month(2025, 12), D(2025, 12, 4), live=live
        )
        assert (row.households_billed, row.households_clear, row.households_paid) == (3, 3, 1)
        assert row.household_not_due and not row.window_open
        assert row.paid_rate == Decimal("0.3333")
    # After the due date the definition applies as before: two behind, nobody "not due".
    row = company(project, month(2025, 12), D(2025, 12, 20))
    assert (row.households_clear, row.households_paid) == (1, 1)
    assert not row.household_not_due and not row.window_open
    assert row.household_rate == Decimal("0.3333")


def test_with_bills_still_to_fall_due_both_household_figures_are_kept(cashier, item, project):
    """Q1 on 03-10: January and February are due, March (due 03-15) not yet. A paid all three, B
    paid January and February, C owes January: no arrears 2 of 3, everything paid 1 of 3."""
    a, b, c = (account(project, x) for x in ("1-1-101", "1-1-102", "1-1-103"))
    for acct in (a, b, c):
        monthly_bills(acct, item, D(2025, 1, 1), 3)
    pay(cashier, a, "300.00", business_date=D(2025, 3, 1))
    pay(cashier, b, "200.00", business_date=D(2025, 2, 10))
    for live in (True, False):
        [row] = selectors.collection_rates(scope(project), Q1, D(2025, 3, 10), live=live)
        assert (row.households_billed, row.households_clear, row.households_paid) == (3, 2, 1)
        assert row.window_open and not row.household_not_due
