"""Credit test data: bills dated relative to a day, payments through the ledger services."""

from __future__ import annotations

import datetime
from decimal import Decimal

from tests.ledger.factories import bill, pay  # noqa: F401
from wuye.credit.models import CreditFile
from wuye.credit.services import credit_recompute

DAY = datetime.timedelta(days=1)


def month_start(day: datetime.date, back: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 - back
    return datetime.date(index // 12, index % 12 + 1, 1)


def monthly(account, item, today: datetime.date, months: int, amount: str = "100.00"):
    """``months`` monthly bills ending with last month's, each due on the 15th of its month."""
    bills = []
    for back in range(months, 0, -1):
        start = month_start(today, back)
        bills.append(bill(account, item, amount, start, start + 14 * DAY))
    return bills


def recompute(project, today, **kwargs) -> None:
    credit_recompute(project=project, on=today, **kwargs)


def file_of(account) -> CreditFile:
    return CreditFile.objects.select_related("segment").get(account=account)


def D(text: str) -> Decimal:  # noqa: N802
    return Decimal(text)
