"""The daily chain: which step of which project and day runs next, and the task that runs it.

``tick`` (called by the scheduler process every few minutes and at the configured times) looks at
today and the days it may have missed (``WUYE_SCHEDULE_CATCH_UP_DAYS``, never before the first day it
ever recorded) and, per project and day, claims the first step not yet done whose time has come. The
claim is a ``JobRun`` row, unique per (step, project, day): two schedulers, a restart in the middle of a
chain or a tick while a step runs can never run the same step of a day twice. When a step finishes,
``run_step`` claims the next one at once, so a chain does not wait for the next tick.

A step that fails is recorded (with its error) and the chain goes on with the next step: each step is
idempotent and independent enough that one failure must not starve the rest. A step left queued or
running longer than ``WUYE_SCHEDULE_STALE_MINUTES`` (a worker killed mid-step) is recorded as failed.
"""

from __future__ import annotations

import datetime
import logging
import socket
import traceback

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Min
from django.utils import timezone
from django_tasks import task

from wuye.core.models import Project
from wuye.dunning.rules import LAW_MESSAGE_WINDOW
from wuye.ops.models import DONE_STATUSES, OPEN_STATUSES, JobRun, RunStatus, SchedulerBeat
from wuye.ops.steps import Step, step_by_key, steps

log = logging.getLogger(__name__)
DAY = datetime.timedelta(days=1)


def _local(now: datetime.datetime) -> datetime.datetime:
    return timezone.localtime(now)


def gate_open(step: Step, day: datetime.date, now: datetime.datetime) -> bool:
    """Has ``step``'s time come for ``day``? Today: from its configured time on; a missed day: at once.
    A step that sends messages also waits for the lawful window (08:00–21:00, LAW.md §8)."""
    local = _local(now)
    if day > local.date():
        return False
    if day == local.date() and local.time() < step.at():
        return False
    if step.sends_messages:
        start, end = LAW_MESSAGE_WINDOW
        if not (start <= local.time() < end):
            return False
    return True


def _stale(run: JobRun, now: datetime.datetime) -> bool:
    since = run.started_at or run.enqueued_at
    limit = datetime.timedelta(minutes=settings.WUYE_SCHEDULE_STALE_MINUTES)
    return since is not None and now - since > limit


def enqueue(run: JobRun, step: Step, now: datetime.datetime | None = None) -> None:
    try:
        run_step.using(queue_name=step.queue).enqueue(run.pk, now.isoformat() if now else None)
    except Exception as exc:  # the queue is down: record it, the next tick does not retry this day
        log.exception("ops: queueing %s failed", run)
        JobRun.objects.filter(pk=run.pk, status=RunStatus.QUEUED).update(
            status=RunStatus.FAILED,
            finished_at=timezone.now(),
            error=f"排队失败（任务队列不可用）：{type(exc).__name__}: {exc}"[:4000],
        )


def advance(project: Project, day: datetime.date, now: datetime.datetime | None = None) -> None:
    """Claims and queues the next step of ``project``'s chain for ``day``, if its time has come."""
    at = now or timezone.now()
    runs = {r.step: r for r in JobRun.objects.filter(project=project, day=day)}
    for step in steps():
        run = runs.get(step.key)
        if run is not None:
            if run.status in DONE_STATUSES:
                continue
            if _stale(run, at):
                minutes = settings.WUYE_SCHEDULE_STALE_MINUTES
                JobRun.objects.filter(pk=run.pk, status__in=OPEN_STATUSES).update(
                    status=RunStatus.FAILED,
                    finished_at=at,
                    error=f"超过 {minutes} 分钟未完成：工作进程可能已中断或队列积压。",
                )
                continue
            return  # queued or running: the chain waits for it
        if not step.is_due(project, day):
            try:
                with transaction.atomic():
                    JobRun.objects.create(
                        step=step.key,
                        project=project,
                        day=day,
                        status=RunStatus.SKIPPED,
                        finished_at=at,
                    )
            except IntegrityError:
                return  # someone else is at this chain
            continue
        if not gate_open(step, day, at):
            return
        try:
            with transaction.atomic():
                run = JobRun.objects.create(
                    step=step.key,
                    project=project,
                    day=day,
                    status=RunStatus.QUEUED,
                    enqueued_at=at,
                )
        except IntegrityError:
            return  # claimed by another scheduler or an earlier tick
        enqueue(run, step, now)
        return


