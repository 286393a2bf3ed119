"""Hypothesis: any sequence of ledger operations leaves the invariants intact.

Each example runs a random list of operations — payments (oldest first or chosen bills, cash or
prepaid balance, back-dated), reversals, prepaid consumption, refunds, bill reductions, new bills,
closings — through the real services, inside a transaction rolled back at the end. Refusals are part
of the game; what must never happen is a broken ledger:

* allocations never exceed a bill (Σ allocations + Σ adjustments within 0 … amount);
* balance = bills − allocations − adjustments, on any date;
* the prepaid balance never goes negative;
* receipt numbers are gap-free; reversals mirror their payments (``invariants.check_all``).
"""

import datetime
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.ledger.factories import D, account, bill, late_fee_rule
from wuye.billing import adjustments
from wuye.billing.models import Bill, BillAdjustment
from wuye.core.errors import ValidationFailed
from wuye.core.money import money
from wuye.ledger import invariants
from wuye.ledger.models import Allocation, Payment, PrepaidMovement
from wuye.ledger.selectors.outstanding import visible_on
from wuye.ledger.selectors.prepaid import prepaid_available
from wuye.ledger.selectors.window import account_position, unpaid_bills
from wuye.ledger.services.closing import cashier_close
from wuye.ledger.services.payments import payment_record
from wuye.ledger.services.prepaid import prepaid_consume
from wuye.ledger.services.reversals import payment_reverse, prepaid_refund

pytestmark = pytest.mark.django_db

BASE = D(2025, 1, 1)
days = st.integers(min_value=0, max_value=200)
late_days = st.integers(min_value=150, max_value=200)  # after most deposits
fen = st.integers(min_value=1, max_value=60_000)  # 0.01 … 600.00
who = st.integers(min_value=0, max_value=1)

operations = st.lists(
    st.one_of(
        st.tuples(st.just("pay"), who, fen, days, st.none() | st.integers(1, 63)),
        st.tuples(st.just("pay"), who, fen, st.integers(0, 30), st.none()),  # mostly a deposit
        st.tuples(st.just("pay_prepaid"), who, st.integers(1, 120), late_days),
        st.tuples(st.just("pay_split"), who, fen, fen, days),
        st.tuples(st.just("reverse"), st.integers(0, 50), days),
        st.tuples(st.just("consume"), who, days),
        st.tuples(st.just("refund"), who, st.integers(1, 120), late_days),
        st.tuples(st.just("adjust"), st.integers(0, 50), fen, days),
        st.tuples(st.just("bill"), who, fen, days),
        st.tuples(st.just("close"), days),
    ),
    max_size=18,
)


def yuan(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))


def share(available: Decimal, percent: int) -> Decimal:
    return max((available * percent / 100).quantize(Decimal("0.01")), Decimal("0.01"))


def day(offset: int) -> datetime.date:
    return BASE + datetime.timedelta(days=offset)


