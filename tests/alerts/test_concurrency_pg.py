"""Two reminder runs of one project at the same moment (PostgreSQL, real threads and connections):
the project lock makes the second wait and find every bill reminded (the unique constraint
backs it up) — one message, not two."""

import datetime
import threading
import time

import pytest
from django.db import connection, connections

from tests.dunning import factories
from wuye.alerts import courtesy
from wuye.alerts.models import CourtesyMessage, ReminderSent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
DAY = datetime.timedelta(days=1)


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (row locks); SQLite serializes writers anyway")


def test_two_runs_at_once_send_one_reminder(project, steward, item, monkeypatch):
    today = factories.today()
    acct = factories.debtor(project, "2-1-0201", steward=steward)
    factories.bill(acct, item, "280.50", today - 20 * DAY, today + 3 * DAY)
    ten = factories.at(today, 10)
    original = courtesy._phones

    def slow_phones(project_id):  # both runs have drafted before either writes
        found = original(project_id)
        time.sleep(0.3)
        return found

    monkeypatch.setattr(courtesy, "_phones", slow_phones)
    barrier = threading.Barrier(2)
    results = []

    def worker():
        try:
            barrier.wait()
            results.append(courtesy.courtesy_run(project=project, now=ten, on=today).reminders)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(results) == [0, 1]
    assert CourtesyMessage.objects.count() == 1 and ReminderSent.objects.count() == 1
