"""收银台 (docs/user/收银台.md): a household's unpaid bills with their late fees, and its position
(billed, reduced, paid, overdue, prepaid) on any date.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Min, Q

from wuye.billing.models import Account, Bill
from wuye.core.money import money
from wuye.ledger.selectors.late_fees import NO_LATE_FEE_DUE, late_fees_for
from wuye.ledger.selectors.outstanding import bill_outstanding, sum_money, today
from wuye.ledger.selectors.prepaid import prepaid_balance
from wuye.registry.models import Room
from wuye.registry.selectors import room_payer

# --- the fee window --------------------------------------------------------------------------------


def unpaid_bills(account: Account, as_of: datetime.date | None = None) -> list[Bill]:
    """The account's bills that still ask for money on ``as_of`` (default today), oldest due first.

    Each bill carries ``adjusted``, ``allocated``, ``outstanding`` and ``late_fee`` (a ``LateFeeDue``;
    ``late_fee.due`` is the capped figure less waivers and late-fee bills already issued). Late-fee
    bills (``kind="late_fee"``) that are still unpaid are listed too. Three queries without a late-fee
    rule, eight with one (counting the account's project), whatever the number of bills.
    """
    on = as_of or today()
    bills = list(
        bill_outstanding(Bill.objects.filter(account=account), on)
        .filter(outstanding__gt=0)
        .select_related("fee_item")
        .order_by("due_date", "period_start", "id")
    )
    fees = late_fees_for(account.project, bills, on) if bills else {}
    for bill in bills:
        bill.adjusted, bill.allocated = money(bill.adjusted), money(bill.allocated)
        bill.outstanding = money(bill.outstanding)
        bill.late_fee = fees.get(bill.pk, NO_LATE_FEE_DUE)
    return bills


@dataclass(frozen=True)
class AccountPosition:
    """What a payer account owed on ``as_of``: the answer to "what did this household owe, and what was
    overdue, on date X" for any past date."""

    account_id: int
    as_of: datetime.date
    billed: Decimal  # Σ bills that existed on as_of
    reduced: (
        Decimal  # Σ their adjustments dated ≤ as_of (reversals, discounts, waivers, compensations)
    )
    paid: Decimal  # Σ allocations dated ≤ as_of, net of reversed payments
    outstanding: Decimal  # billed − reduced − paid
    overdue: Decimal  # Σ outstanding of bills due before as_of
    overdue_bills: int
    oldest_overdue_due_date: datetime.date | None
    prepaid_balance: Decimal  # Σ prepaid movements dated ≤ as_of

    @property
    def net(self) -> Decimal:
        """Outstanding less prepaid balance (negative: the household is in credit)."""
        return self.outstanding - self.prepaid_balance


def account_position(account: Account | int, as_of: datetime.date | None = None) -> AccountPosition:
    """Totals of one account on ``as_of`` (default today): two queries."""
    on = as_of or today()
    account_id = account.pk if isinstance(account, Account) else account
    overdue = Q(due_date__lt=on, outstanding__gt=0)
    totals = bill_outstanding(Bill.objects.filter(account_id=account_id), on).aggregate(
        billed=sum_money("amount"),
        reduced=sum_money("adjusted"),
        paid=sum_money("allocated"),
        overdue=sum_money("outstanding", filter=overdue),
        overdue_bills=Count("pk", filter=overdue),
        oldest=Min("due_date", filter=overdue),
    )
    billed, reduced, paid = (money(totals[k]) for k in ("billed", "reduced", "paid"))
    return AccountPosition(
        account_id=account_id,
        as_of=on,
        billed=billed,
        reduced=reduced,
        paid=paid,
        outstanding=billed - reduced - paid,
        overdue=money(totals["overdue"]),
        overdue_bills=totals["overdue_bills"],
        oldest_overdue_due_date=totals["oldest"],
        prepaid_balance=prepaid_balance(account_id, on),
    )


def account_of_room(room: Room, on: datetime.date | None = None) -> Account | None:
    """The account of whoever pays for ``room`` on ``on``; ``None`` when it has none yet (reading only:
    ``billing.services.account_for`` creates it)."""
    payer = room_payer(room, on)
    if payer is None:
        return None
    return Account.objects.filter(room=room, payer=payer).select_related("payer", "room").first()