def run(op, ctx):
    kind, *args = op
    accounts, cashier, supervisor, manager, project, item = (
        ctx["accounts"],
        ctx["cashier"],
        ctx["supervisor"],
        ctx["manager"],
        ctx["project"],
        ctx["item"],
    )
    if kind == "pay":
        who_, cents, offset, mask = args
        acct = accounts[who_]
        bill_ids = None
        if mask is not None:
            own = list(
                Bill.objects.filter(account=acct).order_by("id").values_list("id", flat=True)
            )
            bill_ids = [b for i, b in enumerate(own) if mask >> (i % 6) & 1] or None
        payment_record(
            user=cashier,
            account=acct,
            lines=[("cash", yuan(cents), "")],
            bill_ids=bill_ids,
            business_date=day(offset),
        )
    elif kind == "pay_prepaid":  # a share of what is available (over 100%: must be refused)
        who_, percent, offset = args
        amount = share(prepaid_available(accounts[who_], day(offset)), percent)
        payment_record(
            user=cashier,
            account=accounts[who_],
            lines=[("prepaid", amount, "")],
            business_date=day(offset),
        )
    elif kind == "pay_split":
        who_, a, b, offset = args
        payment_record(
            user=cashier,
            account=accounts[who_],
            lines=[("wechat", yuan(a), "x"), ("cash", yuan(b), "")],
            business_date=day(offset),
            include_late_fees=False,
        )
    elif kind == "reverse":
        index, offset = args
        payments = list(Payment.objects.order_by("id"))
        if not payments:
            return
        payment = payments[index % len(payments)]
        payment_reverse(
            user=cashier,
            payment=payment,
            reason="测试冲红",
            approved_by=supervisor,
            business_date=max(payment.business_date, day(offset)),
        )
    elif kind == "consume":
        who_, offset = args
        prepaid_consume(account=accounts[who_], business_date=day(offset))
    elif kind == "refund":
        who_, percent, offset = args
        amount = share(prepaid_available(accounts[who_], day(offset)), percent)
        prepaid_refund(
            user=cashier,
            account=accounts[who_],
            amount=amount,
            method="cash",
            reason="测试退款",
            approved_by=supervisor,
            business_date=day(offset),
        )
    elif kind == "adjust":
        index, cents, offset = args
        bills = list(Bill.objects.order_by("id"))
        adjustments.bill_adjust(
            user=manager,
            bill=bills[index % len(bills)],
            kind="waiver",
            amount=yuan(cents),
            reason="测试减免",
            approved_by=ctx["approver"],
            effective_date=day(offset),
        )
    elif kind == "bill":
        who_, cents, offset = args
        if not Bill.objects.filter(account=accounts[who_], period_start=day(offset)).exists():
            bill(accounts[who_], item, yuan(cents), day(offset))
    elif kind == "close":
        (offset,) = args
        cashier_close(user=cashier, project=project, business_date=day(offset))


def check(ctx, as_of_days=(0, 30, 90, 200, 400)):
    assert invariants.check_all() == [], invariants.check_all()
    for acct in ctx["accounts"]:
        for offset in as_of_days:
            on = day(offset)
            position = account_position(acct, on)
            visible = Bill.objects.filter(account=acct).filter(visible_on(on))
            billed = visible.aggregate(t=Sum("amount"))["t"] or 0
            adjusted = (
                BillAdjustment.objects.filter(bill__in=visible, effective_date__lte=on).aggregate(
                    t=Sum("amount")
                )["t"]
                or 0
            )
            paid = (
                Allocation.objects.filter(bill__in=visible, effective_date__lte=on).aggregate(
                    t=Sum("amount")
                )["t"]
                or 0
            )
            # SQLite sums decimals as floats: round the reference to the fen, as the selectors do.
            assert position.outstanding == money(billed - adjusted - paid)
            assert position.prepaid_balance >= 0
            for row in unpaid_bills(acct, on):
                assert 0 < row.outstanding <= row.amount
        total = PrepaidMovement.objects.filter(account=acct).aggregate(t=Sum("amount"))["t"]
        assert money(total or 0) >= 0
    numbers = sorted(
        Payment.objects.filter(project=ctx["project"]).values_list("receipt_no", flat=True)
    )
    assert numbers == list(range(1, len(numbers) + 1))


@pytest.fixture
def ctx(project, cashier, supervisor, manager, approver, item):
    late_fee_rule(project)
    accounts = [account(project, "1-1-101"), account(project, "1-1-102", owner="李四")]
    for acct in accounts:
        for month in range(1, 5):
            bill(acct, item, "100.00", D(2025, month, 1))
    return {
        "accounts": accounts,
        "cashier": cashier,
        "supervisor": supervisor,
        "manager": manager,
        "approver": approver,
        "project": project,
        "item": item,
    }


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
def test_any_sequence_of_operations_keeps_the_ledger_sound(ctx, ops):
    with transaction.atomic():
        for op in ops:
            try:
                run(op, ctx)
                event(f"{op[0]}: done")
            except ValidationFailed as exc:
                event(f"{op[0]}: refused ({exc.code})")  # as it should be, for an impossible one
        check(ctx)
        transaction.set_rollback(True)
