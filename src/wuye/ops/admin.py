from django.contrib import admin

from wuye.core.admin import ReadOnlyAdmin
from wuye.ops.models import JobRun, SchedulerBeat


@admin.register(JobRun)
class JobRunAdmin(ReadOnlyAdmin):
    """Written only by the scheduler and 立即运行 (the 系统任务 page)."""

    list_display = [
        "day",
        "project",
        "step",
        "status",
        "trigger",
        "started_at",
        "finished_at",
        "rows",
    ]
    list_filter = ["status", "step", "trigger"]
    date_hierarchy = "day"


@admin.register(SchedulerBeat)
class SchedulerBeatAdmin(ReadOnlyAdmin):
    project_path = None  # the installation's, not a project's: superusers only
    list_display = ["name", "last_tick", "host"]
