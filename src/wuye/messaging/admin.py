from django.contrib import admin

from wuye.core.admin import ScopedAdmin
from wuye.messaging.models import LetterSettings, MessageTemplate, OutboxMessage, TalkingPoint


@admin.register(TalkingPoint)
class TalkingPointAdmin(ScopedAdmin):
    company_path = "company_id"  # company-wide points have no project
    list_display = ("title", "case_class", "refusal_reason", "project", "company")
    list_filter = ("case_class", "refusal_reason")


@admin.register(MessageTemplate)
class MessageTemplateAdmin(ScopedAdmin):
    company_path = "company_id"
    list_display = ("title", "kind", "project", "company")
    list_filter = ("kind",)


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ScopedAdmin):
    list_display = ("created_at", "to", "status", "provider_id", "project")
    list_filter = ("status",)
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LetterSettings)
class LetterSettingsAdmin(ScopedAdmin):
    list_display = ("project", "principal", "law_firm", "lawyer", "law_firm_phone")
