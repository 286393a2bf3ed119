"""The segment edit form: the rule and the strategy, every field labelled in Chinese by the model."""

from __future__ import annotations

from django import forms
from django.db.models import Q

from wuye.credit.models import Segment
from wuye.credit.services import EDITABLE_FIELDS
from wuye.messaging.models import MessageTemplate, TemplateKind

RULE_FIELDS = [
    "min_bills",
    "min_on_time_ratio",
    "max_on_time_ratio",
    "min_arrears_months_12",
    "max_arrears_months_12",
    "min_months_in_arrears",
    "min_worst_days_late",
    "max_months_in_arrears",
    "min_overdue_amount",
    "dispute_refusal",
    "min_unreached",
    "min_broken_promises",
]
STRATEGY_FIELDS = [
    "remind_days_before_due",
    "reminder_channel",
    "reminder_template",
    "tone",
    "thank_after_payment",
    "thank_template",
    "first_action",
    "call_cadence_days",
    "escalate_after_days",
    "offer_direct_debit",
    "offer_pay_ahead",
]


class SegmentForm(forms.ModelForm):
    class Meta:
        model = Segment
        fields = EDITABLE_FIELDS
        widgets = {"description": forms.TextInput(attrs={"size": 60})}

    def __init__(self, *args, project, **kwargs):
        super().__init__(*args, **kwargs)
        templates = MessageTemplate.objects.filter(
            Q(project__isnull=True) | Q(project=project),
            company_id=project.company_id,
            kind=TemplateKind.SMS,
        ).order_by("title")
        for name in ("reminder_template", "thank_template"):
            self.fields[name].queryset = templates
            self.fields[name].empty_label = "（默认模板）"

    def rule_fields(self):
        return [self[name] for name in RULE_FIELDS]

    def strategy_fields(self):
        return [self[name] for name in STRATEGY_FIELDS]

    def head_fields(self):
        return [self[name] for name in ("name", "priority", "is_active", "description")]
