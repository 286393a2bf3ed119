"""The ledger in the admin: read-only. Ledger rows are append-only and written only through
``wuye.ledger.services`` (a mistake is reversed, never edited or deleted), so the admin can look but not
add, change or delete. Staff who are not superusers see only their projects' rows."""

from django.contrib import admin

from wuye.core.admin import ReadOnlyAdmin
from wuye.ledger.models import (
    Allocation,
    CashierClosing,
    InvoiceRequest,
    Payment,
    PaymentLine,
    PaymentReversal,
    PrepaidMovement,
    ReceiptPrint,
    ReceiptSequence,
    Refund,
)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class PaymentLineInline(ReadOnlyInline):
    model = PaymentLine
    fields = ["method", "amount", "reference"]
    readonly_fields = fields


class AllocationInline(ReadOnlyInline):
    model = Allocation
    fk_name = "payment"
    fields = ["bill", "amount", "effective_date", "reverses"]
    readonly_fields = fields


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["receipt_no", "project", "account", "amount", "business_date", "cashier"]
    list_filter = ["project", "business_date"]
    search_fields = ["receipt_no", "account__room__code", "account__payer__name"]
    list_select_related = ["project", "account__room", "account__payer", "cashier"]
    inlines = [PaymentLineInline, AllocationInline]
    raw_id_fields = ["account"]


@admin.register(Allocation)
class AllocationAdmin(ReadOnlyAdmin):
    project_path = "bill__project_id"
    list_display = ["id", "bill", "amount", "effective_date", "payment", "prepaid", "reverses"]
    list_filter = ["effective_date"]
    raw_id_fields = ["bill", "payment", "prepaid", "reverses"]


@admin.register(PrepaidMovement)
class PrepaidMovementAdmin(ReadOnlyAdmin):
    project_path = "account__project_id"
    list_display = ["id", "account", "kind", "amount", "effective_date", "payment", "refund"]
    list_filter = ["kind", "effective_date"]
    raw_id_fields = ["account", "payment", "refund"]


@admin.register(PaymentReversal)
class PaymentReversalAdmin(ReadOnlyAdmin):
    project_path = "payment__project_id"
    list_display = ["payment", "business_date", "reason", "requested_by", "approved_by"]
    list_filter = ["business_date"]
    raw_id_fields = ["payment"]


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    project_path = "account__project_id"
    list_display = ["account", "amount", "method", "business_date", "requested_by", "approved_by"]
    list_filter = ["method", "business_date"]
    raw_id_fields = ["account"]


@admin.register(ReceiptPrint)
class ReceiptPrintAdmin(ReadOnlyAdmin):
    project_path = "payment__project_id"
    list_display = ["payment", "paper", "is_reprint", "printed_by", "printed_at"]
    raw_id_fields = ["payment"]


@admin.register(InvoiceRequest)
class InvoiceRequestAdmin(ReadOnlyAdmin):
    project_path = "payment__project_id"
    list_display = ["payment", "title", "tax_number", "status", "requested_by", "created_at"]
    list_filter = ["status"]
    raw_id_fields = ["payment"]


@admin.register(CashierClosing)
class CashierClosingAdmin(ReadOnlyAdmin):
    list_display = [
        "project",
        "cashier",
        "business_date",
        "total_amount",
        "payment_count",
        "reversal_count",
        "closed_at",
    ]
    list_filter = ["project", "business_date"]


@admin.register(ReceiptSequence)
class ReceiptSequenceAdmin(ReadOnlyAdmin):
    list_display = ["project", "last_no"]
