"""Background work of billing: thin wrappers around ``runs`` (django-tasks; the ORM queue by default)."""

from __future__ import annotations

from django_tasks import task

from wuye.billing.runs import run_execute


@task(queue_name="long")
def billing_run_commit(run_id: int, user_id: int | None = None) -> dict:
    """Writes a queued billing run's bills in chunks; progress is on the run (``done_count``)."""
    run = run_execute(run_id, user_id)
    return {
        "run_id": run.pk,
        "status": run.status,
        "done": run.done_count,
        "total": run.total_count,
    }


def after_run_queued(*, run_id: int, user_id: int | None) -> None:
    """``WUYE_BILLING_RUN_QUEUED`` hook: ``runs.run_commit`` marked the run queued; write it in the
    background."""
    billing_run_commit.enqueue(run_id, user_id)
