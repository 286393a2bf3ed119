from django.contrib import admin

from wuye.ops.models import JobRun, SchedulerBeat


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
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

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SchedulerBeat)
class SchedulerBeatAdmin(admin.ModelAdmin):
    list_display = ["name", "last_tick", "host"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
