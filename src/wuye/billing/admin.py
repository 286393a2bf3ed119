"""Billing in the admin: for looking things up only. Every change goes through the billing pages and
``services`` (validated, audited, append-only for bills), so nothing here can add, edit or delete."""

from django.contrib import admin

from wuye.billing.models import (
    Account,
    Bill,
    BillAdjustment,
    BillingRun,
    FeeItem,
    FeeStandard,
    LateFeeRule,
    LateFeeWaiver,
    LprRate,
    MeterReading,
    PayAheadRule,
    ProjectBillingSettings,
    SharedCharge,
)
from wuye.core.admin import ReadOnlyAdmin as LookupAdmin


class StandardInline(admin.TabularInline):
    model = FeeStandard
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(FeeItem)
class FeeItemAdmin(LookupAdmin):
    list_display = ["code", "name", "project", "method", "cycle", "rounding", "is_active"]
    list_filter = ["project", "method", "cycle", "is_active"]
    search_fields = ["code", "name"]
    inlines = [StandardInline]


@admin.register(BillingRun)
class BillingRunAdmin(LookupAdmin):
    list_display = ["project", "period_start", "revision", "status", "done_count", "total_count"]
    list_filter = ["project", "status"]
    exclude = ["preview"]


@admin.register(Bill)
class BillAdmin(LookupAdmin):
    list_display = ["room", "fee_item", "kind", "period_start", "amount", "due_date", "revision"]
    list_filter = ["project", "kind", "fee_item"]
    search_fields = ["room__code"]
    list_select_related = ["room", "fee_item"]
    show_full_result_count = False  # tens of millions of rows: no COUNT(*) per page


@admin.register(BillAdjustment)
class BillAdjustmentAdmin(LookupAdmin):
    project_path = "bill__project_id"
    list_display = ["bill", "kind", "amount", "effective_date", "reason", "approved_by"]
    list_filter = ["kind"]
    list_select_related = ["bill__room", "bill__fee_item", "approved_by"]
    show_full_result_count = False


@admin.register(Account)
class AccountAdmin(LookupAdmin):
    list_display = ["room", "payer", "project"]
    list_filter = ["project"]
    search_fields = ["room__code", "payer__name"]


for model, fields, path in (
    (MeterReading, ["room", "fee_item", "period_start", "previous", "current", "replaced"], None),
    (SharedCharge, ["fee_item", "period_start", "building", "total"], None),
    (LateFeeRule, ["project", "enabled", "daily_rate", "grace_days", "start_date"], None),
    (LprRate, ["company", "effective_from", "annual_rate"], "company"),
    (LateFeeWaiver, ["bill", "amount", "effective_date", "reason"], "bill__project_id"),
    (PayAheadRule, ["name", "fee_item", "min_months", "discount_rate", "free_months"], None),
    (
        ProjectBillingSettings,
        ["project", "auto_consume_prepaid", "max_prepay_months", "auto_billing"],
        None,
    ),
):
    attrs = {"list_display": fields}
    if path == "company":  # company-wide rows (the LPR)
        attrs.update(project_path=None, company_path="company_id")
    elif path is not None:
        attrs["project_path"] = path
    admin.site.register(model, type(f"{model.__name__}Admin", (LookupAdmin,), attrs))
