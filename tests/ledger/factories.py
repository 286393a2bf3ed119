"""Ledger test data: accounts through the registry and billing services, bills written directly (the
billing engine has its own tests), and a few shortcuts for payments."""

from __future__ import annotations

import datetime
import itertools
from decimal import Decimal

from tests.factories import household
from wuye.billing import accounts, fee_settings
from wuye.billing import services as billing
from wuye.billing.calc import month_end
from wuye.billing.models import Account, Bill
from wuye.ledger.models import Payment
from wuye.ledger.services.payments import payment_record

D = datetime.date
_codes = itertools.count(101)


def account(project, code: str | None = None, owner: str = "张三") -> Account:
    code = code or f"1-1-{next(_codes)}"
    room, _ = household(project, code=code, owner=owner, phones=())
    return accounts.account_for(room, D(2024, 1, 1))


def fee_item(project, code: str = "WYF", name: str = "物业服务费", late_fee_applies: bool = True):
    return fee_settings.fee_item_create(
        user=None,
        project=project,
        code=code,
        name=name,
        method="fixed",
        late_fee_applies=late_fee_applies,
    )


def bill(
    account: Account,
    item,
    amount: str | Decimal,
    period_start: datetime.date,
    due_date: datetime.date | None = None,
) -> Bill:
    return Bill.objects.create(
        project_id=account.project_id,
        account=account,
        room_id=account.room_id,
        fee_item=item,
        period_start=period_start,
        period_end=month_end(period_start),
        amount=Decimal(amount),
        due_date=due_date or period_start + datetime.timedelta(days=14),
    )


def monthly_bills(account: Account, item, first: datetime.date, months: int, amount="100.00"):
    bills = []
    for n in range(months):
        year, month = divmod(first.month - 1 + n, 12)
        bills.append(bill(account, item, amount, D(first.year + year, month + 1, 1)))
    return bills


def pay(user, account: Account, amount, method: str = "cash", **kwargs) -> Payment:
    return payment_record(
        user=user, account=account, lines=[(method, Decimal(str(amount)), "")], **kwargs
    )


def late_fee_rule(project, daily_rate: str = "0.003", grace_days: int = 0):
    """A contract rate of 0.3% a day (far above the cap) and an LPR of 3.65%, so the capped daily
    rate is exactly 1.5 × 3.65% / 365 = 0.00015."""
    billing.lpr_rate_set(
        user=None, company=project.company, effective_from=D(2020, 1, 1), annual_rate="0.0365"
    )
    return billing.late_fee_rule_set(
        user=None,
        project=project,
        enabled=True,
        daily_rate=daily_rate,
        start_date=D(2020, 1, 1),
        grace_days=grace_days,
    )


def yearly_offer(item, approved_by, unit_price: str | None = "100.00"):
    """预交一年九五折 on ``item`` (in force since 2020), approved by ``approved_by``; with
    ``unit_price`` also the item's fee standard (what the months ahead are billed at)."""
    from wuye.billing import pay_ahead

    if unit_price is not None:
        fee_settings.fee_standard_add(
            user=None, fee_item=item, unit_price=unit_price, valid_from=D(2020, 1, 1)
        )
    return pay_ahead.pay_ahead_rule_add(
        user=None,
        fee_item=item,
        name="预交一年九五折",
        min_months=12,
        valid_from=D(2020, 1, 1),
        approved_by=approved_by,
        discount_rate="0.05",
    )
