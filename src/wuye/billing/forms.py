"""Forms of the billing pages: they parse input; every rule lives in ``services``."""

from __future__ import annotations

import datetime
import re

from django import forms

from wuye.billing.enums import AdjustmentKind
from wuye.billing.models import FeeItem, LateFeeRule, ProjectBillingSettings
from wuye.core.widgets import IsoDateInput
from wuye.registry.enums import RoomUse

DATE = IsoDateInput()
MONTH_RE = re.compile(r"^(\d{4})-(\d{1,2})$")


class MonthField(forms.CharField):
    """A month typed as 2026-11 (a ``<input type=month>``), cleaned to its first day."""

    widget = forms.TextInput(attrs={"type": "month", "placeholder": "2026-11"})

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        match = MONTH_RE.match(value.strip())
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise forms.ValidationError("请按“年-月”填写，如 2026-11")
        return datetime.date(int(match.group(1)), int(match.group(2)), 1)


def month_text(day: datetime.date | None) -> str:
    return f"{day:%Y-%m}" if day else ""


class ApproverFields(forms.Form):
    """主管授权: the approving manager types their own account and password on this form. A manager
    doing the work themselves may leave both blank."""

    approver_username = forms.CharField(label="审批人账号", required=False)
    approver_password = forms.CharField(
        label="审批人密码", required=False, widget=forms.PasswordInput(render_value=False)
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("approver_username", "approver_password"):  # after the fields of the action
            self.fields[name] = self.fields.pop(name)


# --- fee items and standards ---------------------------------------------------------------------


class FeeItemForm(forms.ModelForm):
    uses = forms.MultipleChoiceField(
        label="适用房屋用途",
        choices=RoomUse.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="都不选表示全部用途",
    )

    class Meta:
        model = FeeItem
        fields = [
            "code",
            "name",
            "method",
            "area_basis",
            "cycle",
            "due_days",
            "rounding",
            "uses",
            "vacancy_policy",
            "vacancy_rate",
            "not_handed_over_policy",
            "not_handed_over_rate",
            "prorate_from_handover",
            "late_fee_applies",
            "is_active",
            "sort",
        ]

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not editing:
            del self.fields["is_active"]  # a new item starts active
        if editing:
            # The code and method define what existing bills mean: fixed once the item exists.
            for name in ("code", "method"):
                self.fields[name].disabled = True
                self.fields[name].required = False

    def validate_unique(self):
        """Uniqueness is the service's to check (it knows the project)."""

    def _post_clean(self):
        """The service validates the model; the form only parses input."""


class FeeStandardForm(forms.Form):
    room_use = forms.ChoiceField(
        label="房屋用途", choices=[("", "所有用途"), *RoomUse.choices], required=False
    )
    unit_price = forms.CharField(
        label="单价（元）", help_text="面积类为元/㎡·月，抄表类为元/吨或元/度"
    )
    valid_from = forms.DateField(label="生效日期", widget=DATE)
    valid_to = forms.DateField(
        label="失效日期", required=False, widget=DATE, help_text="含当天；留空表示长期有效"
    )
    note = forms.CharField(label="依据/备注", required=False, max_length=200)
    close_previous = forms.BooleanField(
        label="自动结束原标准（调价）", required=False, initial=True
    )


class StandardEndForm(forms.Form):
    valid_to = forms.DateField(label="最后一天", widget=DATE)


# --- readings and shared charges -----------------------------------------------------------------


class SheetChoiceForm(forms.Form):
    fee_item = forms.ModelChoiceField(label="抄表项目", queryset=FeeItem.objects.none())
    building = forms.ChoiceField(label="楼栋")
    period = MonthField(label="账期")

    def __init__(self, *args, items=None, buildings=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fee_item"].queryset = items if items is not None else FeeItem.objects.none()
        self.fields["building"].choices = [(b.pk, b.name) for b in buildings]


class SharedChargeForm(forms.Form):
    fee_item = forms.ModelChoiceField(label="公摊项目", queryset=FeeItem.objects.none())
    period = MonthField(label="账期")
    building = forms.ChoiceField(label="分摊范围", required=False)
    total = forms.CharField(label="分摊总额（元）")
    note = forms.CharField(label="说明", required=False, max_length=200)

    def __init__(self, *args, items=None, buildings=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fee_item"].queryset = items if items is not None else FeeItem.objects.none()
        self.fields["building"].choices = [("", "全小区"), *((b.pk, b.name) for b in buildings)]


# --- billing runs --------------------------------------------------------------------------------


class RunPreviewForm(forms.Form):
    period = MonthField(label="计费月份")


class RunReverseForm(ApproverFields):
    reason = forms.CharField(label="冲红原因", max_length=200)


# --- late fees, LPR, pay-ahead, reductions -------------------------------------------------------


class LateFeeRuleForm(forms.ModelForm):
    class Meta:
        model = LateFeeRule
        fields = ["enabled", "daily_rate", "grace_days", "start_date", "cap_multiplier"]
        widgets = {"start_date": DATE}

    def _post_clean(self):
        """The service validates."""


class LprForm(forms.Form):
    effective_from = forms.DateField(label="生效日期", widget=DATE)
    annual_rate = forms.CharField(label="一年期LPR", help_text="如 0.0300 表示 3.00%")


class PayAheadForm(ApproverFields):
    fee_item = forms.ModelChoiceField(label="收费项目", queryset=FeeItem.objects.none())
    name = forms.CharField(label="优惠名称", max_length=60)
    min_months = forms.IntegerField(label="预交月数（至少）", min_value=1)
    discount_rate = forms.CharField(label="折扣比例", initial="0", help_text="如 0.05 表示优惠 5%")
    free_months = forms.IntegerField(label="赠送月数", min_value=0, initial=0)
    valid_from = forms.DateField(label="生效日期", widget=DATE)
    valid_to = forms.DateField(label="失效日期", required=False, widget=DATE)

    def __init__(self, *args, items=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fee_item"].queryset = items if items is not None else FeeItem.objects.none()


ADJUST_CHOICES = [
    (AdjustmentKind.WAIVER, "一次性减免"),
    (AdjustmentKind.DISCOUNT, "优惠"),
    (AdjustmentKind.COMPENSATION, "补偿抵扣"),
]


class BillAdjustForm(ApproverFields):
    bill = forms.TypedChoiceField(label="账单", coerce=int)
    kind = forms.ChoiceField(label="类型", choices=ADJUST_CHOICES)
    amount = forms.CharField(label="金额（元）")
    reason = forms.CharField(label="原因", max_length=200)

    def __init__(self, *args, bills=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bill"].choices = bills


class CompensateForm(ApproverFields):
    account = forms.TypedChoiceField(label="缴费账户", coerce=int)
    amount = forms.CharField(label="补偿金额（元）", help_text="从最早的未缴账单起依次抵扣")
    reason = forms.CharField(label="原因", max_length=200)

    def __init__(self, *args, accounts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].choices = accounts


class WaiverForm(ApproverFields):
    bill = forms.TypedChoiceField(label="账单", coerce=int)
    amount = forms.CharField(label="减免滞纳金（元）")
    reason = forms.CharField(label="原因", max_length=200)

    def __init__(self, *args, bills=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bill"].choices = bills


class BillingSettingsForm(forms.ModelForm):
    class Meta:
        model = ProjectBillingSettings
        fields = [
            "auto_consume_prepaid",
            "max_prepay_months",
            "payment_instructions",
            "auto_billing",
            "auto_billing_day",
        ]
        widgets = {"payment_instructions": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Left empty: the 1st of the month (a form saved before the field existed keeps working).
        self.fields["auto_billing_day"].required = False

    def clean_auto_billing_day(self):
        return self.cleaned_data.get("auto_billing_day") or 1

    def _post_clean(self):
        """The service validates."""
