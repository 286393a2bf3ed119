"""预存款抵扣: bills paid out of a household's prepaid balance — on request (``prepaid_consume``) and
for the new bills of a committed billing run (``prepaid_consume_for_run``, set-based). Deposits come
from ``payments`` (the part of a payment left over), refunds from ``reversals``.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from wuye.billing.enums import RunStatus
from wuye.billing.models import Account, Bill, BillingRun
from wuye.billing.selectors import billing_settings
from wuye.core.audit import audit_record
from wuye.core.errors import ValidationFailed
from wuye.core.models import AuditEntry, User
from wuye.core.money import ZERO, money
from wuye.ledger.enums import PrepaidKind
from wuye.ledger.locking import lock_accounts, lock_bills
from wuye.ledger.models import Allocation, PrepaidMovement
from wuye.ledger.selectors.outstanding import bill_outstanding, visible_on
from wuye.ledger.selectors.prepaid import prepaid_available
from wuye.ledger.services.checks import open_bill_ids, open_bills

CONSUME_CHUNK = 500  # accounts per transaction when a billing run consumes prepaid balances


# --- prepaid balance -------------------------------------------------------------------------------


def _plan_consumption(
    bills: Iterable[tuple[int, Decimal]], available: Decimal
) -> list[tuple[int, Decimal]]:
    plan = []
    for bill_id, outstanding in bills:
        if available <= 0:
            break
        if outstanding <= 0:
            continue
        share = min(available, outstanding)
        plan.append((bill_id, share))
        available -= share
    return plan


def prepaid_consume(
    *,
    account: Account,
    business_date: datetime.date,
    bills: Sequence[Bill] | None = None,
    user: User | None = None,
) -> list[Allocation]:
    """Pays ``bills`` (default: every unpaid bill, oldest due first) out of the account's prepaid
    balance, as far as it goes: one prepaid movement (抵扣) and one allocation per bill. Returns the
    allocations (empty when there is no balance or nothing to pay). Late fees are not issued here."""
    day = business_date
    with transaction.atomic():
        lock_accounts([account.pk])
        available = prepaid_available(account, day)
        if available <= 0:
            return []
        if bills is None:
            ids = open_bill_ids(account, day)
        else:
            ids = [b.pk for b in bills]
            other = [b for b in bills if b.account_id != account.pk]
            if other:
                raise ValidationFailed(
                    f"账单 {other[0].pk} 不属于该缴费账户（{account}）", field="bills"
                )
        lock_bills(ids)
        unpaid = [b for b in open_bills(account, ids) if b.outstanding > 0] if ids else []
        plan = _plan_consumption(((b.pk, b.outstanding) for b in unpaid), available)
        if not plan:
            return []
        total = sum((share for _, share in plan), ZERO)
        movement = PrepaidMovement.objects.create(
            account=account, kind=PrepaidKind.CONSUME, amount=-total, effective_date=day
        )
        allocations = Allocation.objects.bulk_create(
            [
                Allocation(bill_id=bill_id, amount=share, effective_date=day, prepaid=movement)
                for bill_id, share in plan
            ]
        )
        audit_record(
            user=user,
            action="预存款抵扣",
            obj=account,
            project=account.project_id,
            changes={"amount": total, "business_date": day, "allocations": plan},
        )
    return allocations


def prepaid_consume_for_run(run_id: int, *, business_date: datetime.date | None = None) -> int:
    """After a billing run commits: the run's new bills consume their accounts' prepaid balances
    (when the project's ``auto_consume_prepaid`` is on — the default). Only the run's bills are paid
    this way (old arrears stay for the window, where the payer chooses), oldest due first.

    Set-based: one query finds the accounts of the run with a positive balance; they are then done
    500 per transaction with a fixed number of queries and bulk inserts each. Idempotent: a rerun
    finds the bills already paid. Returns the number of allocations made.
    """
    run = BillingRun.objects.filter(pk=run_id).first()
    if run is None or run.status != RunStatus.COMMITTED:
        return 0
    if not billing_settings(run.project_id).auto_consume_prepaid:
        return 0
    day = business_date or timezone.localdate()
    account_ids = list(
        PrepaidMovement.objects.filter(
            account_id__in=Bill.objects.filter(run_id=run_id).values("account_id")
        )
        .order_by()
        .values("account_id")
        .annotate(balance=Sum("amount"))
        .filter(balance__gt=0)
        .order_by("account_id")
        .values_list("account_id", flat=True)
    )
    made = 0
    for start in range(0, len(account_ids), CONSUME_CHUNK):
        made += _consume_chunk(run, account_ids[start : start + CONSUME_CHUNK], day)
    return made


def _consume_chunk(run: BillingRun, account_ids: list[int], day: datetime.date) -> int:
    with transaction.atomic():
        lock_accounts(account_ids)
        lock_bills(
            Bill.objects.filter(run_id=run.pk, account_id__in=account_ids).values_list(
                "pk", flat=True
            )
        )
        movements: dict[int, list[tuple[datetime.date, Decimal]]] = {}
        for account_id, effective, amount in PrepaidMovement.objects.filter(
            account_id__in=account_ids
        ).values_list("account_id", "effective_date", "amount"):
            movements.setdefault(account_id, []).append((effective, amount))
        bills: dict[int, list[tuple[int, Decimal]]] = {}
        for bill_id, account_id, outstanding in (
            bill_outstanding(
                Bill.objects.filter(run_id=run.pk, account_id__in=account_ids).filter(
                    visible_on(day)
                )
            )
            .filter(outstanding__gt=0)
            .order_by("account_id", "due_date", "period_start", "id")
            .values_list("id", "account_id", "outstanding")
        ):
            bills.setdefault(account_id, []).append((bill_id, money(outstanding)))
        plans: list[tuple[PrepaidMovement, list[tuple[int, Decimal]]]] = []
        for account_id in account_ids:
            available = _available(movements.get(account_id, []), day)
            plan = _plan_consumption(bills.get(account_id, []), available)
            if plan:
                total = sum((share for _, share in plan), ZERO)
                movement = PrepaidMovement(
                    account_id=account_id,
                    kind=PrepaidKind.CONSUME,
                    amount=-total,
                    effective_date=day,
                )
                plans.append((movement, plan))
        if not plans:
            return 0
        PrepaidMovement.objects.bulk_create([movement for movement, _ in plans])
        allocations = [
            Allocation(bill_id=bill_id, amount=share, effective_date=day, prepaid=movement)
            for movement, plan in plans
            for bill_id, share in plan
        ]
        Allocation.objects.bulk_create(allocations, batch_size=1000)
        AuditEntry.objects.create(
            project_id=run.project_id,
            action="预存款自动抵扣",
            model="billing.BillingRun",
            object_id=str(run.pk),
            object_repr=str(run)[:200],
            changes={
                "accounts": len(plans),
                "bills": len(allocations),
                "amount": str(sum((-m.amount for m, _ in plans), ZERO)),
                "business_date": day.isoformat(),
            },
        )
    return len(allocations)


def _available(movements: list[tuple[datetime.date, Decimal]], on: datetime.date) -> Decimal:
    """``prepaid_available`` over movements already read."""
    movements = sorted(movements)
    balance = sum((amount for day, amount in movements if day <= on), ZERO)
    lowest = balance
    for day, amount in movements:
        if day > on:
            balance += amount
            lowest = min(lowest, balance)
    return max(lowest, ZERO)
