"""Background work of online payment; the scheduler lists these (plain functions in services and
reconcile, wrapped as tasks here)."""

from __future__ import annotations

import datetime

from django_tasks import task

from wuye.payments import notices, reconcile, services


@task()
def orders_sweep_task() -> dict:
    """主动查单 of open orders; expired ones closed on the platform (every few minutes)."""
    return services.orders_sweep()


# Queued by the callbacks (one per second of callbacks): posts the stored payment notices.
notices_post_task = notices.notices_post_task


@task()
def reconcile_yesterday_task() -> dict:
    """对账 of yesterday for every configured channel (once a day, after 10:00 when the
    platforms' statements are ready)."""
    return reconcile.reconcile_yesterday()


def run_reconcile(day: str) -> dict:
    return reconcile.reconcile_all(datetime.date.fromisoformat(day))
