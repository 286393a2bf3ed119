"""Checks shared by the ledger's writes: who may take money, amounts, dates, methods, reasons, the
closed day (日结), and the bills a payment may go to (read after their locks).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils import timezone

from wuye.billing.models import Account, Bill
from wuye.core.errors import ValidationFailed
from wuye.core.models import User
from wuye.core.money import money, to_decimal
from wuye.ledger.enums import PaymentMethod
from wuye.ledger.selectors.closing import day_is_closed
from wuye.ledger.selectors.outstanding import bill_outstanding, visible_on

METHOD_LABELS = dict(PaymentMethod.choices)
MAX_AMOUNT = Decimal("1000000000")  # one payment line; far above any household's fees


# --- helpers -------------------------------------------------------------------------------------


def clean_amount(value: object, *, field: str, label: str) -> Decimal:
    try:
        amount = to_decimal(value)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValidationFailed(f"{label}“{value}”不是有效的金额", field=field) from exc
    if not amount.is_finite():
        raise ValidationFailed(f"{label}“{value}”不是有效的金额", field=field)
    if amount <= 0:
        raise ValidationFailed(f"{label}须大于 0（填写的是 {amount}）", field=field)
    if amount != money(amount):
        raise ValidationFailed(f"{label}最多两位小数（到分）：{amount}", field=field)
    if amount >= MAX_AMOUNT:
        raise ValidationFailed(f"{label} {amount} 超出范围，请核对", field=field)
    return money(amount)


def clean_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("请填写原因", field="reason")
    if len(reason) > 200:
        raise ValidationFailed("原因最多 200 字", field="reason")
    return reason


def clean_business_date(value: datetime.date | None, label: str = "收款日期") -> datetime.date:
    today = timezone.localdate()
    if value is None:
        return today
    if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
        raise ValidationFailed(f"{label}须为日期", field="business_date")
    if value > today:
        raise ValidationFailed(
            f"{label} {value:%Y-%m-%d} 晚于今天，不能预先入账", field="business_date"
        )
    return value


def day_open_check(project_id: int, cashier: User, day: datetime.date) -> None:
    """Refuses an entry dated on a day the cashier has already closed (call after the sequence lock)."""
    if day_is_closed(project_id, cashier.pk, day):
        raise closed_day_refusal(cashier, day)


def closed_day_refusal(cashier: User, day: datetime.date) -> ValidationFailed:
    # A closed day stays closed (no reopening: the closing sheet went to finance). Today closed:
    # a colleague whose day is open takes the money, or it is taken tomorrow.
    way = (
        "请由今天尚未日结的同事（其他收费员、客服主管或项目经理）办理，或明天再办理"
        if day >= timezone.localdate()
        else "请以今天的日期办理"
    )
    return ValidationFailed(
        f"{cashier} 的 {day:%Y-%m-%d} 已日结，不能再收款、冲红或退款；{way}",
        code="ledger.day_closed",
        field="business_date",
    )


def clean_method(value: object, *, field: str, allow_prepaid: bool = True) -> str:
    method = str(value or "").strip()
    if method not in METHOD_LABELS or (method == PaymentMethod.PREPAID and not allow_prepaid):
        allowed = "、".join(
            str(label)
            for key, label in PaymentMethod.choices
            if allow_prepaid or key != PaymentMethod.PREPAID
        )
        raise ValidationFailed(f"支付方式“{method}”无效，可选：{allowed}", field=field)
    return method


# The idempotency keys of money posted without a cashier: bank claims and auto-posting
# (``bank-<line>-<attempt>-<n>``), withholding returns (``withhold-<line>``), online payments
# (``<channel>-<transaction id>``). A key keyed in at the window or sent to the API may not start so:
# a repeated key returns the payment made under it, so a cashier who took a bank line's key first
# (line ids are easy to guess) would have the owner's transfer recorded as their own small payment.
SYSTEM_KEY_PREFIXES = ("bank-", "withhold-", "wechat-", "alipay-")


def cashier_key_check(key: str | None) -> None:
    if key and key.strip().lower().startswith(SYSTEM_KEY_PREFIXES):
        raise ValidationFailed(
            "重复提交校验码不能以 bank-、withhold-、wechat-、alipay- 开头（系统入账专用），"
            "请刷新页面后重新收款",
            field="idempotency_key",
        )


@dataclass(frozen=True)
class Line:
    method: str
    amount: Decimal
    reference: str


def clean_lines(lines: Sequence[Sequence[object]]) -> list[Line]:
    if not lines:
        raise ValidationFailed("请至少填写一种支付方式和金额", field="lines")
    cleaned = []
    for index, line in enumerate(lines):
        if not isinstance(line, list | tuple) or len(line) not in (2, 3):
            raise ValidationFailed(
                f"第 {index + 1} 笔支付须为（支付方式, 金额, 交易单号）", field=f"lines[{index}]"
            )
        method = clean_method(line[0], field=f"lines[{index}].method")
        amount = clean_amount(
            line[1], field=f"lines[{index}].amount", label=f"{METHOD_LABELS[method]}金额"
        )
        reference = str(line[2] if len(line) == 3 and line[2] is not None else "").strip()
        if len(reference) > 64:
            raise ValidationFailed("交易单号最多 64 个字符", field=f"lines[{index}].reference")
        cleaned.append(Line(method, amount, reference))
    return cleaned


def open_bills(account: Account, ids: Iterable[int]) -> list[Bill]:
    """These bills of the account with what they still ask for right now (every entry counts), in the
    order money goes to them: oldest due first. Call after ``lock_bills``."""
    bills = Bill.objects.filter(account=account, pk__in=list(ids))
    # prefetch, not select_related: one FeeItem instance per item, not one per bill.
    bills = list(
        bill_outstanding(bills)
        .prefetch_related("fee_item")
        .order_by("due_date", "period_start", "id")
    )
    for bill in bills:
        bill.outstanding = money(bill.outstanding)  # SQLite hands sums back as floats
    return bills


def open_bill_ids(account: Account, on: datetime.date) -> list[int]:
    """Ids of the account's unpaid bills that exist on ``on`` (read before the locks)."""
    return list(
        bill_outstanding(Bill.objects.filter(account=account).filter(visible_on(on)))
        .filter(outstanding__gt=0)
        .values_list("pk", flat=True)
    )


def chosen_bills(account: Account, bill_ids: Sequence[object]) -> list[int]:
    """Validates chosen bill ids: they exist, are this project's and this account's."""
    ids: list[int] = []
    for value in bill_ids:
        try:
            ids.append(int(value))
        except (TypeError, ValueError) as exc:
            raise ValidationFailed(f"账单编号“{value}”无效", field="bill_ids") from exc
    ids = list(dict.fromkeys(ids))
    if not ids:
        raise ValidationFailed("请选择要缴的账单", field="bill_ids")
    found = dict(Bill.objects.filter(pk__in=ids).values_list("pk", "project_id"))
    accounts = dict(Bill.objects.filter(pk__in=ids).values_list("pk", "account_id"))
    for bill_id in ids:
        if bill_id not in found:
            raise ValidationFailed(f"账单 {bill_id} 不存在", field="bill_ids")
        if found[bill_id] != account.project_id:
            raise ValidationFailed(
                "不能收取其他项目的账单", code="ledger.bill_other_project", field="bill_ids"
            )
        if accounts[bill_id] != account.pk:
            raise ValidationFailed(
                f"账单 {bill_id} 不属于该缴费账户（{account}）",
                code="ledger.bill_other_account",
                field="bill_ids",
            )
    return ids
