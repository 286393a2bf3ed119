"""Billing runs (计费批次): plan a month's bills for a project, preview them, commit them in chunks, reverse.

One planner (``plan_month``) serves the preview, the commit and pay-ahead, so they cannot disagree. It
reads everything it needs in a fixed number of queries (rooms, payers, parking, readings, shared
charges, standards) and computes in Python; the commit writes with bulk inserts in chunks of rooms, each
chunk in its own transaction.

Idempotent: a bill's key is (account, fee item, period start, revision), held by a unique constraint.
The commit skips keys that already exist — from an earlier attempt that crashed half-way, or from a
pay-ahead that billed the month early — so a rerun fills only the gaps. A reversed run leaves its
bills in place with a reversal entry each; the month's next run uses the next revision.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from operator import attrgetter

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from wuye.billing.checks import check_approver, require_reason
from wuye.billing.enums import (
    AdjustmentKind,
    RunStatus,
)
from wuye.billing.models import (
    Bill,
    BillAdjustment,
    BillingRun,
)
from wuye.billing.run_planning import EXCEPTION_LABELS, SKIP_LABELS, Plan, plan_month
from wuye.billing.run_writing import (
    INSERT_BATCH,
    account_index,
    accounts_ensure,
    bill_rows,
    chunks_by_room,
    existing_keys,
    insert_bills,
)
from wuye.billing.selectors import latest_revision, with_balance
from wuye.core import hooks
from wuye.core.audit import audit_record
from wuye.core.errors import ValidationFailed
from wuye.core.models import Project, User
from wuye.core.money import ZERO
from wuye.registry.models import Building

logger = logging.getLogger(__name__)

# Rooms per committed chunk: each chunk is one transaction, and progress moves once per chunk.
CHUNK_ROOMS = 2000


# --- preview -------------------------------------------------------------------------------------


def summarize(plan: Plan, existing: set[tuple[int, int]], accounts: dict) -> dict:
    """The preview shown before a commit: counts and totals by item and building, exceptions."""
    building_names = dict(
        Building.objects.filter(project_id=plan.project_id).values_list("id", "name")
    )
    building_order = {
        b: n
        for n, b in enumerate(
            Building.objects.filter(project_id=plan.project_id)
            .order_by("sort", "code")
            .values_list("id", flat=True)
        )
    }
    items = {i.id: i for i in plan.items}
    by_item: dict[int, list] = {i.id: [0, ZERO, 0] for i in plan.items}
    by_building: dict[int, list] = {}
    new_count = 0
    for p in plan.bills:
        account = accounts.get((p.room_id, p.payer_id))
        is_new = account is None or (account, p.fee_item_id) not in existing
        new_count += is_new
        row = by_item[p.fee_item_id]
        row[0] += 1
        row[1] += p.amount
        row[2] += is_new
        row = by_building.setdefault(p.building_id, [0, ZERO])
        row[0] += 1
        row[1] += p.amount
    return {
        "period": f"{plan.month:%Y-%m}",
        "total_count": len(plan.bills),
        "new_count": new_count,
        "existing_count": len(plan.bills) - new_count,
        "total_amount": str(plan.total_amount),
        "room_count": len({p.room_id for p in plan.bills}),
        "by_item": [
            {
                "fee_item_id": item_id,
                "name": items[item_id].name,
                "method": items[item_id].get_method_display(),
                "cycle": items[item_id].get_cycle_display(),
                "count": row[0],
                "new_count": row[2],
                "amount": str(row[1]),
            }
            for item_id, row in by_item.items()
        ],
        "by_building": [
            {
                "building_id": building_id,
                "name": building_names.get(building_id, str(building_id)),
                "count": row[0],
                "amount": str(row[1]),
            }
            for building_id, row in sorted(
                by_building.items(), key=lambda kv: building_order.get(kv[0], 0)
            )
        ],
        "not_due": [{"name": i.name, "cycle": i.get_cycle_display()} for i in plan.not_due],
        "exceptions": plan.exceptions,
        "exception_count": sum(plan.exception_counts.values()),
        "exception_counts": [
            {"kind": k, "label": EXCEPTION_LABELS.get(k, k), "count": n}
            for k, n in sorted(plan.exception_counts.items())
        ],
        "skipped": [
            {"kind": k, "label": SKIP_LABELS.get(k, k), "count": n}
            for k, n in sorted(plan.skipped.items())
        ],
    }


def _month_of(period_start: datetime.date) -> datetime.date:
    if period_start.day != 1:
        raise ValidationFailed("账期须为某月 1 日（如 2026-11-01）", field="period_start")
    return period_start


def run_preview(*, project: Project, period_start: datetime.date, user: User | None) -> BillingRun:
    """Plans the month and stores the preview on the month's run (a new one, or the open one again)."""
    month = _month_of(period_start)
    with transaction.atomic():
        latest = (
            BillingRun.objects.select_for_update()
            .filter(project=project, period_start=month)
            .order_by("-revision")
            .first()
        )
        if latest is not None and latest.status in (RunStatus.QUEUED, RunStatus.RUNNING):
            raise ValidationFailed(
                f"{month:%Y-%m} 的计费批次正在生成中，请等待完成后再预览", field="period_start"
            )
        if latest is None or latest.status == RunStatus.REVERSED:
            run = BillingRun(
                project=project,
                period_start=month,
                revision=0 if latest is None else latest.revision + 1,
                created_by=user if user and user.is_authenticated else None,
            )
        else:
            run = latest
        plan = plan_month(project, month)
        accounts = account_index(project.pk)
        existing = existing_keys(project.pk, month, [i.id for i in plan.items], run.revision)
        run.preview = summarize(plan, existing, accounts)
        run.total_count = len(plan.bills)
        run.total_amount = plan.total_amount
        if run.status != RunStatus.COMMITTED:
            run.status = RunStatus.PREVIEWED
            run.done_count = 0
        run.save()
        audit_record(
            user=user,
            action="计费预览",
            obj=run,
            project=project,
            changes={
                "period": f"{month:%Y-%m}",
                "revision": run.revision,
                "count": run.total_count,
                "new": run.preview["new_count"],
                "amount": run.total_amount,
                "exceptions": run.preview["exception_count"],
            },
        )
    return run


