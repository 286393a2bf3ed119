"""Issue 16 item 1: the late fee shown is the late fee charged (one day-count rule, ledger.selectors.late_fees).

The fee window quotes a household as of a day; paying exactly that total on that day must settle every
bill and late fee with nothing left over and nothing put into prepaid balance.
"""

import datetime
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.ledger.factories import D, account, bill, pay
from wuye.billing import services as billing
from wuye.billing.models import Bill
from wuye.ledger.models import Allocation, PrepaidMovement
from wuye.ledger.selectors.prepaid import prepaid_balance
from wuye.ledger.selectors.window import unpaid_bills
from wuye.ledger.window_forms import quote

pytestmark = pytest.mark.django_db


RULE_START = D(2020, 1, 1)


def _rule(project, *, daily_rate, grace_days, cap_multiplier, lpr, start=RULE_START):
    billing.lpr_rate_set(
        user=None, company=project.company, effective_from=D(2019, 1, 1), annual_rate=lpr
    )
    billing.late_fee_rule_set(
        user=None,
        project=project,
        enabled=True,
        daily_rate=daily_rate,
        start_date=start,
        grace_days=grace_days,
        cap_multiplier=cap_multiplier,
    )


def _window_total(acct, on):
    bills = unpaid_bills(acct, on)
    figures = quote(bills, [b.pk for b in bills], [], None)
    return bills, figures


def test_issue_example_1000_yuan_100_days_overdue_quote_12_33_is_charged_12_33(
    cashier, item, project
):
    # 0.3%/day, no grace, LPR 3.0% (cap 1.5 × 3.0% = 4.5% a year), 1,000.00 due 100 days ago.
    _rule(project, daily_rate="0.003", grace_days=0, cap_multiplier="1.5", lpr="0.03")
    acct = account(project, "1-1-101")
    due = D(2025, 3, 1)
    paid_on = due + datetime.timedelta(days=100)
    b = bill(acct, item, "1000.00", D(2025, 2, 1), due_date=due)
    [row], figures = _window_total(acct, paid_on)
    assert row.late_fee.days == 100
    assert row.late_fee.capped == Decimal("12.33") == row.late_fee.due
    assert row.late_fee.contract == Decimal("300.00")
    assert figures.due == Decimal("1012.33")

    payment = pay(cashier, acct, figures.due, business_date=paid_on)

    late = Bill.objects.get(kind="late_fee", late_fee_for=b)
    assert late.amount == Decimal("12.33")
    assert "逾期计息 100 天" in late.description
    assert not PrepaidMovement.objects.filter(payment=payment).exists()
    assert prepaid_balance(acct) == 0
    assert unpaid_bills(acct, paid_on) == []
    assert unpaid_bills(acct, paid_on + datetime.timedelta(days=30)) == []


rules = st.fixed_dictionaries(
    {
        "daily_rate": st.sampled_from(["0.0001", "0.0003", "0.0005", "0.001", "0.003"]),
        "grace_days": st.integers(min_value=0, max_value=30),
        "cap_multiplier": st.sampled_from(["0.5", "1", "1.2", "1.5"]),
        "lpr": st.sampled_from(["0.0285", "0.03", "0.0345", "0.0365", "0.0435"]),
        "start_offset": st.integers(min_value=-400, max_value=200),
    }
)
bills_ = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=500_000),  # amount in fen
        st.integers(min_value=0, max_value=700),  # due date, days after BASE
        st.integers(min_value=0, max_value=99),  # percent paid earlier (0: none)
        st.integers(min_value=0, max_value=400),  # when that earlier payment was, after due
    ),
    min_size=1,
    max_size=3,
)
BASE = D(2023, 1, 1)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rule=rules, specs=bills_, pay_after=st.integers(min_value=0, max_value=1000))
def test_paying_the_quoted_total_settles_everything_with_nothing_left_over(
    cashier, item, project, rule, specs, pay_after
):
    with transaction.atomic():
        start = BASE + datetime.timedelta(days=rule["start_offset"])
        _rule(
            project,
            daily_rate=rule["daily_rate"],
            grace_days=rule["grace_days"],
            cap_multiplier=rule["cap_multiplier"],
            lpr=rule["lpr"],
            start=start,
        )
        acct = account(project)
        first_due = None
        for n, (cents, due_offset, percent, paid_after) in enumerate(specs):
            due = BASE + datetime.timedelta(days=due_offset)
            amount = (Decimal(cents) / 100).quantize(Decimal("0.01"))
            period = D(2022 + n, 1, 1)  # one bill per period; the due date drives the late fee
            b = bill(acct, item, amount, period, due_date=due)
            first_due = min(first_due or due, due)
            part = (amount * percent / 100).quantize(Decimal("0.01"))
            if part > 0:
                on = due + datetime.timedelta(days=paid_after)
                if on <= D(2026, 1, 1) and on >= period:
                    pay(cashier, acct, part, bill_ids=[b.pk], business_date=on)
        # Paid on a day no earlier than the household's last payment (the window's case).
        day = max(
            [BASE + datetime.timedelta(days=pay_after)]
            + [p.business_date for p in acct.payments.all()]
        )
        bills, figures = _window_total(acct, day)
        if figures.due <= 0:
            transaction.set_rollback(True)
            return
        quoted_fees = {b.pk: b.late_fee.due for b in bills if b.kind == "charge"}

        payment = pay(cashier, acct, figures.due, business_date=day)

        assert not PrepaidMovement.objects.filter(payment=payment).exists()
        assert unpaid_bills(acct, day) == []
        charged = {
            late.late_fee_for_id: late.amount
            for late in Bill.objects.filter(kind="late_fee", account=acct, period_start=day)
        }
        assert charged == {k: v for k, v in quoted_fees.items() if v > 0}
        paid = sum(a.amount for a in Allocation.objects.filter(payment=payment))
        assert paid == figures.due
        transaction.set_rollback(True)
