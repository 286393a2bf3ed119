"""Aging (账龄): bills due before the report date with money outstanding, by days past due."""

import datetime
from decimal import Decimal

import pytest

from tests.reports.builders import D, account, bill, developer_account, fee_item, pay, scope
from wuye.reports import selectors

pytestmark = pytest.mark.django_db
AS_OF = D(2025, 12, 31)


@pytest.fixture
def item(project):
    return fee_item(project)


def amounts(row):
    return [str(x) for x in row.buckets]


def test_each_bucket_takes_bills_by_days_past_due(item, project):
    acct = account(project, "1-1-101")
    # Days past due on 31 Dec 2025: 0 (due that day: not overdue), 1, 90, 91, 180, 181, 365, 366,
    # 730, 731, 1095, 1096.
    for days in (0, 1, 90, 91, 180, 181, 365, 366, 730, 731, 1095, 1096):
        due = AS_OF - datetime.timedelta(days=days)
        bill(acct, item, "10.00", due, due_date=due)
    [row] = selectors.aging(scope(project), AS_OF, live=True)
    assert amounts(row) == ["20.00", "20.00", "20.00", "20.00", "20.00", "10.00"]
    assert row.counts == [1, 1, 1, 1, 1, 1] and row.accounts == 1
    assert row.total == Decimal("110.00")  # the bill due on the report date is not overdue


def test_a_partial_payment_leaves_only_the_unpaid_part(cashier, item, project):
    acct = account(project, "1-1-101")
    bill(acct, item, "100.00", D(2025, 9, 1))  # due 15 Sep: 107 days past due
    pay(cashier, acct, "40.00", business_date=D(2025, 10, 1))
    [row] = selectors.aging(scope(project), AS_OF, live=True)
    assert amounts(row) == ["0.00", "60.00", "0.00", "0.00", "0.00", "0.00"]
    # Before the payment the whole bill was owed.
    [before] = selectors.aging(scope(project), D(2025, 9, 30), live=True)
    assert before.buckets[0] == Decimal("100.00")


def test_a_paid_bill_is_not_aged(cashier, item, project):
    acct = account(project, "1-1-101")
    bill(acct, item, "100.00", D(2025, 9, 1))
    pay(cashier, acct, "100.00", business_date=D(2025, 10, 1))
    [row] = selectors.aging(scope(project), AS_OF, live=True)
    assert row.total == 0 and row.accounts == 0


def test_developer_bills_are_split_from_handed_over_ones(item, project):
    owner = account(project, "1-1-101")
    developer = developer_account(project, "1-1-102")
    bill(owner, item, "100.00", D(2025, 11, 1))
    bill(developer, item, "70.00", D(2025, 11, 1))
    bill(developer, item, "70.00", D(2025, 1, 1))
    rows = selectors.aging(scope(project), AS_OF, split_developer=True, live=True)
    by_dev = {r.developer: r for r in rows}
    assert by_dev[False].total == Decimal("100.00")
    assert by_dev[True].total == Decimal("140.00")
    assert by_dev[True].buckets[0] == Decimal("70.00") and by_dev[True].buckets[2] == Decimal(
        "70.00"
    )


def test_counts_are_accounts_not_bills(item, project):
    a, b = account(project, "1-1-101"), account(project, "1-1-102")
    bill(a, item, "10.00", D(2025, 11, 1))
    bill(a, item, "10.00", D(2025, 12, 1), due_date=D(2025, 12, 2))
    bill(b, item, "10.00", D(2025, 11, 1))
    [row] = selectors.aging(scope(project), AS_OF, live=True)
    assert row.counts[0] == 2 and row.buckets[0] == Decimal("30.00")


def test_aging_by_building(item, project):
    a, b = account(project, "1-1-101"), account(project, "2-1-101")
    bill(a, item, "10.00", D(2025, 11, 1))
    bill(b, item, "25.00", D(2025, 11, 1))
    rows = selectors.aging(scope(project), AS_OF, group_by="building", live=True)
    assert {r.key: r.total for r in rows} == {
        a.room.building_id: Decimal("10.00"),
        b.room.building_id: Decimal("25.00"),
    }
    assert all(r.label for r in rows)


def test_aging_with_no_arrears_is_one_empty_company_row(project):
    [row] = selectors.aging(scope(project), AS_OF, live=True)
    assert row.total == 0 and row.buckets == [0] * 6
