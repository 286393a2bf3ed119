"""Report filters and the collection-plan forms.

Filters arrive in the query string, so a report page is a link: it can be bookmarked, printed and
exported with the very same figures. A bad value is refused with a message that names the field.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django import forms

from wuye.billing import calc
from wuye.core.dates import date_in_range
from wuye.core.widgets import IsoDateInput
from wuye.reports.models import PlanSplit

WINDOWS = [("month", "本月"), ("year", "本年"), ("custom", "自定义")]
GROUP_LABELS = {
    "company": "公司合计",
    "project": "按项目",
    "building": "按楼栋",
    "steward": "按楼管",
    "team": "按催收小组",
    "fee_item": "按收费项目",
}
FIGURES = {
    "current_unpaid": "本期未缴清的住户",
    "recovery_unpaid": "期初欠费仍未清的住户",
    "not_clear": "未缴清的住户（户数收缴率）",
    "aging": "账龄段内的欠费住户",
    "class": "该分类的在案欠费户",
    "reason": "该拒交原因的在案欠费户",
    "top": "欠费大户",
}
# Above this many rows an export runs in the background (a page would time out before the file is
# written); smaller ones download at once.
EXPORT_ASYNC_ROWS = 5000
MAX_DEBTORS = 100_000


def first_error(form: forms.Form) -> str:
    """The first error of ``form`` as one line that names the field (``截至日期：…``)."""
    for field, errors in form.errors.items():
        if field == "__all__":
            return errors[0]
        return f"{form.fields[field].label}：{errors[0]}"
    return ""


class ReportFilterForm(forms.Form):
    """Project, as-of date and window, shared by the dashboard and every report page."""

    project = forms.TypedChoiceField(label="项目", required=False, coerce=int, empty_value=None)
    as_of = forms.DateField(
        label="截至日期",
        required=False,
        widget=IsoDateInput(),
        input_formats=["%Y-%m-%d"],
        validators=[date_in_range],
    )
    window = forms.ChoiceField(label="统计区间", choices=WINDOWS, required=False)
    start = forms.DateField(
        label="开始日期",
        required=False,
        widget=IsoDateInput(),
        input_formats=["%Y-%m-%d"],
        validators=[date_in_range],
    )
    end = forms.DateField(
        label="结束日期",
        required=False,
        widget=IsoDateInput(),
        input_formats=["%Y-%m-%d"],
        validators=[date_in_range],
    )

    def __init__(self, data, *, projects, today: datetime.date, **kwargs):
        super().__init__(data, **kwargs)
        self.today = today
        choices = [(p.pk, p.name) for p in projects]
        self.fields["project"].choices = [("", "全部项目")] + choices
        self.fields["as_of"].error_messages["invalid"] = "请输入正确的日期（YYYY-MM-DD）"
        self.fields["start"].error_messages["invalid"] = "请输入正确的日期（YYYY-MM-DD）"
        self.fields["end"].error_messages["invalid"] = "请输入正确的日期（YYYY-MM-DD）"
        self.fields["project"].error_messages["invalid_choice"] = "该项目不存在或不在您的权限范围内"
        self.fields["window"].error_messages["invalid_choice"] = "只能选本月、本年或自定义"

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        as_of = data.get("as_of") or self.today
        data["as_of"] = as_of
        window = data.get("window") or "month"
        data["window"] = window
        if window == "month":
            start = calc.month_start(as_of)
            end = calc.month_end(as_of)
        elif window == "year":
            start = datetime.date(as_of.year, 1, 1)
            end = datetime.date(as_of.year, 12, 31)
        else:
            start, end = data.get("start"), data.get("end")
            if start is None:
                self.add_error("start", "自定义区间需要开始日期")
                return data
            if end is None:
                self.add_error("end", "自定义区间需要结束日期")
                return data
            if end < start:
                self.add_error("end", "结束日期不能早于开始日期")
                return data
            if (end - start).days > 3660:
                self.add_error("start", "区间最长十年")
                return data
            if as_of < start:
                self.add_error("as_of", "截至日期不能早于区间开始日期")
                return data
        data["start"], data["end"] = start, end
        return data


class RatesForm(ReportFilterForm):
    group = forms.ChoiceField(label="分组", choices=list(GROUP_LABELS.items()), required=False)

    def clean_group(self):
        return self.cleaned_data.get("group") or "project"


class DebtorsForm(ReportFilterForm):
    limit = forms.IntegerField(
        label="显示户数",
        required=False,
        min_value=1,
        max_value=MAX_DEBTORS,
        error_messages={
            "invalid": "请输入整数",
            "min_value": "至少 1 户",
            "max_value": f"最多 {MAX_DEBTORS} 户",
        },
    )

    def clean_limit(self):
        return self.cleaned_data.get("limit") or 50


class HouseholdsForm(ReportFilterForm):
    figure = forms.ChoiceField(label="数字", choices=list(FIGURES.items()))
    key = forms.CharField(label="分组", required=False, max_length=40)
    bucket = forms.IntegerField(label="账龄段", required=False, min_value=0, max_value=5)
    group = forms.ChoiceField(label="分组方式", choices=list(GROUP_LABELS.items()), required=False)
    developer = forms.ChoiceField(
        label="收楼状态",
        required=False,
        choices=[("", "全部"), ("0", "已收楼"), ("1", "未收楼（开发商）")],
    )
    limit = forms.IntegerField(label="户数", required=False, min_value=1, max_value=MAX_DEBTORS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["figure"].error_messages["required"] = "请指明要查看哪个数字的住户"
        self.fields["figure"].error_messages["invalid_choice"] = "没有这个数字"
        self.fields["bucket"].error_messages.update(
            {"min_value": "账龄段为 0–5", "max_value": "账龄段为 0–5", "invalid": "账龄段为 0–5"}
        )
        self.fields["group"].error_messages["invalid_choice"] = "没有这种分组"
        self.fields["developer"].error_messages["invalid_choice"] = (
            "只能是 0（已收楼）或 1（未收楼）"
        )
        self.fields["limit"].error_messages.update(
            {
                "invalid": "请输入整数",
                "min_value": "至少 1 户",
                "max_value": f"最多 {MAX_DEBTORS} 户",
            }
        )

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        figure = data["figure"]
        data["group"] = data.get("group") or "company"
        raw = data.get("key") or ""
        if figure in ("class", "reason"):
            data["key"] = raw  # a class letter or a refusal-reason code; "" is "none"
        elif raw:
            if not raw.isdigit():
                self.add_error("key", "应为整数")
                return data
            if data["group"] == "company":
                self.add_error("group", "指定了分组就要指明分组方式")
                return data
            data["key"] = int(raw)
        else:
            data["key"] = None
        data["developer"] = {"": None, "0": False, "1": True}[data.get("developer") or ""]
        return data


# --- collection plans --------------------------------------------------------------------------


class PlanForm(forms.Form):
    year = forms.IntegerField(
        label="年度",
        min_value=2000,
        max_value=2100,
        error_messages={
            "invalid": "请输入四位年份",
            "min_value": "年份不早于 2000",
            "max_value": "年份不晚于 2100",
        },
    )
    split = forms.ChoiceField(label="分解方式", choices=PlanSplit.choices)
    target_amount = forms.DecimalField(
        label="年度实收目标(本金，元)",
        min_value=Decimal("0"),
        max_digits=14,
        decimal_places=2,
        error_messages={
            "invalid": "请输入金额，如 1250000.00",
            "min_value": "不能为负数",
            "max_decimal_places": "最多两位小数（分）",
            "max_digits": "金额过大",
        },
    )
    target_rate = forms.DecimalField(
        label="目标综合收缴率(%)",
        required=False,
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        decimal_places=2,
        max_digits=5,
        error_messages={
            "invalid": "请输入百分数，如 95",
            "min_value": "在 0–100 之间",
            "max_value": "在 0–100 之间",
            "max_decimal_places": "最多两位小数",
        },
    )
    note = forms.CharField(label="说明", required=False, max_length=200)


def parse_amount(raw: str) -> Decimal | None:
    """A money figure typed into the plan sheet (blank = none); raises ValueError with a message."""
    raw = (raw or "").strip().replace(",", "")
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except ArithmeticError as exc:
        raise ValueError("请输入金额，如 100000.00") from exc
    if not value.is_finite():
        raise ValueError("请输入金额，如 100000.00")
    if value < 0:
        raise ValueError("不能为负数")
    if value != value.quantize(Decimal("0.01")):
        raise ValueError("最多两位小数（分）")
    if value >= Decimal("1e12"):
        raise ValueError("金额过大")
    return value


def parse_count(raw: str) -> int | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise ValueError("户数应为不小于 0 的整数")
    return int(raw)
