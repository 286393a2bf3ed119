"""A synthetic history with a known signal, for the scoring tests.

Three kinds of households (fixed per household, invisible to the model except through how they paid):
reliable payers who now and then pay a month late, late payers who settle everything every third month,
and chronic debtors who stopped paying after the third month — so their debts grow largest. Ordering
by amount owed puts the chronic debtors first; a model that reads the payment history should not.

Rooms and accounts go through the real registry and billing services; the months of bills, payments
and allocations are bulk-written with exactly the rows ``payment_record`` writes (principal oldest due
first), as the demo writes its older history — a payment at a time would make the tests slow.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from tests.factories import household
from tests.ledger.factories import fee_item
from wuye.billing import accounts
from wuye.billing.calc import add_months, month_end, month_start
from wuye.billing.models import Account, Bill
from wuye.ledger.models import Allocation, Payment, ReceiptSequence
from wuye.registry import services as registry

DAY = datetime.timedelta(days=1)
RELIABLE, LATE, CHRONIC = "reliable", "late", "chronic"


@dataclass
class Household:
    account: Account
    kind: str
    monthly: Decimal


def build_history(
    project, *, cashier, steward=None, months: int = 18, per_kind: int = 40, seed: int = 7
) -> list[Household]:
    """``per_kind`` households of each kind with ``months`` monthly bills up to this month (due on
    the 15th) and their payments up to today."""
    rng = random.Random(seed)
    today = timezone.localdate()
    first = add_months(month_start(today), -(months - 1))
    item = fee_item(project)
    households: list[Household] = []
    index = 0
    for kind in (RELIABLE, LATE, CHRONIC):
        for _ in range(per_kind):
            index += 1
            room, _person = household(
                project, code=f"{index % 4 + 1}-1-{100 + index}", owner="业主", phones=()
            )
            if steward is not None and room.building.steward_id != steward.pk:
                registry.building_assign_steward(user=None, building=room.building, steward=steward)
            account = accounts.account_for(room, first)
            monthly = Decimal(rng.choice([150, 200, 250, 300, 400, 600]))
            households.append(Household(account, kind, monthly))

    bills: list[Bill] = []
    for h in households:
        for m in range(months):
            start = add_months(first, m)
            bills.append(
                Bill(
                    project=project,
                    account=h.account,
                    room_id=h.account.room_id,
                    fee_item=item,
                    period_start=start,
                    period_end=month_end(start),
                    amount=h.monthly,
                    due_date=start + 14 * DAY,
                )
            )
    Bill.objects.bulk_create(bills)
    by_account: dict[int, list[Bill]] = {}
    for b in bills:
        by_account.setdefault(b.account_id, []).append(b)

    receipt = 0
    tz = timezone.get_current_timezone()
    for h in households:
        open_bills = [[b, b.amount] for b in by_account[h.account.pk]]
        phase = rng.randrange(3)
        for m in range(months):
            start = add_months(first, m)
            due = start + 14 * DAY
            if h.kind == RELIABLE:
                # On time, or (one month in three) 20–45 days late.
                day = (
                    due - rng.randint(0, 10) * DAY
                    if rng.random() > 0.35
                    else due + rng.randint(20, 45) * DAY
                )
            elif h.kind == LATE:
                if (m + phase) % 3:
                    continue
                day = due + rng.randint(30, 60) * DAY
            else:
                if m >= 3:
                    break
                day = due + rng.randint(0, 20) * DAY
            if day > today:
                continue
            owed = [
                entry
                for entry in open_bills
                if entry[0].due_date <= day + 20 * DAY and entry[1] > 0
            ]
            amount = sum((entry[1] for entry in owed), Decimal(0))
            if amount <= 0:
                continue
            receipt += 1
            payment = Payment.objects.create(
                project=project,
                account=h.account,
                receipt_no=receipt,
                amount=amount,
                business_date=day,
                received_at=datetime.datetime.combine(day, datetime.time(10), tzinfo=tz),
                cashier=cashier,
            )
            Allocation.objects.bulk_create(
                [
                    Allocation(bill=entry[0], amount=entry[1], effective_date=day, payment=payment)
                    for entry in owed
                ]
            )
            for entry in owed:
                entry[1] = Decimal(0)
    ReceiptSequence.objects.update_or_create(project=project, defaults={"last_no": receipt})
    return households