def _days(today: datetime.date) -> list[datetime.date]:
    """Today and the missed days the scheduler still runs: at most WUYE_SCHEDULE_CATCH_UP_DAYS back,
    never before the first day it ever recorded (a new installation starts today)."""
    first = JobRun.objects.aggregate(first=Min("day"))["first"] or today
    start = max(today - DAY * settings.WUYE_SCHEDULE_CATCH_UP_DAYS, first)
    return [start + DAY * i for i in range((today - start).days + 1)]


def tick(now: datetime.datetime | None = None) -> int:
    """One pass of the scheduler; returns the number of (project, day) chains it looked at."""
    at = now or timezone.now()
    today = _local(at).date()
    days = _days(today)
    keys = {s.key for s in steps()}
    done: dict[tuple[int, datetime.date], set[str]] = {}
    for project_id, day, key in JobRun.objects.filter(
        day__gte=days[0], status__in=DONE_STATUSES
    ).values_list("project_id", "day", "step"):
        done.setdefault((project_id, day), set()).add(key)
    looked = 0
    for project in Project.objects.filter(is_active=True).order_by("pk"):
        for day in days:
            if keys <= done.get((project.pk, day), set()):
                continue
            looked += 1
            advance(project, day, now)
    SchedulerBeat.objects.update_or_create(
        name="scheduler", defaults={"last_tick": timezone.now(), "host": socket.gethostname()}
    )
    return looked


def execute(run_id: int) -> JobRun | None:
    """Runs a claimed step (the task's body). Only a queued run starts: a second delivery of the
    same task (RQ after a worker's death, a double enqueue) finds it running or done and stops."""
    started = timezone.now()
    if not JobRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING, started_at=started, error=""
    ):
        return None
    run = JobRun.objects.select_related("project").get(pk=run_id)
    JobRun.objects.filter(pk=run_id).update(attempts=run.attempts + 1)
    step = step_by_key(run.step)
    try:
        if step is None:
            raise LookupError(f"步骤 {run.step} 不在 WUYE_DAILY_STEPS 中")
        rows, detail = step.body(run.project, run.day)
        rows = max(int(rows or 0), 0)
    except Exception as exc:
        log.exception("ops: step %s of project %s for %s failed", run.step, run.project_id, run.day)
        text = "".join(traceback.format_exception(exc)[-6:])
        JobRun.objects.filter(pk=run_id).update(
            status=RunStatus.FAILED,
            finished_at=timezone.now(),
            error=f"{type(exc).__name__}: {exc}\n\n{text}"[:4000],
        )
    else:
        run.status = RunStatus.OK
        run.finished_at = timezone.now()
        run.rows = rows
        run.detail = detail or {}
        try:
            run.save(update_fields=["status", "finished_at", "rows", "detail"])
        except Exception as exc:  # e.g. a detail that is not JSON: the work is done, say so
            log.exception("ops: recording %s failed", run)
            JobRun.objects.filter(pk=run_id).update(
                status=RunStatus.FAILED,
                finished_at=timezone.now(),
                error=f"已运行，但结果无法记录：{type(exc).__name__}: {exc}"[:4000],
            )
    run.refresh_from_db()
    return run


@task()
def run_step(run_id: int, now: str | None = None) -> dict:
    """Runs one claimed step, then claims the next step of the same chain."""
    run = execute(run_id)
    if run is None:
        return {"run": run_id, "started": False}
    advance(run.project, run.day, datetime.datetime.fromisoformat(now) if now else None)
    return {"run": run_id, "status": run.status, "rows": run.rows}
