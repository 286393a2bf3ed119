"""Forms of the back-office ledger pages: reversals (冲红), refunds, 日结, notices and statements.

The forms only collect what was typed; amounts, dates and approvals are checked by the services,
which name the field at fault (``place_error`` puts their message next to it).
"""

from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone

from wuye.core.dates import date_param
from wuye.core.errors import ValidationFailed, WuyeError
from wuye.core.widgets import IsoDateInput
from wuye.ledger.enums import PaymentMethod

DATE = IsoDateInput()

# The rule quoted when an approval is missing or refused (SPEC §4: nothing is deleted; a mistake is
# reversed by a new entry with a reason and an approval; refunds the same way).
RULE_TEXT = (
    "规定：收款冲红、账单冲红和预存款退款都不删除原记录，须写明原因并经有权限的主管授权后办理。"
)


class ApprovalForm(forms.Form):
    """主管授权: the approver types their own account and password on the requester's screen. Reversals
    and refunds need a second person (四眼原则): blank fields make the requester the approver, which
    the services refuse."""

    reason = forms.CharField(
        label="原因",
        max_length=200,
        required=False,  # the service says "请填写原因" next to the field
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "如：收款方式录错，应为微信"}),
    )
    approver_username = forms.CharField(
        label="审批人账号",
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    approver_password = forms.CharField(
        label="审批人密码",
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )


class PaymentReverseForm(ApprovalForm):
    business_date = forms.DateField(
        label="冲红日期",
        required=False,
        widget=DATE,
        help_text="默认今天；计入办理人当天的日结",
    )
    field_order = ["reason", "business_date", "approver_username", "approver_password"]


class BillReverseForm(ApprovalForm):
    pass


class RefundForm(ApprovalForm):
    amount = forms.CharField(label="退款金额（元）", required=False)
    method = forms.ChoiceField(
        label="退款方式",
        choices=[(k, v) for k, v in PaymentMethod.choices if k != PaymentMethod.PREPAID],
        initial=PaymentMethod.TRANSFER,
    )
    business_date = forms.DateField(
        label="退款日期", required=False, widget=DATE, help_text="默认今天；计入办理人当天的日结"
    )
    field_order = [
        "amount",
        "method",
        "reason",
        "business_date",
        "approver_username",
        "approver_password",
    ]


def place_error(form: forms.Form, exc: WuyeError) -> str:
    """Puts a service's message next to the field it names; returns it when no field on the form
    fits (it is then shown above the button)."""
    field = exc.field or ""
    if field == "approved_by":
        field = "approver_username"
    if field in form.fields:
        form.add_error(field, exc.message)
        return ""
    return exc.message


# --- reading filters from the query string ---------------------------------------------------------


def parse_date(value: str | None, default: datetime.date | None = None) -> datetime.date | None:
    """A ``YYYY-MM-DD`` date from a query string; ``default`` when blank, not a date or outside the
    supported range (wuye.core.dates)."""
    try:
        return date_param(value, default=default)
    except ValidationFailed:
        return default


def parse_month(value: str | None) -> datetime.date | None:
    """The last day of a ``YYYY-MM`` month (a notice's "账期至"), or ``None``."""
    text = (value or "").strip()
    try:
        first = datetime.date.fromisoformat(f"{text}-01")
    except ValueError:
        return None
    following = (first.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return following - datetime.timedelta(days=1)


def statement_range(params) -> tuple[datetime.date, datetime.date]:
    """The statement's date range from ``from``/``to`` (default: this year to today)."""
    today = timezone.localdate()
    date_to = min(parse_date(params.get("to"), today), today)  # nothing is known about tomorrow
    date_from = parse_date(params.get("from"), date_to.replace(month=1, day=1))
    if date_to < date_from:
        date_from, date_to = date_to, date_from
    return date_from, date_to
