"""Forms of the dunning pages. They only parse input; ``services`` decides what is allowed."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from wuye.core.widgets import IsoDateInput, IsoDateTimeInput
from wuye.dunning.enums import (
    AttachmentKind,
    CaseClass,
    Channel,
    DeliveryStatus,
    RefusalReason,
    Stage,
)

# One tap on the phone: each outcome is a submit button of the contact form.
OUTCOMES = {
    "promise": ("承诺缴费", {"reached": True}),
    "reached": ("接通·未明确", {"reached": True}),
    "refused": ("拒缴", {"reached": True}),
    "elsewhere": ("长期异地", {"reached": True, "lives_elsewhere": True}),
    "no_answer": ("无人接听", {"reached": False, "unreached_reason": "no_answer"}),
    "powered_off": ("关机", {"reached": False, "unreached_reason": "powered_off"}),
    "no_signal": ("无信号", {"reached": False, "unreached_reason": "no_signal"}),
    "disconnected": ("停机/空号", {"reached": False, "unreached_reason": "disconnected"}),
    "wrong_number": ("错号", {"reached": False, "unreached_reason": "wrong_number"}),
    "sent": ("已发出/已张贴", {"reached": False}),
}
UNREACHED_BUTTONS = ["no_answer", "powered_off", "no_signal", "disconnected", "wrong_number"]
REACHED_BUTTONS = ["promise", "reached", "refused", "elsewhere"]


def _blank(choices) -> list[tuple[str, str]]:
    return [("", "—")] + [(v, str(label)) for v, label in choices if v]


class ContactForm(forms.Form):
    outcome = forms.ChoiceField(label="结果", choices=[(k, v[0]) for k, v in OUTCOMES.items()])
    channel = forms.ChoiceField(label="方式", choices=Channel.choices, initial=Channel.PHONE)
    phone = forms.IntegerField(label="号码", required=False)
    used = forms.CharField(label="号码/地址", max_length=200, required=False)
    at = forms.DateTimeField(
        label="联系时间",
        required=False,
        help_text="补登以前的联系时填写实际时间；留空为现在",
        widget=IsoDateTimeInput(),
    )
    promise_date = forms.DateField(label="承诺日期", required=False, widget=IsoDateInput())
    promise_amount = forms.DecimalField(
        label="承诺金额", required=False, max_digits=12, decimal_places=2, min_value=0
    )
    refusal_reason = forms.ChoiceField(
        label="拒缴理由", choices=_blank(RefusalReason.choices), required=False
    )
    owner_said = forms.CharField(
        label="业主反馈", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    case_class = forms.ChoiceField(
        label="改为分类", choices=_blank(CaseClass.choices), required=False
    )
    class_reason = forms.CharField(label="改分类理由", max_length=200, required=False)
    delivery_status = forms.ChoiceField(
        label="送达状态", choices=_blank(DeliveryStatus.choices), required=False
    )
    delivery_ref = forms.CharField(label="快递单号/回执", max_length=100, required=False)
    demand_deadline = forms.DateField(label="催告缴费期限", required=False, widget=IsoDateInput())
    note = forms.CharField(label="备注", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    late_entry_reason = forms.CharField(label="补登原因", max_length=200, required=False)
    corrects = forms.IntegerField(label="更正记录", required=False)
    legacy_issue = forms.IntegerField(label="业主提到的历史遗留问题", required=False)
    attachment_kind = forms.ChoiceField(
        label="附件是什么",
        choices=AttachmentKind.choices,
        required=False,
        initial=AttachmentKind.PHOTO,
    )

    def clean(self):
        data = super().clean()
        outcome = data.get("outcome")
        if outcome == "promise" and not data.get("promise_date"):
            self.add_error("promise_date", "请选择业主承诺的缴费日期")
        if outcome == "refused" and not data.get("refusal_reason"):
            self.add_error("refusal_reason", "请选择拒缴理由")
        at = data.get("at")
        if at is not None and timezone.is_naive(at):
            data["at"] = timezone.make_aware(at)
        return data

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        kwargs = dict(OUTCOMES[data["outcome"]][1])
        if data["outcome"] != "promise":
            data["promise_date"] = None
        if data["outcome"] != "refused":
            data["refusal_reason"] = ""
        kwargs.update(
            channel=data["channel"],
            used=data["used"],
            at=data.get("at"),
            promise_date=data["promise_date"],
            promise_amount=data["promise_amount"],
            refusal_reason=data["refusal_reason"],
            owner_said=data["owner_said"],
            case_class=data["case_class"],
            class_reason=data["class_reason"],
            delivery_status=data["delivery_status"],
            delivery_ref=data["delivery_ref"],
            demand_deadline=data["demand_deadline"],
            note=data["note"],
            late_entry_reason=data["late_entry_reason"],
            attachment_kind=data.get("attachment_kind") or AttachmentKind.PHOTO,
        )
        return kwargs


class ClassForm(forms.Form):
    case_class = forms.ChoiceField(label="分类", choices=CaseClass.choices)
    reason = forms.CharField(label="理由", max_length=200)


class ReassignForm(forms.Form):
    assignee = forms.IntegerField(label="新责任人", required=False)
    reason = forms.CharField(label="原因", max_length=200)


class StageForm(forms.Form):
    stage = forms.ChoiceField(label="推进到", choices=Stage.choices)
    reason = forms.CharField(label="原因", max_length=200)
    deadline = forms.DateField(label="完成期限", required=False, widget=IsoDateInput())


class CaseFilterForm(forms.Form):
    case_class = forms.ChoiceField(
        label="分类", required=False, choices=[("", "全部"), ("-", "未分类"), *CaseClass.choices]
    )
    stage = forms.ChoiceField(label="阶段", required=False, choices=[("", "全部"), *Stage.choices])
    assignee = forms.IntegerField(label="责任人", required=False)
    overdue = forms.BooleanField(label="只看逾期任务", required=False)
    state = forms.ChoiceField(
        label="状态",
        required=False,
        choices=[("open", "催缴中"), ("closed", "已结案"), ("", "全部")],
        initial="open",
    )


def first_error(form: forms.Form) -> tuple[str | None, str]:
    for field, errors in form.errors.items():
        return (None if field == "__all__" else field), errors[0]
    return None, ""
