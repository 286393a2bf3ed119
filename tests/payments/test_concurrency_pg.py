"""Two callbacks for the same order at the same moment, and a callback racing the order query, on
PostgreSQL with real threads: one payment."""

import threading

import pytest
from django.db import connection, connections
from django.test import Client

from tests.payments.helpers import WECHAT_URL, order_for, wechat_paid
from wuye.ledger.models import Payment
from wuye.payments import services

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (row locks)")


def race(*calls):
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:  # noqa: BLE001 - reported by the assertions
            results[index] = repr(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_simultaneous_callbacks_post_once(payments_fake, household):
    order = order_for(household)
    headers, body = wechat_paid(payments_fake, order)

    def callback():
        response = Client().post(
            WECHAT_URL, data=body, content_type="application/json", headers=headers
        )
        return response.status_code

    results = race(callback, callback, callback)
    assert results == [204, 204, 204]
    assert Payment.objects.filter(account=household).count() == 1


def test_callback_racing_the_order_query_posts_once(payments_fake, household):
    order = order_for(household)
    headers, body = wechat_paid(payments_fake, order)

    def callback():
        return (
            Client()
            .post(WECHAT_URL, data=body, content_type="application/json", headers=headers)
            .status_code
        )

    def query():
        return services.order_refresh(order).status

    results = race(callback, query)
    assert results[0] == 204 and results[1] == "paid", results
    assert Payment.objects.filter(account=household).count() == 1


def test_a_callback_and_a_window_payment_of_the_same_project_do_not_deadlock(
    payments_fake, household, project, item, cashier
):
    """The window payment holds the project's receipt sequence until it commits, and its commit
    checks its foreign keys (FOR KEY SHARE on the project row). The callback must not hold the
    project row meanwhile (it locked it FOR UPDATE through select_related: a deadlock)."""
    import datetime
    import time
    from decimal import Decimal

    from django.db import transaction

    from tests.ledger.factories import account, monthly_bills
    from wuye.ledger.services.payments import payment_record

    other = account(project)
    monthly_bills(other, item, datetime.date(datetime.date.today().year - 1, 1, 1), 1)
    order = order_for(household)
    headers, body = wechat_paid(payments_fake, order)
    holding = threading.Event()
    errors = []

    def window():
        try:
            with transaction.atomic():
                payment_record(user=cashier, account=other, lines=[("cash", Decimal("100"), "")])
                holding.set()
                _until_someone_waits_for_a_lock()  # the callback, for the receipt sequence
        except Exception as exc:  # noqa: BLE001 - reported by the assertions
            errors.append(repr(exc))
            holding.set()
        finally:
            connections.close_all()

    def callback():
        try:
            holding.wait(30)
            status = (
                Client()
                .post(WECHAT_URL, data=body, content_type="application/json", headers=headers)
                .status_code
            )
            if status != 204:
                errors.append(status)
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))
        finally:
            connections.close_all()

    def _until_someone_waits_for_a_lock():
        with connection.cursor() as cursor:
            for _ in range(300):
                cursor.execute("SELECT pg_stat_clear_snapshot()")
                cursor.execute(
                    "SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    " AND datname = current_database()"
                )
                if cursor.fetchone()[0]:
                    return
                time.sleep(0.1)

    threads = [threading.Thread(target=window), threading.Thread(target=callback)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert Payment.objects.filter(account__in=[household, other]).count() == 2


def test_two_workers_and_the_owner_page_post_each_stored_notice_once(
    payments_fake, project, item, settings
):
    """Callbacks stored (a deferring backend: nothing posts them), then two workers and the owner's
    page of one order at the same moment: skip-locked sets and the orders' row locks, one payment
    each, every notice done."""
    import datetime

    from tests.ledger.factories import account, monthly_bills
    from wuye.ledger import invariants
    from wuye.payments import notices
    from wuye.payments.enums import NoticeState
    from wuye.payments.models import Notification

    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks.backends.dummy.DummyBackend",
            "QUEUES": settings.WUYE_TASK_QUEUES,
        }
    }
    orders = []
    for n in range(40):
        acc = account(project, f"3-1-{n:03d}")
        acc.test_bills = monthly_bills(acc, item, datetime.date(2025, 1, 1), 2)
        orders.append(order_for(acc))
    for order in orders:
        headers, body = wechat_paid(payments_fake, order)
        for _ in range(2):  # each sent twice
            response = Client().post(
                WECHAT_URL, data=body, content_type="application/json", headers=headers
            )
            assert response.status_code == 204
    assert Notification.objects.filter(state=NoticeState.PENDING).count() == 40

    def worker():
        return notices.notices_post(limit=7)  # small sets: the workers interleave

    def owner_page():
        return notices.notice_settle_pending(orders[20]).status

    results = race(worker, worker, owner_page)
    # The page posts its order's notice, or finds a worker holding it and leaves it (still open).
    assert isinstance(results[0], dict) and isinstance(results[1], dict), results
    assert results[2] in ("paid", "open"), results
    done = results[0]["done"] + results[1]["done"] + (1 if results[2] == "paid" else 0)
    assert done == 40  # each notice done by exactly one of them
    assert Notification.objects.filter(state=NoticeState.DONE).count() == 40
    for order in orders:
        assert Payment.objects.filter(account=order.account).count() == 1
    assert invariants.check_all() == []
