"""Receiving accounts in the admin (系统配置): name, bank, whether notices print it, active. Lines,
claims and payer cards are read on the pages; they change only through ``banking.services``. Staff
who are not superusers see only their projects' accounts."""

from django.contrib import admin

from wuye.banking.models import BankAccount
from wuye.core.models import Project
from wuye.core.scope import project_ids_for


@admin.register(BankAccount)
class BankAccountAdmin(admin.ModelAdmin):
    list_display = ("number", "name", "bank", "project", "on_notices", "is_active")
    list_filter = ("is_active", "on_notices")
    fields = ("project", "number", "name", "bank", "on_notices", "is_active")

    def get_queryset(self, request):
        rows = super().get_queryset(request).select_related("project")
        if request.user.is_superuser:
            return rows
        return rows.filter(project_id__in=project_ids_for(request.user))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "project" and not request.user.is_superuser:
            kwargs["queryset"] = Project.objects.filter(pk__in=project_ids_for(request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
