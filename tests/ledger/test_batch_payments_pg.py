"""Two runs of the same batch at the same moment (PostgreSQL, real threads and connections): a
statement imported twice at once, or a rerun while the first is still posting. The second run must
post nothing — it waits for the first's account locks, then finds every idempotency key used."""

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, connections

from tests.ledger.factories import D, account, monthly_bills
from wuye.core.roles import Role
from wuye.ledger import invariants
from wuye.ledger.models import Allocation, Payment
from wuye.ledger.selectors.prepaid import prepaid_balance
from wuye.ledger.services import batch_payments
from wuye.ledger.services.batch_payments import PaymentRequest, payments_record_many

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (row locks); SQLite serializes writers with BEGIN IMMEDIATE")


@pytest.fixture
def slow_locks(monkeypatch):
    original = batch_payments.lock_receipt_sequence

    def slow(project_id):
        time.sleep(0.3)
        return original(project_id)

    monkeypatch.setattr(batch_payments, "lock_receipt_sequence", slow)


def race(*calls):
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait()
            results[index] = ("ok", call())
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            results[index] = ("error", repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_the_same_batch_run_twice_at_once_posts_once(make_user, project, item, slow_locks):
    finance = make_user("finance", Role.FINANCE, project)
    households = [account(project, f"3-1-{n + 1:03d}", owner=f"业主{n}") for n in range(6)]
    for acct in households:
        monthly_bills(acct, item, D(2025, 1, 1), 2)
    requests = [
        PaymentRequest(
            account=acct,
            lines=[("transfer", Decimal("150.00"), f"B{n}")],
            business_date=D(2025, 3, 1),
            include_late_fees=False,
            idempotency_key=f"bank-{n}-1-1",
        )
        for n, acct in enumerate(households)
    ]

    def run():
        return payments_record_many(user=finance, project=project, requests=requests)

    results = race(run, run)
    assert [r[0] for r in results] == ["ok", "ok"], results
    first, second = (r[1] for r in results)
    assert [p.pk for p in first] == [p.pk for p in second]
    assert Payment.objects.count() == 6
    assert sorted(Payment.objects.values_list("receipt_no", flat=True)) == list(range(1, 7))
    assert Allocation.objects.count() == 6 * 2
    assert all(prepaid_balance(a) == 0 for a in households)
    assert invariants.check_all() == []


def test_a_batch_and_a_window_payment_on_the_same_household_both_post_once(
    make_user, cashier, project, item, slow_locks
):
    from wuye.ledger.services.payments import payment_record

    finance = make_user("finance", Role.FINANCE, project)
    acct = account(project, "3-1-101")
    bills = monthly_bills(acct, item, D(2025, 1, 1), 2)

    def batch():
        return payments_record_many(
            user=finance,
            project=project,
            requests=[
                PaymentRequest(
                    account=acct,
                    lines=[("transfer", Decimal("200.00"), "B1")],
                    business_date=D(2025, 3, 1),
                    include_late_fees=False,
                    idempotency_key="bank-1-1-1",
                )
            ],
        )

    def window():
        return payment_record(
            user=cashier,
            account=acct,
            lines=[("cash", Decimal("200.00"), "")],
            business_date=D(2025, 3, 1),
            include_late_fees=False,
        )

    results = race(batch, window)
    assert [r[0] for r in results] == ["ok", "ok"], results
    for b in bills:
        assert Allocation.objects.filter(bill=b).count() == 1
    assert prepaid_balance(acct) == Decimal("200.00")  # the later one found the bills paid
    assert sorted(Payment.objects.values_list("receipt_no", flat=True)) == [1, 2]
    assert invariants.check_all() == []
