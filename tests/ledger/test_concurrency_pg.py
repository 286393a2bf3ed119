"""Two cashiers pay the same household at the same moment (PostgreSQL, real threads and connections).

Each thread has its own database connection. A barrier releases both at once, and the first one to
take the locks is slowed down (a sleep after the account and bill locks) so that the second one is
certain to arrive while the first still holds them: without the locks both would read the bills as
unpaid and allocate them twice.
"""

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, connections

from tests.ledger.factories import D, monthly_bills
from wuye.core.errors import ValidationFailed
from wuye.core.roles import Role
from wuye.ledger import invariants
from wuye.ledger.models import Allocation, Payment
from wuye.ledger.selectors.prepaid import prepaid_balance
from wuye.ledger.selectors.window import account_position
from wuye.ledger.services import payments
from wuye.ledger.services.payments import payment_record

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (row locks); SQLite serializes writers with BEGIN IMMEDIATE")


@pytest.fixture
def slow_locks(monkeypatch):
    original = payments.lock_receipt_sequence

    def slow(project_id):
        time.sleep(0.3)
        return original(project_id)

    monkeypatch.setattr(payments, "lock_receipt_sequence", slow)


def race(*calls):
    """Runs the calls at the same moment, one thread each; returns ("ok", payment) or ("refused", code)."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait()
            results[index] = ("ok", call())
        except ValidationFailed as exc:
            results[index] = ("refused", exc.code)
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


@pytest.fixture
def two_cashiers(make_user, project):
    return make_user("cashier_a", Role.CASHIER, project), make_user(
        "cashier_b", Role.CASHIER, project
    )


def test_same_chosen_bills_exactly_one_payment_survives(two_cashiers, acct, item, slow_locks):
    bills = monthly_bills(acct, item, D(2025, 1, 1), 3)
    ids = [b.pk for b in bills]

    def paying(user):
        return lambda: payment_record(
            user=user,
            account=acct,
            lines=[("cash", "300.00", "")],
            bill_ids=ids,
            business_date=D(2025, 4, 1),
        )

    results = race(*(paying(u) for u in two_cashiers))
    assert sorted(r[0] for r in results) == ["ok", "refused"], results
    assert [r[1] for r in results if r[0] == "refused"] == ["ledger.bill_already_paid"]
    for b in bills:
        assert Allocation.objects.filter(bill=b).count() == 1
    assert list(Payment.objects.values_list("receipt_no", flat=True)) == [1]
    assert account_position(acct, D(2025, 4, 1)).outstanding == 0
    assert invariants.check_all() == []


def test_oldest_first_second_payment_goes_to_prepaid(two_cashiers, acct, item, slow_locks):
    bills = monthly_bills(acct, item, D(2025, 1, 1), 3)

    def paying(user):
        return lambda: payment_record(
            user=user, account=acct, lines=[("wechat", "300.00", "")], business_date=D(2025, 4, 1)
        )

    results = race(*(paying(u) for u in two_cashiers))
    assert [r[0] for r in results] == ["ok", "ok"], results
    for b in bills:
        assert Allocation.objects.filter(bill=b).count() == 1
    assert sorted(Payment.objects.values_list("receipt_no", flat=True)) == [1, 2]
    assert prepaid_balance(acct) == Decimal("300.00")
    assert invariants.check_all() == []


def test_same_form_submitted_twice_at_once_pays_once(cashier, acct, item, slow_locks):
    monthly_bills(acct, item, D(2025, 1, 1), 1)

    def submit():
        return payment_record(
            user=cashier,
            account=acct,
            lines=[("cash", "100.00", "")],
            idempotency_key="form-42",
            business_date=D(2025, 2, 1),
        )

    results = race(submit, submit)
    assert [r[0] for r in results] == ["ok", "ok"], results
    assert results[0][1].pk == results[1][1].pk
    assert Payment.objects.count() == 1
    assert invariants.check_all() == []


def test_payments_in_many_projects_at_once_keep_receipts_gap_free(make_user, project, item):
    from tests.ledger.factories import account

    cashiers = [make_user(f"c{n}", Role.CASHIER, project) for n in range(4)]
    accounts = [account(project, f"2-1-{n + 1:03d}", owner=f"业主{n}") for n in range(4)]
    for a in accounts:
        monthly_bills(a, item, D(2025, 1, 1), 2)

    def paying(user, a):
        def call():
            return [
                payment_record(user=user, account=a, lines=[("cash", "50.00", "")])
                for _ in range(5)
            ]

        return call

    results = race(*(paying(u, a) for u, a in zip(cashiers, accounts, strict=True)))
    assert all(r[0] == "ok" for r in results), results
    numbers = sorted(Payment.objects.values_list("receipt_no", flat=True))
    assert numbers == list(range(1, 21))
    assert invariants.check_all() == []
