"""payments_record_many (批量入账) posts exactly what payment_record would, one call after another.

The property test builds random bills and random payments (oldest first, with or without late fees,
split methods, prepaid draws within and beyond the balance, repeated idempotency keys, a closed day),
posts them once through ``payment_record`` one by one and once through ``payments_record_many``, each
inside a transaction rolled back afterwards, and compares everything the ledger holds: payments and
their receipt numbers, lines, allocations, prepaid movements, late-fee bills, audit entries, balances
and which requests were refused with which code.
"""

import datetime
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.ledger.factories import D, account, bill, late_fee_rule
from wuye.billing.models import Bill
from wuye.core.errors import ValidationFailed
from wuye.core.models import AuditEntry
from wuye.ledger import invariants
from wuye.ledger.models import Allocation, Payment, PaymentLine, PrepaidMovement
from wuye.ledger.selectors.prepaid import prepaid_balance
from wuye.ledger.selectors.window import account_position
from wuye.ledger.services.batch_payments import PaymentRequest, payments_record_many
from wuye.ledger.services.closing import cashier_close
from wuye.ledger.services.payments import payment_record

pytestmark = pytest.mark.django_db

BASE = D(2025, 1, 1)
CLOSED = 20  # day offset closed (日结) by the cashier before the payments


def day(offset: int) -> datetime.date:
    return BASE + datetime.timedelta(days=offset)


def yuan(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))


payments_st = st.lists(
    st.tuples(
        st.integers(0, 2),  # household
        st.sampled_from(["cash", "split", "prepaid"]),
        st.integers(1, 60_000),  # fen
        st.integers(0, 200),  # day offset
        st.booleans(),  # include late fees
        st.none() | st.integers(0, 3),  # idempotency key (repeats allowed)
    ),
    min_size=1,
    max_size=12,
)
bills_st = st.lists(
    st.tuples(st.integers(0, 2), st.integers(0, 6), st.integers(1, 40_000)), max_size=10
)


@pytest.fixture
def ctx(project, cashier, item):
    late_fee_rule(project)
    accounts = [
        account(project, "1-1-101"),
        account(project, "1-1-102", owner="李四"),
        account(project, "1-1-103", owner="王五"),
    ]
    return {"accounts": accounts, "cashier": cashier, "project": project, "item": item}


