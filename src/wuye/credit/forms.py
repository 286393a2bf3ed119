"""The segment edit form: the rule and the strategy, every field labelled in Chinese by the model."""

from __future__ import annotations

from django import forms
from django.db.models import Q

from wuye.credit.models import Segment
from wuye.credit.services import EDITABLE_FIELDS, RULE_FIELDS, STRATEGY_FIELDS
from wuye.messaging.models import MessageTemplate, TemplateKind


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
