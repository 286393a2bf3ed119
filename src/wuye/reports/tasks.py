"""Background work of the reports: the summary refresh (django-tasks; the ORM queue by default).

``WUYE_AFTER_BILLING_RUN`` lists ``after_billing_run`` so that a committed billing run's bills reach the
summaries at once. Payments are not refreshed one by one: a report catches up with the few rows it has
not read (``summary.catch_up``), and the nightly refresh (cron: ``report_summary_refresh``) keeps the
backlog small.
"""

from __future__ import annotations

from django_tasks import task


@task(queue_name="long")
def summary_refresh(full: bool = False) -> dict:
    """Adds the ledger rows the report summaries have not read yet (all of them when ``full``)."""
    from wuye.reports.summary_refresh import refresh

    result = refresh(full=full)
    return {
        "added": result.added,
        "pending_ids": result.pending_ids,
        "seconds": round(result.seconds, 2),
    }


def after_billing_run(*, run_id: int) -> None:
    """The ``WUYE_AFTER_BILLING_RUN`` hook: queues a summary refresh."""
    summary_refresh.enqueue()
