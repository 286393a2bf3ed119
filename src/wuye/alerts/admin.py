"""Alerts in the admin: the warning thresholds per project (editable); warnings, success stories and
courtesy messages read-only — they change only through ``services`` and the daily runs."""

from django.contrib import admin

from wuye.alerts.models import AlertSettings, CourtesyMessage, SuccessStory, Warning
from wuye.core.admin import ReadOnlyAdmin, ScopedAdmin


@admin.register(AlertSettings)
class AlertSettingsAdmin(ScopedAdmin):
    list_display = [
        "project",
        "large_overdue_amount",
        "large_overdue_days",
        "reliable_on_time_ratio",
        "complaints_count",
        "broken_promises",
        "limitation_days",
    ]


@admin.register(Warning)
class WarningAdmin(ReadOnlyAdmin):
    list_display = ["raised_on", "kind", "room", "amount", "acknowledged_by", "acknowledged_at"]
    list_filter = ["kind", "raised_on"]
    list_select_related = ["room", "acknowledged_by"]


@admin.register(SuccessStory)
class SuccessStoryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "refusal_reason", "channel", "by"]
    list_filter = ["refusal_reason"]
    list_select_related = ["by"]


@admin.register(CourtesyMessage)
class CourtesyMessageAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "room", "to", "status"]
    list_filter = ["kind", "status"]
    list_select_related = ["room"]