# --- commit --------------------------------------------------------------------------------------

COMMITTABLE = (RunStatus.PREVIEWED, RunStatus.FAILED, RunStatus.COMMITTED)


def run_commit(*, run: BillingRun, user: User | None, enqueue: bool = True) -> BillingRun:
    """Queues the run's bills to be written by a background task (progress on the run page).

    ``enqueue=False`` only marks the run queued: the caller then runs ``run_execute`` itself (the
    ``billing_run`` command, which prints the progress as it goes). The queueing itself is the
    ``WUYE_BILLING_RUN_QUEUED`` hooks' (``billing.tasks.after_run_queued``): tasks call runs, runs
    never import tasks."""
    with transaction.atomic():
        run = BillingRun.objects.select_for_update().get(pk=run.pk)
        if run.status not in COMMITTABLE:
            raise ValidationFailed(
                f"批次状态为“{run.get_status_display()}”，不能生成账单", field="status"
            )
        newest = latest_revision(run.project_id, run.period_start)
        if newest is not None and newest.pk != run.pk:
            raise ValidationFailed("该批次已被后来的批次取代，请重新预览", field="revision")
        run.status = RunStatus.QUEUED
        run.error = ""
        run.save(update_fields=["status", "error"])
        audit_record(user=user, action="计费生成", obj=run, project=run.project_id)
    user_id = user.pk if user is not None and user.is_authenticated else None
    if enqueue:
        hooks.call_each("WUYE_BILLING_RUN_QUEUED", run_id=run.pk, user_id=user_id)
    run.refresh_from_db()
    return run


def run_execute(
    run_id: int,
    user_id: int | None = None,
    *,
    progress: Callable[[BillingRun], None] | None = None,
) -> BillingRun:
    """Writes a queued run's bills (the task's body; also called by ``billing_run --commit``)."""
    with transaction.atomic():
        run = (
            BillingRun.objects.select_for_update(of=("self",))
            .select_related("project")
            .get(pk=run_id)
        )
        if run.status != RunStatus.QUEUED:
            logger.warning("billing run %s is %s, not queued: nothing to do", run_id, run.status)
            return run
        run.status = RunStatus.RUNNING
        run.done_count = 0
        run.save(update_fields=["status", "done_count"])
    try:
        _write_run(run, user_id, progress)
    except Exception as exc:
        BillingRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        raise
    run.refresh_from_db()
    return run


