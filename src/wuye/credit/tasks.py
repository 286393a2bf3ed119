"""Background work of the credit app: thin wrappers around ``services`` (django-tasks).

Schedule ``credit_recompute_all`` once a night, after the dunning run (days late and months in
arrears move with the calendar even when nothing is paid); payments, contacts and billing runs keep
the files current during the day through the settings hooks.
"""

from __future__ import annotations

import datetime
import logging

from django_tasks import task

log = logging.getLogger(__name__)


@task(queue_name="long")
def credit_recompute_project(project_id: int, on: str | None = None) -> dict:
    """Recomputes every credit file of one project and re-segments it (``on`` as YYYY-MM-DD)."""
    from wuye.credit.services import credit_recompute

    day = datetime.date.fromisoformat(on) if on else None
    return credit_recompute(project=project_id, on=day).as_dict()


@task()
def credit_recompute_all(on: str | None = None) -> dict:
    """Queues the recompute of every active project."""
    from wuye.core.models import Project

    ids = list(Project.objects.filter(is_active=True).values_list("id", flat=True))
    for project_id in ids:
        credit_recompute_project.enqueue(project_id, on)
    return {"projects": len(ids)}


def after_billing_run(*, run_id: int) -> None:
    """The ``WUYE_AFTER_BILLING_RUN`` hook: new bills change every household's figures, so the whole
    project is recomputed in the background."""
    from wuye.billing.models import BillingRun

    project_id = BillingRun.objects.filter(pk=run_id).values_list("project_id", flat=True).first()
    if project_id is not None:
        credit_recompute_project.enqueue(project_id)


@task(queue_name="quick")
def credit_refresh_accounts(account_ids: list[int]) -> dict:
    """The credit files of households that just paid (queued by the payment hooks)."""
    from wuye.credit.services import credit_refresh_accounts as refresh

    return {"accounts": refresh(account_ids)}


def after_payment(*, account_id: int) -> None:
    """``WUYE_AFTER_PAYMENT`` hook: the ledger calls it after a payment or a reversal commits. The
    refresh is queued, so that neither the cashier's window nor a payment platform's callback waits
    for it (it took as long as the payment itself); the credit file follows within seconds. It goes
    on the quick queue ahead of the thank-you that alerts queues next, which reads the segment."""
    after_payments(account_ids=[account_id])


def after_contact(*, account_id: int, case_id: int | None = None) -> None:
    """``WUYE_AFTER_CONTACT`` hook: dunning calls it after a contact record commits. Queued like the
    payments' refresh: the steward's phone does not wait for it (about a third of recording a call
    at 100,000 rooms), and the credit file follows within seconds."""
    after_payments(account_ids=[account_id])


def after_payments(*, account_ids: list[int]) -> None:
    """``WUYE_AFTER_PAYMENTS`` hook: one queued refresh for a batch of payments."""
    try:
        credit_refresh_accounts.enqueue(sorted(set(account_ids)))
    except Exception:  # the payments stand whatever happens here; the nightly recompute catches up
        log.exception("credit: queueing the refresh of %s accounts failed", len(account_ids))
