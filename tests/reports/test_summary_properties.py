"""Property: on random ledgers (bills, partial, over- and reversed payments, back-dated payments,
adjustments, other fee items' bills, bills naming another building's room) with summary refreshes at
random points, every report from the summaries equals the live computation, for random windows and
report dates, by company, building, steward and fee item, and in one building's or steward's scope."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reports.builders import (
    D,
    account,
    adjust,
    bill,
    bill_on,
    developer_account,
    fee_item,
    pay,
    reverse,
    scope,
)
from wuye.core.errors import ValidationFailed
from wuye.core.roles import Role
from wuye.registry.models import Building
from wuye.reports import selectors, summary_check, summary_refresh
from wuye.reports.sql import Window

pytestmark = pytest.mark.django_db

START = D(2025, 1, 1)
days = st.integers(min_value=0, max_value=300).map(lambda n: START + datetime.timedelta(days=n))
cents = st.integers(min_value=1, max_value=40000).map(lambda n: Decimal(n) / 100)
operation = st.one_of(
    st.tuples(st.just("pay"), st.integers(0, 2), cents, days),
    st.tuples(st.just("reverse"), st.integers(0, 20), days),
    st.tuples(st.just("adjust"), st.integers(0, 30), st.sampled_from(["waiver", "discount"]), days),
    st.tuples(st.just("refresh")),
    # Another fee item's bill: it may extend an account's billed months, leave a month out between
    # them, or fall on another day than the 1st (BilledRange then leaves the account to its spans).
    st.tuples(st.just("bill"), st.integers(0, 2), st.integers(1, 9), st.sampled_from([1, 1, 15])),
    # A property-fee bill of one account naming another's room, in another building (a room change,
    # a shared payer): the account is billed, behind or clear in each building on its bills there.
    st.tuples(st.just("elsewhere"), st.integers(0, 2), st.integers(1, 2), st.integers(1, 9)),
)


@pytest.fixture
def supervisor(make_user, project):
    return make_user("supervisor", Role.SUPERVISOR, project)


def _same(s, window, as_of):
    for group in ("company", "building", "steward", "fee_item"):
        fast = [(r.key, r.figures()) for r in selectors.collection_rates(s, window, as_of, group)]
        slow = [
            (r.key, r.figures())
            for r in selectors.collection_rates(s, window, as_of, group, live=True)
        ]
        assert fast == slow, (group, window, as_of)
    for split in (False, True):
        fast = [
            (r.key, r.developer, r.buckets, r.counts)
            for r in selectors.aging(s, as_of, "steward", split)
        ]
        slow = [
            (r.key, r.developer, r.buckets, r.counts)
            for r in selectors.aging(s, as_of, "steward", split, live=True)
        ]
        assert fast == slow, as_of
    fast = [(m, r.figures()) for m, r in selectors.rate_trend(s, 4, as_of)]
    assert fast == [(m, r.figures()) for m, r in selectors.rate_trend(s, 4, as_of, live=True)]
    fast = [(d.account_id, d.outstanding) for d in selectors.top_debtors(s, as_of)]
    slow = [(d.account_id, d.outstanding) for d in selectors.top_debtors(s, as_of, live=True)]
    assert fast == slow


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    months=st.lists(st.integers(1, 6), min_size=3, max_size=3),
    amounts=st.lists(cents, min_size=3, max_size=3),
    ops=st.lists(operation, max_size=14),
    window_start=days,
    window_days=st.integers(0, 200),
    as_of=days,
    refresh_first=st.booleans(),
    not_due=st.booleans(),
)
def test_summaries_equal_the_live_computation(
    project,
    make_user,
    cashier,
    manager,
    supervisor,
    months,
    amounts,
    ops,
    window_start,
    window_days,
    as_of,
    refresh_first,
    not_due,
):
    with transaction.atomic():
        summary_refresh.refresh(
            full=True
        )  # built (empty) first: everything after is read incrementally
        item = fee_item(project)
        parking = fee_item(project, code="CWF", name="车位费")
        accounts = [account(project, "1-1-101"), account(project, "2-1-101")]
        accounts.append(developer_account(project, "3-1-101"))
        # Buildings 1 and 3 with one steward, 2 with another.
        stewards = [make_user(name, Role.STEWARD, project) for name in ("wang", "li")]
        for n, acct in enumerate(accounts):
            Building.objects.filter(pk=acct.room.building_id).update(steward=stewards[n % 2])
        bills = []
        for acct, n, amount in zip(accounts, months, amounts, strict=True):
            for m in range(n):
                bills.append(bill(acct, item, amount, D(2025, m + 1, 1)))
        today = timezone.localdate()
        this_month = today.replace(day=1)
        if not_due:  # this month's bills, not due yet today: "paid everything" from AccountOwing
            for acct, amount in zip(accounts, amounts, strict=True):
                due = today + datetime.timedelta(days=10)
                bills.append(bill(acct, item, amount, this_month, due_date=due))
        if refresh_first:
            summary_refresh.refresh()
        payments = []
        for op in ops:
            try:
                if op[0] == "pay":
                    payments.append(pay(cashier, accounts[op[1]], op[2], business_date=op[3]))
                elif op[0] == "reverse" and payments:
                    payment = payments[op[1] % len(payments)]
                    reverse(payment, cashier, supervisor, max(op[2], payment.business_date))
                elif op[0] == "adjust":
                    b = bills[op[1] % len(bills)]
                    adjust(b, manager, op[2], "10", op[3])
                elif op[0] == "refresh":
                    summary_refresh.refresh()
                elif op[0] == "bill":
                    with transaction.atomic():  # the same month twice: one bill stands
                        bills.append(bill(accounts[op[1]], parking, "50.00", D(2025, op[2], op[3])))
                elif op[0] == "elsewhere":
                    acct, room = accounts[op[1]], accounts[(op[1] + op[2]) % 3].room_id
                    with transaction.atomic():
                        bills.append(bill_on(acct, item, room, D(2025, op[3], 1), amounts[op[1]]))
            except (ValidationFailed, IntegrityError):
                pass
        window = Window(window_start, window_start + datetime.timedelta(days=window_days))
        _same(scope(project), window, as_of)
        # Today is the date AccountDebt was computed for (and kept up by every refresh since).
        _same(scope(project), window, today)
        _same(scope(project), Window(D(2025, 1, 1), D(2025, 12, 31)), today)
        _same(scope(project), Window(D(2025, 1, 1), today), today)
        # Narrowed to one building, and to one steward's two.
        _same(scope(project, building_ids=(accounts[1].room.building_id,)), window, today)
        _same(scope(project, steward_id=stewards[0].pk), window, as_of)
        assert summary_check.check() == []
        transaction.set_rollback(True)
