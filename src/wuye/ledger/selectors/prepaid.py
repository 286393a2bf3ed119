"""预存款: a household's prepaid balance on a date, what may be drawn on a day, its latest movements."""

from __future__ import annotations

import datetime
from decimal import Decimal

from wuye.billing.models import Account
from wuye.core.money import ZERO, money
from wuye.ledger.models import PrepaidMovement
from wuye.ledger.selectors.outstanding import sum_money


def prepaid_balance(account: Account | int, as_of: datetime.date | None = None) -> Decimal:
    """Σ the account's prepaid movements dated on or before ``as_of`` (default: all of them)."""
    rows = PrepaidMovement.objects.filter(account=account)
    if as_of is not None:
        rows = rows.filter(effective_date__lte=as_of)
    return money(rows.aggregate(total=sum_money("amount"))["total"])


def prepaid_available(account: Account | int, on: datetime.date) -> Decimal:
    """How much prepaid balance may be taken out on ``on`` without the balance going negative on any
    day from ``on`` onwards (a back-dated draw must not overdraw a later day): the lowest running
    balance from ``on`` on. One query."""
    movements = sorted(
        PrepaidMovement.objects.filter(account=account).values_list("effective_date", "amount")
    )
    balance = sum((amount for day, amount in movements if day <= on), ZERO)
    lowest = balance
    for day, amount in movements:
        if day > on:
            balance += amount
            lowest = min(lowest, balance)
    return money(max(lowest, ZERO))


def prepaid_movements(account: Account | int, limit: int = 50) -> list[PrepaidMovement]:
    """The account's latest prepaid movements, newest first (one query)."""
    return list(
        PrepaidMovement.objects.filter(account=account)
        .select_related("payment")
        .order_by("-effective_date", "-id")[:limit]
    )
