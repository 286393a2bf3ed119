from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from wuye.core.audit import audit_record, diff, snapshot
from wuye.core.models import AuditEntry, Company, Membership, Project, User


class AuditedAdmin(admin.ModelAdmin):
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
    list_display = ["name", "short_name", "phone"]
    search_fields = ["name"]

    def _project_of(self, obj):
        return None


@admin.register(Project)
class ProjectAdmin(AuditedAdmin):
    list_display = ["code", "name", "company", "is_active"]
    list_filter = ["company", "is_active"]
    search_fields = ["name", "code"]

    def _project_of(self, obj):
        return obj.pk


@admin.register(User)
class UserAdmin(BaseUserAdmin):
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
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "user", "action", "model", "object_repr", "project"]
    list_filter = ["action", "project"]
    search_fields = ["object_repr", "action"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
