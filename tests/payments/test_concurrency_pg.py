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
