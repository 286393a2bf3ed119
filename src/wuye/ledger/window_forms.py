"""Forms of the fee window (收银台): what the cashier typed, read back from the POST.

Amounts are checked by ``services.payment_record`` (it names the field at fault, e.g.
``lines[1].amount``); these forms only collect the input, keep it for redisplay and work out the
figures the cashier sees before paying (``Quote``), from the same bills the service will read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django import forms
from django.http import QueryDict
from django.utils import timezone

from wuye.billing.models import Bill
from wuye.billing.pay_ahead import (
    AheadChoice,
    PayAheadResult,
    pay_ahead_quote,
    window_ahead_choice,
)
from wuye.core.errors import ValidationFailed
from wuye.core.money import ZERO, money, to_decimal
from wuye.core.widgets import IsoDateInput
from wuye.ledger.enums import InvoiceKind, PaymentMethod

# Methods whose transaction number (交易单号) the cashier may note for reconciliation.
METHODS_WITH_REFERENCE = frozenset(
    {
        PaymentMethod.WECHAT,
        PaymentMethod.ALIPAY,
        PaymentMethod.CARD,
        PaymentMethod.TRANSFER,
        PaymentMethod.WITHHOLDING,
    }
)
MAX_LINES = 6


def parse_amount(value: object) -> Decimal | None:
    """The amount typed, or ``None`` when it is blank or not a number (the service says why)."""
    text = str(value or "").strip().replace(",", "").replace("，", "")
    if not text:
        return None
    try:
        amount = to_decimal(text)
    except (InvalidOperation, TypeError, ValueError):
        return None
    return amount if amount.is_finite() else None


@dataclass
class LineInput:
    """One payment line as typed (kept as text so a wrong entry is shown back as it was)."""

    method: str = PaymentMethod.CASH
    amount: str = ""
    reference: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def is_blank(self) -> bool:
        return not self.amount.strip() and not self.reference.strip()


def lines_from_post(data: QueryDict) -> list[LineInput]:
    """Payment lines from the repeated ``method``/``amount``/``reference`` inputs; blank rows (an
    added line left empty) are dropped, at least one row is kept for the page."""
    methods = data.getlist("method")
    amounts = data.getlist("amount")
    references = data.getlist("reference")
    rows = []
    for index, method in enumerate(methods[:MAX_LINES]):
        row = LineInput(
            method=method,
            amount=(amounts[index] if index < len(amounts) else "").strip(),
            reference=(references[index] if index < len(references) else "").strip(),
        )
        if not row.is_blank:
            rows.append(row)
    return rows or [LineInput()]


def service_lines(rows: Sequence[LineInput]) -> list[tuple[str, str, str]]:
    """What ``payment_record`` takes: amounts go as typed text, so its message quotes the input."""
    return [
        (row.method, row.amount.replace(",", "").replace("，", ""), row.reference)
        for row in rows
        if not row.is_blank
    ]


def chosen_ids(data: QueryDict) -> list[int]:
    ids = []
    for value in data.getlist("bill"):
        try:
            ids.append(int(value))
        except (TypeError, ValueError):
            continue
    return ids


class PaymentForm(forms.Form):
    """The fields of the window besides bills and payment lines."""

    business_date = forms.DateField(
        label="收款日期",
        required=False,
        widget=IsoDateInput(),
        help_text="默认今天；银行转账晚到账时可填到账日期",
    )
    tendered = forms.DecimalField(
        label="实收现金",
        required=False,
        min_value=Decimal("0.01"),
        max_digits=12,
        decimal_places=2,
        help_text="住户递来的现金，用于算找零（选填）",
        error_messages={
            "invalid": "请输入金额，如 500 或 500.00",
            "min_value": "实收现金须大于 0",
            "max_decimal_places": "最多两位小数（到分）",
        },
    )
    note = forms.CharField(label="备注", required=False, max_length=200)
    # 补录以前日期的收款 (a date before today): a reason and a supervisor's approval (issue 13 item 12).
    backdate_reason = forms.CharField(
        label="补录原因",
        required=False,
        max_length=200,
        help_text="收款日期早于今天时必填，并须主管授权",
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
    idempotency_key = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    confirm_surplus = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_business_date(self):
        return self.cleaned_data.get("business_date") or timezone.localdate()


@dataclass
class Quote:
    """What the window shows before paying: the chosen bills' principal and late fee, what the
    cashier entered, and whether it is a partial payment or leaves money for prepaid balance."""

    count: int
    principal: Decimal
    late_fee: Decimal
    entered: Decimal
    prepaid_used: Decimal
    cash: Decimal
    tendered: Decimal | None
    invalid_amount: bool = False
    # 预交: what the months ahead cost after the rule's discount, and what they are (periods, rule).
    ahead: Decimal = ZERO
    ahead_billed: Decimal = ZERO
    ahead_text: str = ""
    ahead_error: str = ""

    @property
    def due(self) -> Decimal:
        return self.principal + self.late_fee + self.ahead

    @property
    def ahead_discount(self) -> Decimal:
        return self.ahead_billed - self.ahead

    @property
    def shortfall(self) -> Decimal:
        return max(self.due - self.entered, ZERO)

    @property
    def surplus(self) -> Decimal:
        """What goes to prepaid balance (预存款) after the chosen bills and their late fees."""
        return max(self.entered - self.due, ZERO)

    @property
    def change(self) -> Decimal | None:
        """找零: cash handed over less the cash line(s)."""
        if self.tendered is None or not self.cash:
            return None
        return money(self.tendered - self.cash)


def quote(
    bills: Sequence[Bill],
    chosen: Sequence[int],
    rows: Sequence[LineInput],
    tendered,
    ahead: AheadQuote | None = None,
) -> Quote:
    """The figures of ``Quote`` from ``selectors.unpaid_bills`` rows (with ``late_fee``), and the
    months paid ahead when ``ahead`` is given."""
    wanted = set(chosen)
    picked = [b for b in bills if b.pk in wanted]
    entered = prepaid = cash = ZERO
    invalid = False
    for row in rows:
        amount = parse_amount(row.amount)
        if amount is None:
            invalid = invalid or bool(row.amount.strip())
            continue
        entered += amount
        if row.method == PaymentMethod.PREPAID:
            prepaid += amount
        elif row.method == PaymentMethod.CASH:
            cash += amount
    return Quote(
        count=len(picked),
        principal=sum((b.outstanding for b in picked), ZERO),
        late_fee=sum((b.late_fee.due for b in picked), ZERO),
        entered=money(entered),
        prepaid_used=money(prepaid),
        cash=money(cash),
        tendered=parse_amount(tendered) if tendered not in (None, "") else None,
        invalid_amount=invalid,
        **(ahead.figures() if ahead is not None else {}),
    )


@dataclass
class AheadQuote:
    """预交 as the window shows it: the choice, and what ``pay_ahead_quote`` made of it (or why not)."""

    choice: AheadChoice | None
    result: PayAheadResult | None = None
    error: str = ""

    def figures(self) -> dict:
        if self.result is None or self.choice is None:
            return {"ahead_error": self.error}
        bills = self.result.bills
        text = f"{self.choice.label}：{bills[0].period_start:%Y-%m} 至 {bills[-1].period_end:%Y-%m}"
        return {
            "ahead": money(self.result.amount_due),
            "ahead_billed": money(self.result.billed),
            "ahead_text": text,
        }


def ahead_quote(account, value: str, on) -> AheadQuote | None:
    """The window's 预交 choice ``value`` priced today by billing's own service (rolled back);
    None when nothing is chosen. A choice that no longer applies is refused by name."""
    if account is None or not (value or "").strip():
        return None
    try:
        choice = window_ahead_choice(account, value, on)
    except ValidationFailed as exc:
        return AheadQuote(choice=None, error=exc.message)
    try:
        result = pay_ahead_quote(
            account=account, fee_item=choice.fee_item, months=choice.months, on_date=on
        )
    except ValidationFailed as exc:
        return AheadQuote(choice=choice, error=exc.message)
    return AheadQuote(choice=choice, result=result)


class InvoiceRequestForm(forms.Form):
    """开票申请 on the payment page; the service checks the values and names the field at fault."""

    kind = forms.ChoiceField(label="发票类型", choices=InvoiceKind.choices, initial="normal")
    title = forms.CharField(label="发票抬头", max_length=100, required=False)
    tax_number = forms.CharField(
        label="纳税人识别号", max_length=30, required=False, help_text="单位填写；专用发票必填"
    )
    email = forms.CharField(label="接收邮箱", max_length=254, required=False)
    phone = forms.CharField(label="接收手机", max_length=20, required=False)


class InvoiceIssueForm(forms.Form):
    invoice_no = forms.CharField(label="发票号码", max_length=30, required=False)