def requests_of(ctx, payments):
    out = []
    for who, method, cents, offset, late, key in payments:
        if method == "split":
            lines = [("wechat", yuan(cents), "x"), ("cash", yuan(cents // 3 + 1), "")]
        else:
            lines = [(method, yuan(cents if method == "cash" else cents // 20 + 1), "")]
        out.append(
            PaymentRequest(
                account=ctx["accounts"][who],
                lines=lines,
                business_date=day(offset),
                include_late_fees=late,
                idempotency_key=None if key is None else f"k{key}",
            )
        )
    return out


def snapshot(ctx, results):
    accounts = {a.pk: n for n, a in enumerate(ctx["accounts"])}

    def natural(b):  # ids differ between the two runs (PostgreSQL sequences are not rolled back)
        if b.late_fee_for_id:
            return ("late", natural(b.late_fee_for), str(b.amount), b.period_start)
        return ("bill", accounts[b.account_id], b.period_start)

    def bill_key(bill_id):
        return natural(Bill.objects.select_related("late_fee_for").get(pk=bill_id))

    payments = list(Payment.objects.order_by("receipt_no"))
    return {
        "results": [
            ("refused", r.code, r.field) if isinstance(r, ValidationFailed) else r.receipt_no
            for r in results
        ],
        "payments": [
            (
                p.receipt_no,
                accounts[p.account_id],
                p.amount,
                p.business_date,
                p.note,
                p.idempotency_key,
            )
            for p in payments
        ],
        "lines": sorted(
            (x.payment.receipt_no, x.method, x.amount, x.reference)
            for x in PaymentLine.objects.select_related("payment")
        ),
        "allocations": sorted(
            (a.payment.receipt_no, bill_key(a.bill_id), a.amount, a.effective_date)
            for a in Allocation.objects.select_related("payment")
        ),
        "movements": sorted(
            (m.payment.receipt_no if m.payment else None, m.kind, m.amount, m.effective_date)
            for m in PrepaidMovement.objects.select_related("payment")
        ),
        "late_bills": sorted(
            (natural(b), b.description)
            for b in Bill.objects.filter(late_fee_for__isnull=False).select_related("late_fee_for")
        ),
        "audit": sorted(
            (
                e.object_repr,
                e.changes["amount"],
                e.changes["prepaid_deposit"],
                len(e.changes["allocations"]),
            )
            for e in AuditEntry.objects.filter(action="收款")
        ),
        "positions": [
            (account_position(a, day(offset)).outstanding, prepaid_balance(a, day(offset)))
            for a in ctx["accounts"]
            for offset in (0, 60, 200)
        ],
        "invariants": invariants.check_all(),
    }


def run_both(ctx, bills, payments):
    cashier = ctx["cashier"]
    snaps = []
    for mode in ("one by one", "batch"):
        with transaction.atomic():
            for who, month, cents in bills:
                start = D(2025, month + 1, 1)
                if not Bill.objects.filter(
                    account=ctx["accounts"][who], period_start=start
                ).exists():
                    bill(ctx["accounts"][who], ctx["item"], yuan(cents), start)
            cashier_close(user=cashier, project=ctx["project"], business_date=day(CLOSED))
            requests = requests_of(ctx, payments)
            if mode == "batch":
                results = payments_record_many(
                    user=cashier, project=ctx["project"], requests=requests
                )
            else:
                results = []
                for r in requests:
                    try:
                        results.append(
                            payment_record(
                                user=cashier,
                                account=r.account,
                                lines=list(r.lines),
                                business_date=r.business_date,
                                include_late_fees=r.include_late_fees,
                                idempotency_key=r.idempotency_key,
                            )
                        )
                    except ValidationFailed as exc:
                        results.append(exc)
            snaps.append(snapshot(ctx, results))
            transaction.set_rollback(True)
    return snaps


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(bills=bills_st, payments=payments_st)
def test_batch_posting_equals_payment_record_one_by_one(ctx, bills, payments):
    one_by_one, batch = run_both(ctx, bills, payments)
    assert batch["invariants"] == []
    for key in one_by_one:
        assert batch[key] == one_by_one[key], key


def test_a_rerun_of_the_same_batch_posts_nothing(ctx):
    for month in range(1, 4):
        bill(ctx["accounts"][0], ctx["item"], "100.00", D(2025, month, 1))
    requests = [
        PaymentRequest(
            account=ctx["accounts"][n % 3],
            lines=[("transfer", Decimal("150.00"), f"B{n}")],
            business_date=day(100),
            include_late_fees=False,
            idempotency_key=f"bank-{n}",
        )
        for n in range(6)
    ]
    first = payments_record_many(user=ctx["cashier"], project=ctx["project"], requests=requests)
    again = payments_record_many(user=ctx["cashier"], project=ctx["project"], requests=requests)
    assert [p.pk for p in again] == [p.pk for p in first]
    assert Payment.objects.count() == 6
    assert invariants.check_all() == []


def test_a_key_used_by_another_household_is_refused(ctx):
    payments_record_many(
        user=ctx["cashier"],
        project=ctx["project"],
        requests=[
            PaymentRequest(
                account=ctx["accounts"][0], lines=[("cash", "10.00", "")], idempotency_key="k"
            )
        ],
    )
    [result] = payments_record_many(
        user=ctx["cashier"],
        project=ctx["project"],
        requests=[
            PaymentRequest(
                account=ctx["accounts"][1], lines=[("cash", "10.00", "")], idempotency_key="k"
            )
        ],
    )
    assert isinstance(result, ValidationFailed) and result.field == "idempotency_key"


def test_a_household_of_another_project_is_refused(ctx, other_project):
    stranger = account(other_project, "9-9-909")
    [result] = payments_record_many(
        user=ctx["cashier"],
        project=ctx["project"],
        requests=[PaymentRequest(account=stranger, lines=[("cash", "10.00", "")])],
    )
    assert isinstance(result, ValidationFailed)
    assert not Payment.objects.exists()


def test_the_batch_hooks_run_once_with_every_household_paid(
    ctx, settings, django_capture_on_commit_callbacks
):
    calls = []
    settings.WUYE_AFTER_PAYMENTS = ["tests.ledger.test_batch_payments.record_hook"]
    record_hook.calls = calls
    with django_capture_on_commit_callbacks(execute=True):
        payments_record_many(
            user=ctx["cashier"],
            project=ctx["project"],
            requests=[
                PaymentRequest(account=a, lines=[("cash", "10.00", "")])
                for a in ctx["accounts"] * 2
            ],
        )
    assert calls == [sorted(a.pk for a in ctx["accounts"])]


def record_hook(*, account_ids):
    record_hook.calls.append(list(account_ids))


def test_queries_do_not_grow_with_the_number_of_payments(
    ctx, settings, django_assert_max_num_queries
):
    settings.WUYE_AFTER_PAYMENTS = []
    households = [account(ctx["project"], f"2-1-{100 + n}", owner=f"户{n}") for n in range(40)]
    for acct in households:
        for month in range(1, 4):
            bill(acct, ctx["item"], "100.00", D(2025, month, 1))

    def requests(accounts, tag):
        return [
            PaymentRequest(
                account=a,
                lines=[("transfer", Decimal("250.00"), f"{tag}{n}")],
                business_date=day(100),
                include_late_fees=False,
                idempotency_key=f"{tag}-{n}",
            )
            for n, a in enumerate(accounts)
        ]

    with django_assert_max_num_queries(25):
        payments_record_many(
            user=ctx["cashier"], project=ctx["project"], requests=requests(households[:2], "a")
        )
    with django_assert_max_num_queries(25):
        payments_record_many(
            user=ctx["cashier"], project=ctx["project"], requests=requests(households[2:], "b")
        )
    assert Payment.objects.count() == 40


def test_every_after_payment_hook_has_its_batch_form(settings):
    """A hook added to WUYE_AFTER_PAYMENT alone would be skipped by batch postings (bank imports)."""
    single = {path.rsplit(".", 1)[0] for path in settings.WUYE_AFTER_PAYMENT}
    batch = {path.rsplit(".", 1)[0] for path in settings.WUYE_AFTER_PAYMENTS}
    assert single == batch


chosen_st = st.lists(
    st.tuples(
        st.integers(0, 1),  # household
        st.integers(1, 15),  # which of its four bills (a bit mask, never empty)
        st.integers(1, 60_000),  # fen
        st.integers(130, 200),  # day offset: every bill issued by then
        st.booleans(),  # include late fees
    ),
    min_size=1,
    max_size=6,
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(payments=chosen_st)
def test_chosen_bills_in_a_batch_equal_payment_record_with_bill_ids(ctx, payments):
    """``bill_ids`` (an online order's bills): the money goes to those bills only, then their late
    fees, then prepaid balance; a chosen bill paid by an earlier payment refuses the later one with
    ``ledger.bill_already_paid`` — exactly as ``payment_record(bill_ids=…)`` one call after another."""
    cashier = ctx["cashier"]
    snaps = []
    for mode in ("one by one", "batch"):
        with transaction.atomic():
            bills = {
                who: [
                    bill(ctx["accounts"][who], ctx["item"], "100.00", D(2025, month, 1))
                    for month in range(1, 5)
                ]
                for who in (0, 1)
            }
            requests = [
                PaymentRequest(
                    account=ctx["accounts"][who],
                    lines=[("wechat", yuan(cents), "T")],
                    business_date=day(offset),
                    include_late_fees=late,
                    bill_ids=[b.pk for n, b in enumerate(bills[who]) if mask >> n & 1],
                )
                for who, mask, cents, offset, late in payments
            ]
            if mode == "batch":
                results = payments_record_many(
                    user=cashier, project=ctx["project"], requests=requests
                )
            else:
                results = []
                for r in requests:
                    try:
                        results.append(
                            payment_record(
                                user=cashier,
                                account=r.account,
                                lines=list(r.lines),
                                business_date=r.business_date,
                                include_late_fees=r.include_late_fees,
                                bill_ids=list(r.bill_ids),
                            )
                        )
                    except ValidationFailed as exc:
                        results.append(exc)
            snaps.append(snapshot(ctx, results))
            transaction.set_rollback(True)
    one_by_one, batch = snaps
    assert batch["invariants"] == []
    for key in one_by_one:
        assert batch[key] == one_by_one[key], key
