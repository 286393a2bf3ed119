"""Row locks for the ledger, always taken in one order so two writers never deadlock.

The order every ledger write follows, inside its transaction:

1. the payer accounts involved (``lock_accounts``), in primary-key order;
2. the bills it will allocate to (``lock_bills``), in primary-key order;
3. the payment it reverses or prints (``lock_payment``), if any;
4. the project's receipt sequence (``lock_receipt_sequence``) — last, because every payment, reversal,
   refund and closing of the project passes through it (it also serializes a cashier's closing with
   that cashier's payments).

On PostgreSQL these are ``SELECT … FOR UPDATE`` row locks. SQLite ignores ``FOR UPDATE``; there the
settings open every transaction with ``BEGIN IMMEDIATE``, so writers queue on the database lock instead.
After a lock is granted, re-read what the decision depends on (outstanding amounts, balances): under
READ COMMITTED each new statement sees what the transaction we waited for committed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from django.db import transaction
from django.db.models import Model

from wuye.billing.models import Account, Bill
from wuye.ledger.models import Payment, ReceiptSequence

M = TypeVar("M", bound=Model)


def lock_rows(model: type[M], pks: Iterable[int]) -> list[M]:
    """Locks the rows of ``model`` with these primary keys, in ascending primary-key order, and returns
    them in that order. Must run inside ``transaction.atomic``."""
    ids = sorted(set(pks))
    if not ids:
        return []
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("row locks need a transaction (transaction.atomic)")
    return list(model.objects.select_for_update().filter(pk__in=ids).order_by("pk"))


def lock_ids(model: type[Model], pks: Iterable[int]) -> list[int]:
    """Like ``lock_rows`` but reads back only the primary keys (cheap for a thousand bills)."""
    ids = sorted(set(pks))
    if not ids:
        return []
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("row locks need a transaction (transaction.atomic)")
    return list(
        model.objects.select_for_update()
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def lock_accounts(pks: Iterable[int]) -> list[int]:
    return lock_ids(Account, pks)


def lock_bills(pks: Iterable[int]) -> list[int]:
    return lock_ids(Bill, pks)


def lock_payment(pk: int) -> Payment:
    rows = lock_rows(Payment, [pk])
    if not rows:
        raise Payment.DoesNotExist(pk)
    return rows[0]


def lock_receipt_sequence(project_id: int) -> ReceiptSequence:
    """The project's receipt sequence row, created on first use, locked until the transaction ends."""
    ReceiptSequence.objects.get_or_create(project_id=project_id)
    return ReceiptSequence.objects.select_for_update().get(project_id=project_id)
