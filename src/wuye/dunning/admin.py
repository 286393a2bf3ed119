"""Dunning configuration in the admin: settings, follow-up and escalation rules, teams (editable).
Cases, timelines and contact records are read-only here: they change only through ``services``
(evidence is never edited)."""

from django.contrib import admin

from wuye.core.admin import ReadOnlyAdmin, ScopedAdmin
from wuye.dunning.models import (
    ArrearsCase,
    CaseEvent,
    CollectionTeam,
    ContactRecord,
    DunningRun,
    DunningSettings,
    EscalationRule,
    FollowUpRule,
    LimitationInterruption,
    RecoveryOrder,
)


@admin.register(DunningSettings)
class DunningSettingsAdmin(ScopedAdmin):
    list_display = [
        "project",
        "grace_days",
        "summer_windows",
        "winter_windows",
        "max_calls_per_day",
    ]


@admin.register(FollowUpRule)
class FollowUpRuleAdmin(ScopedAdmin):
    list_display = ["project", "case_class", "action", "days"]
    list_filter = ["case_class"]


@admin.register(EscalationRule)
class EscalationRuleAdmin(ScopedAdmin):
    list_display = ["project", "kind", "days", "deadline_days", "is_active"]


@admin.register(CollectionTeam)
class CollectionTeamAdmin(ScopedAdmin):
    list_display = ["project", "name", "leader", "deputy", "target_amount", "is_active"]
    filter_horizontal = ["members"]


@admin.register(ArrearsCase)
class ArrearsCaseAdmin(ReadOnlyAdmin):
    list_display = [
        "room",
        "state",
        "case_class",
        "stage",
        "assignee",
        "overdue_amount",
        "aging_days",
    ]
    list_filter = ["state", "case_class", "stage"]
    search_fields = ["room__code"]


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyAdmin):
    project_path = "case__project_id"
    list_display = ["case", "at", "kind", "from_value", "to_value", "by"]


@admin.register(ContactRecord)
class ContactRecordAdmin(ReadOnlyAdmin):
    list_display = ["case", "at", "channel", "reached", "case_class", "by"]
    list_filter = ["channel", "reached"]


@admin.register(DunningRun)
class DunningRunAdmin(ReadOnlyAdmin):
    list_display = ["project", "run_on", "status", "accounts", "opened", "updated", "closed"]


@admin.register(LimitationInterruption)
class LimitationInterruptionAdmin(ReadOnlyAdmin):
    project_path = "case__project_id"
    list_display = ["case", "kind", "on_date", "original_name", "by", "recorded_at"]


@admin.register(RecoveryOrder)
class RecoveryOrderAdmin(ReadOnlyAdmin):
    list_display = ["case", "state", "assignee", "amount", "oldest_due_date", "created_at"]
    list_filter = ["state"]
