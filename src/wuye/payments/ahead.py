"""预交 online: an owner pays N months ahead on top of every open bill, under the project's
pay-ahead rule, exactly as the window bills it (``billing.pay_ahead``).

At order time the amount is *quoted* by running ``billing.pay_ahead.pay_ahead`` in a savepoint that
is rolled back (``pay_ahead_quote``): the same planner, the same rule, the same discount and
rounding, nothing kept. When the platform says the owner paid, ``ahead_bill`` runs the very same
service for real, inside the order's settlement (one transaction, under the order's row lock), and
the payment pays the open bills and the bills made ahead through ``payment_record``. If the figure
changed in between (a new month began, a rule expired, a standard changed), nothing is billed
ahead: the money goes to the prepaid balance (预存款) and finance are told — the owner never pays
for months at a price that was not shown.

**One fee item (the window's 付款码).** The fee window's 预交 is one fee item × months, chosen from
``billing.pay_ahead.window_ahead_choices``. An order may carry that fee item
(``PaymentOrder.pay_ahead_fee_item``): then quoting and billing take exactly that item, and only a
choice the window offers (``window_ahead_choice``: billed to the household, payable ahead, whole
periods, within the project's cap) — the same rule and the same ``pay_ahead`` as the window's cash
path (``ledger.services.payments.payment_with_ahead``), so the two figures cannot differ.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction

from wuye.billing.enums import BillKind
from wuye.billing.models import Account, Bill, FeeItem
from wuye.billing.pay_ahead import (
    pay_ahead,
    pay_ahead_items,
    pay_ahead_quote,
    window_ahead_choice,
)
from wuye.billing.selectors import billing_settings
from wuye.core.errors import ValidationFailed
from wuye.core.models import User
from wuye.core.money import ZERO, money

FIELD = "pay_ahead_months"


@dataclass
class AheadQuote:
    months: int
    amount: Decimal = ZERO  # what the owner pays for the months ahead (after the discount)
    billed: Decimal = ZERO
    discount: Decimal = ZERO
    items: list[str] = field(default_factory=list)  # e.g. "物业服务费 2027-01 至 2027-12，优惠 …"


def ahead_items(account: Account, on: datetime.date) -> list[FeeItem]:
    """The fee items this household may prepay online: those with a pay-ahead rule in force that
    the household is billed for."""
    items = pay_ahead_items(account.project_id, on)
    billed = set(
        Bill.objects.filter(account=account, kind=BillKind.CHARGE, fee_item__in=items).values_list(
            "fee_item_id", flat=True
        )
    )
    return [item for item in items if item.pk in billed]


def ahead_check(
    account: Account, months: int, on: datetime.date, fee_item: FeeItem | None = None
) -> list[FeeItem]:
    """The fee items to prepay; refuses (naming ``pay_ahead_months``) a project without a pay-ahead
    rule and months beyond the project's prepayment cap. With ``fee_item`` (the window's choice):
    that item only, and only as the window offers it (``window_ahead_choice``)."""
    if not isinstance(months, int) or months < 1:
        raise ValidationFailed("预交月数至少为 1", field=FIELD)
    cap = billing_settings(account.project_id).max_prepay_months
    if months > cap:
        raise ValidationFailed(
            f"预交月数 {months} 超过本项目预收上限 {cap} 个月（本项目规定；地方物业管理规定可限制"
            "预收物业费的月数），请选择不超过上限的月数",
            code="payments.ahead_cap",
            field=FIELD,
        )
    if fee_item is not None:
        try:
            window_ahead_choice(account, f"{fee_item.pk}:{months}", on)
        except ValidationFailed as exc:
            raise ValidationFailed(
                f"{fee_item.name}预交 {months} 个月不是收银台可选的预交选项，请在“预交以后月份”中重新选择",
                code="payments.ahead_not_offered",
                field=FIELD,
            ) from exc
        return [fee_item]
    items = ahead_items(account, on)
    if not items:
        raise ValidationFailed(
            "本项目未设置适用于本户的预交优惠规则，暂不能线上预交，请到物业服务中心办理",
            code="payments.ahead_no_rule",
            field=FIELD,
        )
    return items


def _refield(exc: ValidationFailed) -> ValidationFailed:
    return ValidationFailed(exc.message, code=exc.code, field=FIELD)


def ahead_quote(
    *, account: Account, months: int, on: datetime.date, fee_item: FeeItem | None = None
) -> AheadQuote:
    """What paying ``months`` ahead costs today, through the window's own service (rolled back);
    every eligible fee item, or only ``fee_item`` (the window's choice)."""
    quote = AheadQuote(months=months)
    for item in ahead_check(account, months, on, fee_item):
        try:
            result = pay_ahead_quote(account=account, fee_item=item, months=months, on_date=on)
        except ValidationFailed as exc:
            raise _refield(exc) from exc
        quote.billed += result.billed
        quote.discount += result.discount
        quote.amount += result.amount_due
        first, last = result.bills[0].period_start, result.bills[-1].period_end
        text = f"{item.name} {first:%Y-%m} 至 {last:%Y-%m}"
        if result.rule is not None:
            text += f"（{result.rule.name}）"
        quote.items.append(text)
    quote.amount = money(quote.amount)
    return quote


def ahead_bill(
    *,
    user: User,
    account: Account,
    months: int,
    on: datetime.date,
    expected: Decimal,
    fee_item: FeeItem | None = None,
) -> list[Bill] | None:
    """Bills the months ahead for real (the window's ``pay_ahead``), inside the caller's
    transaction; ``None`` — and nothing billed — when that is refused or its amount is no longer
    ``expected`` (the order's quote)."""
    try:
        with transaction.atomic():
            bills: list[Bill] = []
            total = ZERO
            for item in ahead_check(account, months, on, fee_item):
                result = pay_ahead(
                    user=user, account=account, fee_item=item, months=months, on_date=on
                )
                bills.extend(result.bills)
                total += result.amount_due
            if money(total) != money(expected):
                raise _Changed
    except (ValidationFailed, _Changed):
        return None
    return bills


class _Changed(Exception):
    pass
