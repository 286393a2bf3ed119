"""Report figures read from the read replica (docs/operations/replica.md): the reports' raw SQL takes
the router's read connection, the summary catch-up writes on the primary, the fee window and the
steward's list never touch the replica, and the page after a POST reads the primary.

The tests that need a replica run only with ``WUYE_REPLICA_URL`` set (``.ci/run`` runs this file with
the replica a test mirror of PostgreSQL); the snapshot's own rules are tested on any database."""

from decimal import Decimal

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.ledger.factories import monthly_bills
from tests.reports.builders import D, account, fee_item, pay, scope
from wuye.core import db_router
from wuye.reports import selectors, summary_refresh
from wuye.reports.models import AccountDebt, BillFact, OpenBill, StewardFact
from wuye.reports.sql import Window

FIGURE_TABLES = [m._meta.db_table for m in (BillFact, StewardFact, OpenBill, AccountDebt)]
YEAR = {"as_of": "2025-06-30", "window": "year"}
HALF = Window(D(2025, 1, 1), D(2025, 6, 30))

needs_replica = pytest.mark.skipif(
    not db_router.replica_configured(), reason="WUYE_REPLICA_URL not set"
)
both = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


@pytest.fixture
def ledger(project, cashier):
    """Two households billed January–June 2025; one paid three months."""
    item = fee_item(project)
    owing, paid = account(project, "1-1-101"), account(project, "1-1-102")
    monthly_bills(owing, item, D(2025, 1, 1), 6)
    monthly_bills(paid, item, D(2025, 1, 1), 6)
    pay(cashier, paid, "300.00", business_date=D(2025, 3, 20))
    return {"owing": owing, "paid": paid}


def _reads(queries) -> int:
    """Statements reading the summaries a figure is made of."""
    return sum(any(t in q["sql"] for t in FIGURE_TABLES) for q in queries)


def _writes(queries) -> list[str]:
    verbs = ("INSERT", "UPDATE", "DELETE", "CREATE", "DROP")
    return [q["sql"][:80] for q in queries if q["sql"].lstrip().upper().startswith(verbs)]


def _on_each(client, method, url, data=None):
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica"]) as replica,
    ):
        response = getattr(client, method)(url, data or {})
    return response, primary.captured_queries, replica.captured_queries


# --- on any database -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_report_question_catches_up_before_its_snapshot_and_reads_inside_it(
    project, ledger, cashier
):
    summary_refresh.refresh(full=True)
    pay(cashier, ledger["owing"], "100.00", business_date=D(2025, 6, 1))  # not summarised yet
    seen = {}

    def spy():
        seen["in_snapshot"] = db_router.in_read_snapshot()
        return real()

    real = summary_refresh._states
    summary_refresh._states = spy
    try:
        rows = selectors.collection_rates(scope(project), HALF, D(2025, 6, 30))
    finally:
        summary_refresh._states = real
    assert seen["in_snapshot"] is True
    assert rows == selectors.collection_rates(scope(project), HALF, D(2025, 6, 30), live=True)
    assert summary_refresh.pending_rows(10) == 0  # caught up, before the snapshot


@pytest.mark.django_db
def test_the_summaries_catch_up_on_the_primary_even_in_the_replica_scope(
    project, ledger, cashier, monkeypatch
):
    summary_refresh.refresh(full=True)
    pay(cashier, ledger["owing"], "100.00", business_date=D(2025, 6, 1))
    aliases = []
    real = summary_refresh.refresh

    def spy(*args, **kwargs):
        aliases.append(db_router.read_alias())
        return real(*args, **kwargs)

    monkeypatch.setattr(summary_refresh, "refresh", spy)
    monkeypatch.setattr(db_router, "replica_configured", lambda: True)
    with db_router.reads_from_replica():
        assert summary_refresh._bring_up_to_date(1000) is True
    assert aliases == ["default"]


# --- with a replica (CI: a test mirror of PostgreSQL) ---------------------------------------------


@needs_replica
@both
def test_a_report_pages_figures_are_read_from_the_replica(client, manager, ledger):
    summary_refresh.refresh(full=True)
    client.force_login(manager)
    for name in ("reports:dashboard", "reports:rates", "reports:aging"):
        response, primary, replica = _on_each(client, "get", reverse(name), YEAR)
        assert response.status_code == 200, name
        assert _reads(replica) > 0, name
        assert _reads(primary) == 0, name  # there only the catch-up's look at what is pending
        assert any("REPEATABLE READ" in q["sql"] for q in replica), name  # one snapshot
        assert _writes(replica) == [], name


@needs_replica
@both
def test_the_figures_read_from_the_replica_are_the_primarys(client, manager, ledger):
    summary_refresh.refresh(full=True)
    client.force_login(manager)
    on_replica = client.get(reverse("reports:dashboard"), YEAR).context["b"]
    client.post(reverse("reports:plans"), {})  # pinned: the same page from the primary
    on_primary = client.get(reverse("reports:dashboard"), YEAR).context["b"]
    assert on_replica.owed == on_primary.owed == Decimal("900.00")
    assert on_replica.head == on_primary.head


@needs_replica
@both
def test_the_catch_up_writes_on_the_primary_and_the_page_reads_the_replica(
    client, manager, cashier, ledger
):
    summary_refresh.refresh(full=True)
    pay(cashier, ledger["owing"], "100.00", business_date=D(2025, 6, 1))  # not summarised yet
    client.force_login(manager)
    response, primary, replica = _on_each(client, "get", reverse("reports:rates"), YEAR)
    assert response.status_code == 200
    assert any("reports_" in w for w in _writes(primary))  # the catch-up
    assert _writes(replica) == []
    assert _reads(replica) > 0
    assert summary_refresh.pending_rows(10) == 0


@needs_replica
@both
def test_the_fee_window_and_todays_list_never_read_the_replica(client, cashier, steward, ledger):
    summary_refresh.refresh(full=True)
    client.force_login(cashier)
    room_id = ledger["owing"].room_id
    for url in (reverse("ledger:window"), reverse("ledger:window_room", args=[room_id])):
        response, _, replica = _on_each(client, "get", url)
        assert response.status_code == 200, url
        assert replica == [], url
    client.force_login(steward)
    response, _, replica = _on_each(client, "get", reverse("dunning:today"))
    assert response.status_code == 200
    assert replica == []


@needs_replica
@both
def test_a_report_page_after_a_post_reads_the_primary(client, manager, ledger):
    summary_refresh.refresh(full=True)
    client.force_login(manager)
    client.post(reverse("reports:plans"), {})  # any POST pins its sender, whatever its answer
    for name in ("reports:dashboard", "reports:rates"):
        response, primary, replica = _on_each(client, "get", reverse(name), YEAR)
        assert response.status_code == 200, name
        assert replica == [], name
        assert _reads(primary) > 0, name
