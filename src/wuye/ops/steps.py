"""The steps of the daily chain. ``settings.WUYE_DAILY_STEPS`` lists them, in order, as dotted paths
of ``Step`` objects: an app adds its step (bank statement fetching, online-payment order queries)
by one line there.

Each step does one project's work for one day and is idempotent: the runs it calls keep their own
unique constraints, so running a day again changes nothing that was already done. A step returns
``(rows touched, detail)``; an exception is a failure, recorded on the run with its text.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from wuye.core.hooks import hooks
from wuye.core.models import Project

Outcome = tuple[int, dict[str, Any]]

LONG_QUEUE = "long"  # billing, reports, exports, training: minutes
QUICK_QUEUE = "quick"  # SMS, callbacks: must not wait behind a long job


@dataclass(frozen=True)
class Step:
    key: str  # stored on JobRun.step; never rename one in use
    label: str  # shown on the 系统任务 page
    body: Callable[[Project, datetime.date], Outcome]
    at_setting: str = "WUYE_SCHEDULE_AT"  # the setting holding its earliest time ("HH:MM")
    sends_messages: bool = False  # only inside the lawful message window (LAW.md §8)
    due: Callable[[Project, datetime.date], bool] | None = None  # None: every day
    queue: str = "default"

    def at(self) -> datetime.time:
        return datetime.time.fromisoformat(getattr(settings, self.at_setting))

    def is_due(self, project: Project, day: datetime.date) -> bool:
        return self.due is None or self.due(project, day)


def steps() -> list[Step]:
    """The configured chain, in order."""
    return hooks("WUYE_DAILY_STEPS")


def step_by_key(key: str) -> Step | None:
    return next((s for s in steps() if s.key == key), None)


# --- billing -------------------------------------------------------------------------------------


def _billing_due(project: Project, day: datetime.date) -> bool:
    from wuye.billing.selectors import billing_settings

    s = billing_settings(project)
    return bool(s.auto_billing) and day.day == s.auto_billing_day


def _billing(project: Project, day: datetime.date) -> Outcome:
    """Bills the month of ``day`` unless a run of that month is already written, in progress or was
    reversed by someone (a reversed month is billed again only by a person)."""
    from wuye.billing.enums import RunStatus
    from wuye.billing.runs import run_commit, run_execute, run_preview
    from wuye.billing.selectors import latest_revision

    month = day.replace(day=1)
    latest = latest_revision(project, month)
    if latest is not None and latest.status in (
        RunStatus.COMMITTED,
        RunStatus.QUEUED,
        RunStatus.RUNNING,
        RunStatus.REVERSED,
    ):
        return 0, {"period": f"{month:%Y-%m}", "already": latest.status}
    run = run_preview(project=project, period_start=month, user=None)
    run = run_commit(run=run, user=None, enqueue=False)
    run = run_execute(run.pk)
    return run.done_count, {
        "period": f"{month:%Y-%m}",
        "run": run.pk,
        "status": run.status,
        "exceptions": run.preview.get("exception_count", 0),
    }


billing = Step("billing", "自动计费", _billing, due=_billing_due, queue=LONG_QUEUE)


# --- dunning, credit, warnings, reminders --------------------------------------------------------


def _dunning(project: Project, day: datetime.date) -> Outcome:
    from wuye.dunning.daily_run import dunning_run

    r = dunning_run(project=project, on=day)
    rows = r.opened + r.reopened + r.updated + r.escalated + r.closed
    return rows, {k: v for k, v in r.as_dict().items() if k != "samples"}


dunning = Step("dunning", "催缴日运行", _dunning)


def _credit(project: Project, day: datetime.date) -> Outcome:
    from wuye.credit.services import credit_recompute

    r = credit_recompute(project=project, on=day)
    return r.files, r.as_dict()


credit = Step("credit", "信用档案重算", _credit)


def _warnings(project: Project, day: datetime.date) -> Outcome:
    from wuye.alerts.early_warnings import warnings_run

    r = warnings_run(project=project, on=day)
    return r.total, {"raised": r.raised, "already": r.already}


warnings = Step("warnings", "预警", _warnings)


def _reminders(project: Project, day: datetime.date) -> Outcome:
    from wuye.alerts.courtesy import courtesy_run

    r = courtesy_run(project=project, on=day)
    return r.reminders + r.thanks, {
        "reminders": r.reminders,
        "thanks": r.thanks,
        "waiting": r.waiting,
        "failed": r.failed,
    }


reminders = Step(
    "reminders",
    "缴费提醒与感谢短信",
    _reminders,
    at_setting="WUYE_SCHEDULE_MESSAGES_AT",
    sends_messages=True,
    queue=QUICK_QUEUE,
)


# --- reports, ledger, scoring --------------------------------------------------------------------


def _summary(project: Project, day: datetime.date) -> Outcome:
    """The summaries are company-wide: the first project's run adds the new rows, the others find
    nothing left (cheap)."""
    from wuye.reports.summary_refresh import refresh

    r = refresh()
    return sum(r.added.values()), {"added": r.added, "seconds": round(r.seconds, 2)}


summary = Step("summary", "报表汇总刷新", _summary, queue=LONG_QUEUE)


class LedgerProblems(Exception):
    pass


def _ledger_check(project: Project, day: datetime.date) -> Outcome:
    from wuye.ledger.invariants import check_all

    problems = check_all(project.pk)
    if problems:
        lines = [str(p) for p in problems[:20]]
        raise LedgerProblems(f"账务检查发现 {len(problems)} 个问题：\n" + "\n".join(lines))
    return 0, {"problems": 0}


ledger_check = Step("ledger_check", "账务一致性检查", _ledger_check)


def _training_due(project: Project, day: datetime.date) -> bool:
    return day.weekday() == settings.WUYE_SCHEDULE_TRAINING_WEEKDAY


def _training(project: Project, day: datetime.date) -> Outcome:
    from wuye.core.errors import ValidationFailed
    from wuye.scoring.services import score_project, scoring_train

    try:
        model = scoring_train(project=project, user=None)
    except ValidationFailed as exc:
        # Too little history: the project stays on the cold-start order (not a failure).
        scored = score_project(project_id=project.pk)
        return int(scored or 0), {"trained": False, "message": exc.message}
    return model.n_train or 0, {"trained": True, "model": model.pk, "active": model.is_active}


training = Step(
    "training", "催缴优先级模型每周训练", _training, due=_training_due, queue=LONG_QUEUE
)


# --- online payments -------------------------------------------------------------------------------


def _reconcile_due(project: Project, day: datetime.date) -> bool:
    """The platforms' statements are per merchant, not per project: the first active project carries
    the day's reconciliation, so it runs once."""
    first = Project.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True)
    return project.pk == first.first()


def _online_reconcile(project: Project, day: datetime.date) -> Outcome:
    """对账 of yesterday with each payment platform (a platform that cannot be reached is reported
    in the detail, not raised: the other channel is still reconciled)."""
    from wuye.payments.reconcile import reconcile_all

    result = reconcile_all(day - datetime.timedelta(days=1))
    return sum(r.get("lines", 0) for r in result.values()), result


online_reconcile = Step(
    "online_reconcile",
    "线上缴费对账",
    _online_reconcile,
    at_setting="WUYE_SCHEDULE_RECONCILE_AT",
    due=_reconcile_due,
)
