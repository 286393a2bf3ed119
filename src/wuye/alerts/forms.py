"""Forms of the alerts pages. They only parse input; ``services`` decides what is allowed."""

from __future__ import annotations

from django import forms

from wuye.alerts import WarningKind
from wuye.dunning.enums import Channel, RefusalReason


def _blank(choices) -> list[tuple[str, str]]:
    return [("", "—")] + [(v, str(label)) for v, label in choices if v]


class SuccessStoryForm(forms.Form):
    refusal_reason = forms.ChoiceField(
        label="克服的拒缴理由", choices=_blank(RefusalReason.choices), required=False
    )
    channel = forms.ChoiceField(label="奏效的方式", choices=_blank(Channel.choices), required=False)
    what_worked = forms.CharField(
        label="做法与经验",
        max_length=2000,
        required=False,  # the service names the missing text in its own words
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="写清楚做了什么、说了什么让业主愿意缴费；不要写业主姓名、房号和金额。",
    )


class WarningFilterForm(forms.Form):
    kind = forms.ChoiceField(label="类型", choices=_blank(WarningKind.choices), required=False)
    state = forms.ChoiceField(
        label="状态",
        choices=[("open", "未处理"), ("acknowledged", "已确认"), ("all", "全部")],
        required=False,
    )


class AcknowledgeForm(forms.Form):
    note = forms.CharField(label="处理说明", max_length=300, required=False)
