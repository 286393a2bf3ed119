"""Writes of the schedule a person makes: running one step of today's chain by hand (立即运行)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from wuye.core.audit import audit_record
from wuye.core.errors import ValidationFailed
from wuye.core.models import Project, User
from wuye.ops import tasks
from wuye.ops.models import OPEN_STATUSES, JobRun, RunStatus
from wuye.ops.selectors import can_operate
from wuye.ops.steps import step_by_key


def run_now(*, user: User, project: Project, step_key: str) -> JobRun:
    """Queues ``step_key`` of ``project`` for today at once, whatever its time, on the same row the
    scheduler uses (so the scheduler will not run it again today). Refused while it is queued or
    running, and for a step that is not due today (automatic billing off, or not its day)."""
    if not can_operate(user, project):
        raise ValidationFailed("只有公司管理员可以手动运行系统任务", field="step")
    step = step_by_key(step_key)
    if step is None:
        raise ValidationFailed(f"没有名为“{step_key}”的系统任务", field="step")
    today = timezone.localdate()
    if not step.is_due(project, today):
        raise ValidationFailed(
            f"「{step.label}」今天不需运行（如自动计费未开启或不是计费日、模型训练不是训练日）",
            field="step",
        )
    now = timezone.now()
    with transaction.atomic():
        run, created = JobRun.objects.select_for_update().get_or_create(
            step=step.key,
            project=project,
            day=today,
            defaults={"status": RunStatus.QUEUED, "enqueued_at": now},
        )
        if not created:
            if run.status in OPEN_STATUSES:
                raise ValidationFailed(
                    f"「{step.label}」正在{run.get_status_display()}，请等它结束后再运行",
                    field="step",
                )
            run.status = RunStatus.QUEUED
            run.enqueued_at = now
            run.started_at = None
            run.finished_at = None
            run.error = ""
        run.trigger = "manual"
        run.triggered_by = user
        run.save()
        audit_record(
            user=user,
            action="手动运行系统任务",
            obj=run,
            project=project,
            changes={"step": step.key, "day": today.isoformat()},
        )
    tasks.enqueue(run, step)
    run.refresh_from_db()
    return run
