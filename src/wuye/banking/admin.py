"""Receiving accounts in the admin (系统配置): name, bank, whether notices print it, active. Lines,
claims and payer cards are read on the pages; they change only through ``banking.services``. Staff
who are not superusers see only their projects' accounts."""

from django.contrib import admin

from wuye.banking.models import BankAccount
from wuye.core.admin import ScopedAdmin


@admin.register(BankAccount)
class BankAccountAdmin(ScopedAdmin):
    list_display = ("number", "name", "bank", "project", "on_notices", "is_active")
    list_filter = ("is_active", "on_notices")
    fields = ("project", "number", "name", "bank", "on_notices", "is_active")
    list_select_related = ("project",)
