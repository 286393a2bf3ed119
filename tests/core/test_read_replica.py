"""The read replica's router (wuye.core.db_router): which database each read and write goes to.

The decisions are tested with the replica "configured" by patching; the integration tests at the end
run only when ``WUYE_REPLICA_URL`` is set (CI sets it to the same PostgreSQL, a test mirror)."""

import time

import pytest
from django.db import connections, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from wuye.core import db_router
from wuye.core.db_router import (
    PIN_COOKIE,
    PinToPrimaryMiddleware,
    ReplicaRouter,
    on_primary,
    pinned_to_primary,
    read_alias,
    reads_from_replica,
)
from wuye.core.models import Project
from wuye.reports.models import SummaryState

router = ReplicaRouter()


@pytest.fixture
def with_replica(monkeypatch):
    monkeypatch.setattr(db_router, "replica_configured", lambda: True)


def test_reads_outside_the_scope_go_to_the_primary(with_replica):
    assert router.db_for_read(Project) == "default"


def test_reads_inside_the_scope_go_to_the_replica(with_replica):
    with reads_from_replica():
        assert router.db_for_read(Project) == "replica"
    assert router.db_for_read(Project) == "default"


def test_writes_inside_the_scope_go_to_the_primary(with_replica):
    with reads_from_replica():
        assert router.db_for_write(Project) == "default"


def test_a_pinned_user_reads_the_primary_inside_the_scope(with_replica):
    with reads_from_replica(), pinned_to_primary():
        assert router.db_for_read(Project) == "default"


def test_code_that_asks_for_the_primary_gets_it_inside_the_scope(with_replica):
    with reads_from_replica(), on_primary():
        assert read_alias() == "default"


def test_the_report_summaries_state_is_read_where_the_raw_sql_reads(with_replica):
    with reads_from_replica():
        assert router.db_for_read(SummaryState) == "replica"
        assert read_alias() == "replica"
        with on_primary():
            assert router.db_for_read(SummaryState) == "default"
            assert read_alias() == "default"


@pytest.mark.django_db(transaction=True)
def test_reads_inside_a_transaction_on_the_primary_stay_there(with_replica):
    with reads_from_replica(), transaction.atomic():
        assert router.db_for_read(Project) == "default"


def test_without_a_replica_configured_reads_stay_on_the_primary(monkeypatch):
    monkeypatch.setattr(db_router, "replica_configured", lambda: False)
    with reads_from_replica():
        assert read_alias() == "default"
        assert router.db_for_read(Project) == "default"


def test_migrations_run_only_on_the_primary():
    assert router.allow_migrate("default", "ledger") is True
    assert router.allow_migrate("replica", "ledger") is False


# --- pinning after a write -------------------------------------------------------------------------


def _seen_by_view(request):
    seen = {}

    def view(req):
        with reads_from_replica():
            seen["alias"] = read_alias()
        from django.http import HttpResponse

        return HttpResponse("ok")

    response = PinToPrimaryMiddleware(view)(request)
    return seen["alias"], response


def test_a_post_is_read_from_the_primary_and_pins_its_sender(with_replica):
    alias, response = _seen_by_view(RequestFactory().post("/ledger/window/rooms/1/pay/"))
    assert alias == "default"
    assert PIN_COOKIE in response.cookies
    assert response.cookies[PIN_COOKIE]["max-age"] == 15


def test_the_page_after_a_payment_reads_the_primary(with_replica):
    _, posted = _seen_by_view(RequestFactory().post("/ledger/window/rooms/1/pay/"))
    request = RequestFactory().get("/reports/")
    request.COOKIES[PIN_COOKIE] = posted.cookies[PIN_COOKIE].value
    alias, _ = _seen_by_view(request)
    assert alias == "default"


def test_a_get_without_the_pin_reads_the_replica(with_replica):
    alias, response = _seen_by_view(RequestFactory().get("/reports/"))
    assert alias == "replica"
    assert PIN_COOKIE not in response.cookies


def test_a_forged_pin_pins_nothing(with_replica):
    request = RequestFactory().get("/reports/")
    request.COOKIES[PIN_COOKIE] = "1:forged:signature"
    alias, _ = _seen_by_view(request)
    assert alias == "replica"


def test_an_expired_pin_pins_nothing(with_replica, settings, monkeypatch):
    _, posted = _seen_by_view(RequestFactory().post("/ledger/window/rooms/1/pay/"))
    settings.WUYE_REPLICA_PIN_SECONDS = 15
    later = time.time() + 16
    monkeypatch.setattr("django.core.signing.time.time", lambda: later)
    request = RequestFactory().get("/reports/")
    request.COOKIES[PIN_COOKIE] = posted.cookies[PIN_COOKIE].value
    alias, _ = _seen_by_view(request)
    assert alias == "replica"


def test_without_a_replica_a_post_sets_no_pin(monkeypatch):
    monkeypatch.setattr(db_router, "replica_configured", lambda: False)
    _, response = _seen_by_view(RequestFactory().post("/ledger/window/rooms/1/pay/"))
    assert PIN_COOKIE not in response.cookies


# --- with a replica configured (CI: the same PostgreSQL as a test mirror) ---------------------------

needs_replica = pytest.mark.skipif(
    not db_router.replica_configured(), reason="WUYE_REPLICA_URL not set"
)


def _queries_on(alias: str, client, url: str) -> tuple[int, int]:
    with CaptureQueriesContext(connections[alias]) as queries:
        status = client.get(url).status_code
    return status, len(queries)


@needs_replica
@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
def test_the_dashboard_reads_from_the_replica(client, manager):
    client.force_login(manager)
    status, on_replica = _queries_on("replica", client, reverse("reports:dashboard"))
    assert status == 200
    assert on_replica > 0


@needs_replica
@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
def test_the_fee_window_never_reads_from_the_replica(client, cashier):
    client.force_login(cashier)
    status, on_replica = _queries_on("replica", client, reverse("ledger:window"))
    assert status == 200
    assert on_replica == 0


@needs_replica
@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
def test_after_a_post_the_dashboard_reads_from_the_primary(client, manager):
    client.force_login(manager)
    client.post(reverse("reports:plans"), {})  # any POST pins, whatever its answer
    status, on_replica = _queries_on("replica", client, reverse("reports:dashboard"))
    assert status == 200
    assert on_replica == 0


@needs_replica
@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
def test_a_mirror_is_never_shown_as_behind():
    with reads_from_replica():
        assert db_router.stale_note() is None
