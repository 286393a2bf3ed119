"""Reads of the schedule: today's chain, recent runs, what failed or did not run, the heartbeat."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Min
from django.urls import reverse
from django.utils import timezone

from wuye.core import roles
from wuye.core.models import Project, User
from wuye.core.scope import projects_for, role_in
from wuye.ops.models import OPEN_STATUSES, JobRun, RunStatus, SchedulerBeat
from wuye.ops.steps import Step, steps

DAY = datetime.timedelta(days=1)


def can_operate(user: User, project: Project | int) -> bool:
    return role_in(user, project) in roles.OPS_ROLES


def operated_project_ids(user: User, project_ids=None) -> list[int]:
    ids = (
        project_ids if project_ids is not None else projects_for(user).values_list("id", flat=True)
    )
    return [pk for pk in ids if can_operate(user, pk)]


def beat() -> SchedulerBeat | None:
    return SchedulerBeat.objects.filter(name="scheduler").first()


def beat_is_stale(found: SchedulerBeat | None, now: datetime.datetime | None = None) -> bool:
    """No tick for three ticks' time (and at least 15 minutes): the scheduler is not running."""
    if found is None:
        return False
    now = now or timezone.now()
    limit = datetime.timedelta(seconds=max(3 * settings.WUYE_SCHEDULE_TICK_SECONDS, 900))
    return now - found.last_tick > limit


def due_time(step_list: list[Step], index: int, day: datetime.date) -> datetime.datetime:
    """When a step is expected to start: its own time or a later one of a step before it (the chain
    is in order), as an aware local datetime of ``day``."""
    at = max(s.at() for s in step_list[: index + 1])
    return timezone.make_aware(datetime.datetime.combine(day, at))


@dataclass
class ChainRow:
    step: Step
    run: JobRun | None


def chain(project: Project | int, day: datetime.date) -> list[ChainRow]:
    runs = {r.step: r for r in JobRun.objects.filter(project=project, day=day)}
    return [ChainRow(step, runs.get(step.key)) for step in steps()]


def recent_runs(project_ids, *, days: int = 7, failed_only: bool = False, limit: int = 200):
    since = timezone.localdate() - DAY * days
    qs = JobRun.objects.filter(project_id__in=project_ids, day__gte=since).select_related(
        "project", "triggered_by"
    )
    if failed_only:
        qs = qs.filter(status=RunStatus.FAILED)
    return qs.order_by("-day", "-enqueued_at", "-id")[:limit]


@dataclass(frozen=True)
class Problem:
    project: str
    day: datetime.date
    label: str
    kind: str  # "failed" | "missing"
    error: str = ""


def problems(project_ids, now: datetime.datetime | None = None) -> list[Problem]:
    """Steps of yesterday and today that failed, or whose time passed (WUYE_SCHEDULE_LATE_MINUTES
    ago) without running. Days before the schedule first ran are not counted as missed."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    first = JobRun.objects.aggregate(first=Min("day"))["first"]
    if first is None or not project_ids:
        return []
    step_list = steps()
    labels = {s.key: s.label for s in step_list}
    late = datetime.timedelta(minutes=settings.WUYE_SCHEDULE_LATE_MINUTES)
    days = [d for d in (today - DAY, today) if d >= first]
    names = dict(Project.objects.filter(pk__in=project_ids).values_list("id", "name"))
    runs: dict[tuple[int, datetime.date], dict[str, JobRun]] = {}
    for run in JobRun.objects.filter(project_id__in=project_ids, day__in=days):
        runs.setdefault((run.project_id, run.day), {})[run.step] = run
    found: list[Problem] = []
    for project_id in sorted(names):
        for day in days:
            done = runs.get((project_id, day), {})
            for index, step in enumerate(step_list):
                run = done.get(step.key)
                if run is not None and run.status == RunStatus.FAILED:
                    found.append(
                        Problem(
                            names[project_id], day, step.label, "failed", run.error_summary[:200]
                        )
                    )
                elif (run is None or run.status in OPEN_STATUSES) and (
                    now - due_time(step_list, index, day) > late
                ):
                    found.append(Problem(names[project_id], day, labels[step.key], "missing"))
    return found


def dashboard_notices(*, user: User, project_ids) -> list[dict]:
    """``WUYE_DASHBOARD_NOTICES`` hook: warnings for the company administrator on the dashboard."""
    ids = operated_project_ids(user, project_ids)
    if not ids:
        return []
    url = reverse("ops:jobs")
    notices = []
    if beat_is_stale(beat()):
        notices.append({"text": "定时任务进程（调度器）已停止：每日任务不会自动运行。", "url": url})
    found = problems(ids)
    failed = [p for p in found if p.kind == "failed"]
    missing = [p for p in found if p.kind == "missing"]
    if failed:
        first = failed[0]
        notices.append(
            {
                "text": f"系统任务失败 {len(failed)} 项：{first.project} {first.day:%m-%d}「{first.label}」"
                + ("等" if len(failed) > 1 else ""),
                "url": url,
            }
        )
    if missing:
        first = missing[0]
        notices.append(
            {
                "text": f"系统任务未按时运行 {len(missing)} 项：{first.project} {first.day:%m-%d}「{first.label}」"
                + ("等" if len(missing) > 1 else ""),
                "url": url,
            }
        )
    return notices
