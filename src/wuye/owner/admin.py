from django.contrib import admin

from wuye.core.admin import ScopedAdmin
from wuye.owner.models import OwnerInvoiceRequest, OwnerLink


@admin.register(OwnerLink)
class OwnerLinkAdmin(ScopedAdmin):
    list_display = ["account", "created_at", "revoked_at", "revoke_reason"]
    readonly_fields = [f.name for f in OwnerLink._meta.fields if f.name != "key"]
    exclude = ["key"]  # the secret part of the link is never shown


@admin.register(OwnerInvoiceRequest)
class OwnerInvoiceRequestAdmin(ScopedAdmin):
    list_display = ["title", "payment", "status", "created_at"]
    readonly_fields = [f.name for f in OwnerInvoiceRequest._meta.fields]
