from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django_tasks_db.admin import DBTaskResultAdmin
from django_tasks_db.models import DBTaskResult

from wuye.core.audit import audit_record, diff, snapshot
from wuye.core.models import (
    AuditEntry,
    Company,
    LoginAttempt,
    LoginFailure,
    LoginLog,
    Membership,
    Project,
    TaskRecord,
    User,
)
from wuye.core.scope import project_ids_for, scoped_rows


class ScopedAdmin(admin.ModelAdmin):
    """Every admin list and form of the project: staff who are not superusers see and pick only rows of
    their projects (``project_path`` says how a row reaches its project; ``company_path`` lets the
    company's project-less rows through). The data scope is a security rule with this one definition."""

    project_path: str | None = "project_id"
    company_path: str | None = None

    def get_queryset(self, request):
        rows = super().get_queryset(request)
        return scoped_rows(rows, request.user, self.project_path, self.company_path)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Project and not request.user.is_superuser:
            kwargs["queryset"] = Project.objects.filter(pk__in=project_ids_for(request.user))
        if db_field.related_model is Company and not request.user.is_superuser:
            kwargs["queryset"] = Company.objects.filter(pk=request.user.company_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ReadOnlyAdmin(ScopedAdmin):
    """Rows written only through services (append-only ledger, evidence, runs): look, never touch."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AuditedAdmin(ScopedAdmin):
    """Admin writes go into the audit trail like service writes do."""

    def _project_of(self, obj):
        return getattr(obj, "project_id", None)

    def prepare(self, obj) -> None:
        """Hook for derived fields (search keys) before saving."""

    def save_model(self, request, obj, form, change):
        before = snapshot(type(obj).objects.get(pk=obj.pk)) if change and obj.pk else {}
        self.prepare(obj)
        super().save_model(request, obj, form, change)
        audit_record(
            user=request.user,
            action="后台修改" if change else "后台新增",
            obj=obj,
            project=self._project_of(obj),
            changes=diff(before, snapshot(obj)),
        )

    def delete_model(self, request, obj):
        audit_record(
            user=request.user,
            action="后台删除",
            obj=obj,
            project=self._project_of(obj),
            changes=snapshot(obj),
        )
        super().delete_model(request, obj)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["project"]


@admin.register(Company)
class CompanyAdmin(AuditedAdmin):
    project_path = None
    company_path = "id"
    list_display = ["name", "short_name", "phone"]
    search_fields = ["name"]

    def _project_of(self, obj):
        return None


@admin.register(Project)
class ProjectAdmin(AuditedAdmin):
    project_path = "id"
    list_display = ["code", "name", "company", "is_active"]
    list_filter = ["company", "is_active"]
    search_fields = ["name", "code"]

    def _project_of(self, obj):
        return obj.pk


@admin.register(User)
class UserAdmin(ScopedAdmin, BaseUserAdmin):
    project_path = None
    company_path = "company_id"
    list_display = ["username", "display_name", "company", "company_role", "is_active"]
    list_filter = ["company", "company_role", "is_active"]
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("公司与角色", {"fields": ("company", "company_role", "display_name", "phone")}),
    )
    inlines = [MembershipInline]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit_record(
            user=request.user,
            action="用户修改" if change else "用户新增",
            obj=obj,
            changes={
                k: str(v)
                for k, v in form.cleaned_data.items()
                if k in form.changed_data and "password" not in k
            },
        )


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    company_path = "user__company_id"
    list_display = ["at", "user", "action", "model", "object_repr", "project"]
    list_filter = ["action", "project"]
    search_fields = ["object_repr", "action"]
    date_hierarchy = "at"


# --- third-party models under their Chinese proxies (core.models) ------------------------------------
# axes.admin and django_tasks_db.admin come earlier in INSTALLED_APPS, so they are registered by now.


class SuperuserOnly:
    """Rows of no project or company (login attempts of every company, the task queue): only the
    superuser sees them, whatever permissions a careless administrator ticks for staff."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser


def _swap(original, proxy, admin_class) -> None:
    if admin.site.is_registered(original):
        admin.site.unregister(original)
        admin.site.register(proxy, type(admin_class.__name__, (SuperuserOnly, admin_class), {}))


_swap(AccessAttempt, LoginAttempt, AccessAttemptAdmin)
_swap(AccessLog, LoginLog, AccessLogAdmin)
_swap(AccessFailureLog, LoginFailure, AccessFailureLogAdmin)


class TaskRecordAdmin(DBTaskResultAdmin):
    """Background tasks (billing runs, imports, reports) as the staff read them."""

    list_display = ("id", "task", "state", "enqueued", "started", "finished", "queue_name")
    list_filter = ("status", "queue_name")

    @admin.display(description="任务", ordering="task_path")
    def task(self, obj):
        return obj.task_path.rsplit(".", 1)[-1]

    STATES = {"READY": "等待执行", "RUNNING": "执行中", "SUCCESSFUL": "成功", "FAILED": "失败"}

    @admin.display(description="状态", ordering="status")
    def state(self, obj):
        return self.STATES.get(obj.status, obj.status)

    @admin.display(description="排队时间", ordering="enqueued_at")
    def enqueued(self, obj):
        return obj.enqueued_at

    @admin.display(description="开始时间", ordering="started_at")
    def started(self, obj):
        return obj.started_at

    @admin.display(description="完成时间", ordering="finished_at")
    def finished(self, obj):
        return obj.finished_at


_swap(DBTaskResult, TaskRecord, TaskRecordAdmin)
