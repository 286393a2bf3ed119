"""Background work of the ledger: thin wrappers around services (django-tasks; the ORM queue by default).

To have a committed billing run consume prepaid balances, list the hook in settings::

    WUYE_AFTER_BILLING_RUN = ["wuye.ledger.tasks.after_billing_run"]

``billing.runs`` calls each hook with ``run_id=`` once the run's commit is durable.
"""

from __future__ import annotations

import logging

from django_tasks import task

logger = logging.getLogger(__name__)


@task(queue_name="long")
def prepaid_consume_after_run(run_id: int) -> dict:
    """New bills of a committed billing run consume their accounts' prepaid balances."""
    from wuye.ledger.services.prepaid import prepaid_consume_for_run

    made = prepaid_consume_for_run(run_id)
    return {"run_id": run_id, "allocations": made}


def after_billing_run(*, run_id: int) -> None:
    """The ``WUYE_AFTER_BILLING_RUN`` hook: queues ``prepaid_consume_after_run``."""
    prepaid_consume_after_run.enqueue(run_id)


@task()
def ledger_check(project_id: int | None = None) -> dict:
    """The nightly invariant check (``check_ledger``): logs every problem, returns their count."""
    from wuye.ledger.invariants import check_all

    problems = check_all(project_id)
    for problem in problems:
        logger.error("ledger invariant: %s", problem)
    return {"problems": len(problems), "codes": sorted({p.code for p in problems})}