def _write_run(run: BillingRun, user_id: int | None, progress) -> None:
    project_id = run.project_id
    plan = plan_month(run.project, run.period_start)
    accounts = accounts_ensure(
        project_id,
        {(p.room_id, p.payer_id) for p in plan.bills},
        user=User.objects.filter(pk=user_id).first() if user_id else None,
    )
    existing = existing_keys(project_id, run.period_start, [i.id for i in plan.items], run.revision)
    todo = [
        p for p in plan.bills if (accounts[(p.room_id, p.payer_id)], p.fee_item_id) not in existing
    ]
    todo.sort(key=attrgetter("room_id"))  # a room's bills (every item) land in the same chunk
    run.total_count = len(plan.bills)
    run.done_count = len(plan.bills) - len(todo)
    BillingRun.objects.filter(pk=run.pk).update(
        total_count=run.total_count, done_count=run.done_count
    )
    if progress:
        progress(run)
    for chunk in chunks_by_room(todo, CHUNK_ROOMS):
        with transaction.atomic():
            insert_bills(
                bill_rows(
                    chunk,
                    accounts,
                    project_id=project_id,
                    revision=run.revision,
                    run_id=run.pk,
                    user_id=user_id,
                )
            )
            BillingRun.objects.filter(pk=run.pk).update(done_count=F("done_count") + len(chunk))
        run.done_count += len(chunk)
        if progress:
            progress(run)
    with transaction.atomic():
        totals = Bill.objects.filter(run=run).aggregate(n=Sum("amount"))
        run.status = RunStatus.COMMITTED
        run.committed_at = timezone.now()
        run.total_amount = totals["n"] or ZERO
        run.save(update_fields=["status", "committed_at", "total_amount"])
        audit_record(
            user=User.objects.filter(pk=user_id).first() if user_id else None,
            action="计费完成",
            obj=run,
            project=project_id,
            changes={
                "count": run.total_count,
                "created": len(todo),
                "amount": run.total_amount,
                "exceptions": sum(plan.exception_counts.values()),
            },
        )
        # Each hook isolated: a failing one (the credit files, say) never undoes the bills.
        hooks.after_commit("WUYE_AFTER_BILLING_RUN", run_id=run.pk)


# --- reversal ------------------------------------------------------------------------------------


def run_reverse(
    *, run: BillingRun, user: User | None, reason: str, approved_by: User
) -> BillingRun:
    """冲红 of a whole committed run: one reversal entry per bill, all or nothing. Refused, listing the
    bills, while any of them has money applied to it (reverse those payments first)."""
    reason = require_reason(reason)
    check_approver(
        approved_by, run.project_id, requested_by=user if user and user.pk else None, four_eyes=True
    )
    with transaction.atomic():
        run = BillingRun.objects.select_for_update().get(pk=run.pk)
        if run.status != RunStatus.COMMITTED:
            raise ValidationFailed(
                f"只有已生成的批次可以冲红（当前：{run.get_status_display()}）", field="status"
            )
        bills = with_balance(
            Bill.objects.filter(run=run).exclude(adjustments__kind=AdjustmentKind.REVERSAL)
        )
        paid = list(
            bills.exclude(allocated=0)
            .order_by("room__code", "fee_item__sort")
            .values_list("room__code", "fee_item__name", "allocated")
        )
        if paid:
            listed = "、".join(
                f"{code} {name}（已核销 {amount} 元）" for code, name, amount in paid[:20]
            )
            more = f" 等 {len(paid)} 张" if len(paid) > 20 else ""
            raise ValidationFailed(
                f"以下账单已有收款核销，整批冲红前请先冲红这些收款：{listed}{more}", field="run"
            )
        today = timezone.localdate()
        adjustments = [
            BillAdjustment(
                bill_id=bill_id,
                kind=AdjustmentKind.REVERSAL,
                amount=amount - adjusted,
                effective_date=today,
                reason=reason,
                approved_by=approved_by,
                created_by=user if user and user.is_authenticated else None,
                run=run,
            )
            for bill_id, amount, adjusted in bills.values_list("id", "amount", "adjusted").iterator(
                chunk_size=10_000
            )
            if amount - adjusted > 0
        ]
        BillAdjustment.objects.bulk_create(adjustments, batch_size=INSERT_BATCH)
        run.status = RunStatus.REVERSED
        run.reversed_at = timezone.now()
        run.reversed_by = user if user and user.is_authenticated else None
        run.reverse_reason = reason
        run.save(update_fields=["status", "reversed_at", "reversed_by", "reverse_reason"])
        audit_record(
            user=user,
            action="计费批次冲红",
            obj=run,
            project=run.project_id,
            changes={
                "reason": reason,
                "approved_by": approved_by.pk,
                "bills": len(adjustments),
                "amount": sum((a.amount for a in adjustments), ZERO),
            },
        )
    return run
