"""What the scheduler did: one row per step, project and day (the unique key that makes a restarted
scheduler run a missed day once, not twice), and the scheduler's heartbeat."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from wuye.core.models import Project


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("运行中")
    OK = "ok", _("成功")
    FAILED = "failed", _("失败")
    SKIPPED = "skipped", _("今日不需运行")


OPEN_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING)
DONE_STATUSES = (RunStatus.OK, RunStatus.FAILED, RunStatus.SKIPPED)


class JobRun(models.Model):
    """One step of the daily chain for one project and one day. A manual rerun updates the same row
    (``attempts`` counts them); the scheduler never makes a second row for the same day."""

    step = models.CharField(_("步骤"), max_length=40)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="job_runs")
    day = models.DateField(_("业务日"))
    status = models.CharField(
        _("状态"), max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED
    )
    trigger = models.CharField(_("触发"), max_length=10, default="schedule")  # or "manual"
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    attempts = models.PositiveSmallIntegerField(_("运行次数"), default=0)
    enqueued_at = models.DateTimeField(_("排队时间"), null=True, blank=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    rows = models.PositiveIntegerField(_("处理行数"), default=0)
    detail = models.JSONField(_("结果"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    error = models.TextField(_("错误"), blank=True)

    class Meta:
        verbose_name = _("系统任务记录")
        verbose_name_plural = _("系统任务记录")
        ordering = ["-day", "project_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["step", "project", "day"], name="ops_one_run_per_step_project_day"
            ),
        ]
        indexes = [models.Index(fields=["status", "day"], name="ops_jobrun_status_day")]

    def __str__(self) -> str:
        return f"{self.step} {self.project_id} {self.day}"

    @property
    def label(self) -> str:
        from wuye.ops.steps import step_by_key

        step = step_by_key(self.step)
        return step.label if step else self.step

    @property
    def error_summary(self) -> str:
        """The error's first line (the traceback below it is for the developers)."""
        return self.error.split("\n", 1)[0]

    @property
    def seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class SchedulerBeat(models.Model):
    """The scheduler process writes its last tick here (the health check and the dashboard read it)."""

    name = models.CharField(max_length=40, unique=True, default="scheduler")
    last_tick = models.DateTimeField()
    host = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("调度进程心跳")
        verbose_name_plural = _("调度进程心跳")

    def __str__(self) -> str:
        return f"{self.name} {self.last_tick:%Y-%m-%d %H:%M}"
