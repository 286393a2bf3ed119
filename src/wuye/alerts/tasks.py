"""Background work of alerts: thin wrappers around the runs (django-tasks). Schedule
``warnings_run_all`` once a day after the dunning run, and ``reminders_run_all`` once a day inside the
message window (09:30) — see docs/operations/alerts.md."""

from __future__ import annotations

import datetime
import logging

from django_tasks import task

from wuye.alerts.courtesy import reminders_run, thanks_for_account

log = logging.getLogger(__name__)


@task()
def warnings_run_all(on: str | None = None) -> dict:
    """The daily warnings run of every active project (``on`` as YYYY-MM-DD, default today)."""
    from django.utils import timezone

    from wuye.alerts.early_warnings import warnings_run
    from wuye.core.models import Project

    day = datetime.date.fromisoformat(on) if on else timezone.localdate()
    raised = 0
    for project in Project.objects.filter(is_active=True):
        raised += warnings_run(project=project, on=day).total
    return {"on": day.isoformat(), "raised": raised}


@task(queue_name="quick")
def thanks_send(account_id: int) -> dict:
    """The thank-you after a payment (queued by the ``WUYE_AFTER_PAYMENT`` hook)."""
    result = thanks_for_account(account_id)
    return result.as_dict() if result else {}


@task()
def thanks_send_many(account_ids: list[int]) -> dict:
    """The thank-yous after a batch of payments (queued once by the ``WUYE_AFTER_PAYMENTS`` hook)."""
    sent = 0
    for account_id in account_ids:
        if thanks_for_account(account_id):
            sent += 1
    return {"accounts": len(account_ids), "results": sent}


@task()
def reminders_run_all(on: str | None = None) -> dict:
    """Pre-due reminders and pending thanks of every active project. Run it inside the message
    window (09:30): outside it nothing is sent and the reminders wait for the next run."""
    from wuye.core.models import Project

    day = datetime.date.fromisoformat(on) if on else None
    results = reminders_run(projects=Project.objects.filter(is_active=True), on=day)
    return {
        "reminders": sum(r.reminders for r in results),
        "thanks": sum(r.thanks for r in results),
        "waiting": sum(r.waiting for r in results),
    }


def after_payment(*, account_id: int) -> None:
    """``WUYE_AFTER_PAYMENT`` hook (after dunning has closed the case the payment settled): queues
    the thank-you as a task, so the cashier's window never waits for the SMS provider."""
    try:
        thanks_send.enqueue(account_id)
    except Exception:  # the payment stands whatever happens here; the daily run sweeps thanks
        log.exception("alerts: queueing the thanks for account %s failed", account_id)


def after_payments(*, account_ids: list[int]) -> None:
    """``WUYE_AFTER_PAYMENTS`` hook: queues the thank-yous of a batch as one task."""
    try:
        thanks_send_many.enqueue(list(account_ids))
    except Exception:  # the payments stand whatever happens here; the daily run sweeps thanks
        log.exception("alerts: queueing the thanks for %s accounts failed", len(account_ids))
