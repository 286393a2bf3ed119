"""A project's online-payment switches in the admin (系统配置). Orders, refunds and reconciliations are
read on the pages and change only through the services; merchant keys are never stored here."""

from django.contrib import admin

from wuye.core.admin import ScopedAdmin
from wuye.payments.models import PaymentSettings


@admin.register(PaymentSettings)
class PaymentSettingsAdmin(ScopedAdmin):
    list_display = ("project", "enabled", "allow_skip_older")
    fields = ("project", "enabled", "allow_skip_older")
    list_select_related = ("project",)
