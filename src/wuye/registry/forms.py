"""Forms of the household page. They only parse input; the services validate and write."""

from django import forms

from wuye.core.errors import TEXT_MAX_LENGTH
from wuye.core.widgets import IsoDateInput
from wuye.registry.enums import (
    IssueState,
    OccupancyRole,
    OccupancyState,
    PhoneLabel,
    PhoneValidity,
    ResponsibleParty,
    RoomUse,
    TicketCategory,
    TicketState,
)


class RoomForm(forms.Form):
    gross_area = forms.DecimalField(
        label="建筑面积(㎡)", max_digits=10, decimal_places=2, required=False, min_value=0
    )
    inner_area = forms.DecimalField(
        label="套内面积(㎡)", max_digits=10, decimal_places=2, required=False, min_value=0
    )
    use = forms.ChoiceField(label="用途", choices=RoomUse.choices)
    handed_over = forms.BooleanField(label="已收楼", required=False)
    handover_date = forms.DateField(label="收楼日期", required=False, widget=IsoDateInput())
    occupancy_state = forms.ChoiceField(label="使用状态", choices=OccupancyState.choices)
    note = forms.CharField(label="备注", max_length=200, required=False)


class PersonForm(forms.Form):
    home_address = forms.CharField(label="家庭住址", max_length=200, required=False)
    work_address = forms.CharField(label="工作单位地址", max_length=200, required=False)
    mailing_address = forms.CharField(label="邮寄地址", max_length=200, required=False)
    preferred_contact_times = forms.CharField(label="方便联系时间", max_length=100, required=False)
    written_contact_only = forms.BooleanField(label="仅书面联系", required=False)
    notes = forms.CharField(
        label="备注",
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class PhoneAddForm(forms.Form):
    number = forms.CharField(label="号码", max_length=30)
    label = forms.ChoiceField(
        label="类型", choices=[("", "自动判断"), *PhoneLabel.choices], required=False
    )


class PhoneValidityForm(forms.Form):
    validity = forms.ChoiceField(label="有效性", choices=PhoneValidity.choices)


class OccupantAddForm(forms.Form):
    name = forms.CharField(label="姓名", max_length=100)
    phone = forms.CharField(label="电话", max_length=30, required=False)
    role = forms.ChoiceField(label="身份", choices=OccupancyRole.choices)
    start_date = forms.DateField(label="起始日期", required=False, widget=IsoDateInput())
    is_payer = forms.BooleanField(label="缴费人", required=False)


class OccupancyEndForm(forms.Form):
    end_date = forms.DateField(label="结束日期", widget=IsoDateInput())


class LegacyIssueForm(forms.Form):
    title = forms.CharField(label="问题", max_length=100)
    responsible_party = forms.ChoiceField(label="责任方", choices=ResponsibleParty.choices)
    reported_on = forms.DateField(label="登记日期", widget=IsoDateInput())
    description = forms.CharField(
        label="详细描述",
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class LegacyIssueStateForm(forms.Form):
    state = forms.ChoiceField(label="状态", choices=IssueState.choices)
    note = forms.CharField(label="说明", max_length=500, required=False)


class TicketForm(forms.Form):
    category = forms.ChoiceField(label="类别", choices=TicketCategory.choices)
    subject = forms.CharField(label="事由", max_length=100)
    description = forms.CharField(
        label="内容",
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class TicketStateForm(forms.Form):
    state = forms.ChoiceField(label="状态", choices=TicketState.choices)
    satisfaction = forms.TypedChoiceField(
        label="满意度",
        choices=[("", "—"), *[(str(n), str(n)) for n in range(1, 6)]],
        coerce=int,
        empty_value=None,
        required=False,
    )


def first_error(form: forms.Form) -> str:
    """'字段：原因' for the first invalid field, for a message above the page."""
    field, errors = next(iter(form.errors.items()))
    label = form.fields[field].label if field in form.fields else ""
    return f"{label}：{errors[0]}" if label else errors[0]
