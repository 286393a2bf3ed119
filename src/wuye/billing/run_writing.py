"""Writing a billing run's bills: the accounts they need, the keys already billed, bulk inserts.

``insert_bills`` writes rows with one multi-row statement (PostgreSQL: arrays and ``unnest``); the keys
already billed (``existing_keys``) are skipped, so a rerun fills only the gaps.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from wuye.billing.enums import (
    AdjustmentKind,
    BillKind,
)
from wuye.billing.models import (
    Account,
    Bill,
    BillAdjustment,
)
from wuye.billing.run_planning import PlannedBill
from wuye.core.audit import audit_record
from wuye.core.models import User

# Rows per bulk_create statement (new accounts, reversal entries).
INSERT_BATCH = 1000


# --- accounts and existing bills -----------------------------------------------------------------


def account_index(project_id: int) -> dict[tuple[int, int], int]:
    """(room id, payer id) → account id for every account of a project."""
    return {
        (room_id, payer_id): account_id
        for account_id, room_id, payer_id in Account.objects.filter(project_id=project_id)
        .values_list("id", "room_id", "payer_id")
        .iterator(chunk_size=20_000)
    }


def accounts_ensure(
    project_id: int, pairs: Iterable[tuple[int, int]], *, user: User | None = None
) -> dict[tuple[int, int], int]:
    """Creates the missing accounts for (room, payer) pairs in bulk; returns the whole index."""
    index = account_index(project_id)
    missing = sorted(set(pairs) - index.keys())
    if not missing:
        return index
    with transaction.atomic():
        Account.objects.bulk_create(
            [Account(project_id=project_id, room_id=r, payer_id=p) for r, p in missing],
            batch_size=INSERT_BATCH,
            ignore_conflicts=True,
        )
        audit_record(
            user=user,
            action="缴费账户批量新增",
            project=project_id,
            model="billing.Account",
            changes={"count": len(missing)},
        )
    return account_index(project_id)


def existing_keys(
    project_id: int, month: datetime.date, item_ids: Sequence[int], revision: int
) -> set[tuple[int, int]]:
    """(account, fee item) of the month's charges that a new run must not bill again: every bill of
    this revision (the unique key), and live (not reversed) bills of any revision (a pay-ahead)."""
    reversal = BillAdjustment.objects.filter(bill=OuterRef("pk"), kind=AdjustmentKind.REVERSAL)
    rows = (
        Bill.objects.filter(
            project_id=project_id,
            kind=BillKind.CHARGE,
            period_start=month,
            fee_item_id__in=item_ids,
        )
        .annotate(reversed=Exists(reversal))
        .values_list("account_id", "fee_item_id", "revision", "reversed")
    )
    return {(a, i) for a, i, rev, was_reversed in rows if rev == revision or not was_reversed}


# --- writing bills -------------------------------------------------------------------------------


def bill_objects(
    planned: Iterable[PlannedBill],
    accounts: dict[tuple[int, int], int],
    *,
    project_id: int,
    revision: int,
    run_id: int | None,
    user_id: int | None,
) -> list[Bill]:
    """Planned bills as unsaved model instances (for small writes that need the new ids back)."""
    now = timezone.now()
    return [
        Bill(
            project_id=project_id,
            account_id=accounts[(p.room_id, p.payer_id)],
            room_id=p.room_id,
            fee_item_id=p.fee_item_id,
            kind=BillKind.CHARGE,
            period_start=p.period_start,
            period_end=p.period_end,
            quantity=p.quantity,
            unit_price=p.unit_price,
            amount=p.amount,
            due_date=p.due_date,
            description=p.description,
            run_id=run_id,
            revision=revision,
            created_by_id=user_id,
            created_at=now,
        )
        for p in planned
    ]


BILL_COLUMNS = (
    "project_id",
    "account_id",
    "room_id",
    "fee_item_id",
    "kind",
    "period_start",
    "period_end",
    "quantity",
    "unit_price",
    "amount",
    "due_date",
    "description",
    "run_id",
    "revision",
    "created_by_id",
    "created_at",
)


def bill_rows(
    planned: Iterable[PlannedBill],
    accounts: dict[tuple[int, int], int],
    *,
    project_id: int,
    revision: int,
    run_id: int | None,
    user_id: int | None,
) -> list[tuple]:
    """Planned bills as parameter tuples in ``BILL_COLUMNS`` order, adapted for the database the way
    Django adapts them (dates and datetimes through the backend's operations)."""
    ops = connection.ops
    dates: dict[datetime.date, object] = {}

    def day(value: datetime.date):
        adapted = dates.get(value)
        if adapted is None:
            adapted = dates[value] = ops.adapt_datefield_value(value)
        return adapted

    now = ops.adapt_datetimefield_value(timezone.now())
    charge_kind = str(BillKind.CHARGE)
    return [
        (
            project_id,
            accounts[(p.room_id, p.payer_id)],
            p.room_id,
            p.fee_item_id,
            charge_kind,
            day(p.period_start),
            day(p.period_end),
            p.quantity,
            p.unit_price,
            p.amount,
            day(p.due_date),
            p.description,
            run_id,
            revision,
            user_id,
            now,
        )
        for p in planned
    ]


def insert_bills(rows: list[tuple]) -> None:
    """One chunk's bills in bulk: ``INSERT … ON CONFLICT DO NOTHING``, so a key that exists already
    (written by an earlier attempt or a concurrent one) is skipped, and only a uniqueness conflict is —
    a CHECK violation still fails the chunk. SQLite: one ``executemany``; PostgreSQL: one statement
    per chunk that reads the rows from one binary array per column (``unnest``).

    On PostgreSQL the multi-row ``VALUES`` statements this replaced (1,000 rows, 16,000 parameters
    each, quoted into the text by Django's client-side binding) took twice as long for a
    100,000-room run (docs/operations/benchmarks.md)."""
    if not rows:
        return
    qn = connection.ops.quote_name
    columns = ", ".join(qn(c) for c in BILL_COLUMNS)
    # Table and column names come from the model, never from input.
    head = f"INSERT INTO {qn(Bill._meta.db_table)} ({columns}) "  # noqa: S608
    tail = " ON CONFLICT DO NOTHING"
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            one = "(" + ", ".join(["%s"] * len(BILL_COLUMNS)) + ")"
            cursor.executemany(head + "VALUES " + one + tail, rows)
            return
        # Types come from the model's fields; the rows are parameters: one array literal per column.
        columns = _bill_columns()
        arrays = ", ".join(f"%s::{db_type}[]" for db_type, _text in columns)
        sql = head + f"SELECT * FROM unnest({arrays})" + tail  # noqa: S608
        cursor.execute(
            sql,
            [
                _array_literal(values, text)
                for values, (_db_type, text) in zip(zip(*rows, strict=True), columns, strict=True)
            ],
        )


def _bill_columns() -> list[tuple[str, bool]]:
    """(database type, is text) of each of ``BILL_COLUMNS``."""
    fields = {f.column: f for f in Bill._meta.concrete_fields}
    return [
        (fields[c].cast_db_type(connection), fields[c].get_internal_type() == "CharField")
        for c in BILL_COLUMNS
    ]


def _array_literal(values: Sequence, text: bool) -> str:
    """A PostgreSQL array literal (``{1,2,NULL}``) of one column's values: built with ``str`` and one
    join, many times faster than the driver adapting each element. Text elements are double-quoted
    with backslash escapes, so any character is safe; numbers, dates and datetimes print as
    PostgreSQL reads them. Each distinct value is formatted once (most columns of a chunk repeat a
    few values: the project, the run, the period, the prices), and ids are joined through ``map``."""
    if not text and all(type(v) is int for v in values):
        return "{" + ",".join(map(str, values)) + "}"
    literal: dict = {}
    for v in set(values):
        if v is None:
            literal[v] = "NULL"
        elif text:
            literal[v] = '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        else:
            literal[v] = format(v, "f") if isinstance(v, Decimal) else str(v)
    return "{" + ",".join(map(literal.__getitem__, values)) + "}"


def chunks_by_room(planned: list[PlannedBill], rooms_per_chunk: int) -> list[list[PlannedBill]]:
    chunks: list[list[PlannedBill]] = []
    current: list[PlannedBill] = []
    seen: set[int] = set()
    for p in planned:
        if p.room_id not in seen and len(seen) >= rooms_per_chunk:
            chunks.append(current)
            current, seen = [], set()
        seen.add(p.room_id)
        current.append(p)
    if current:
        chunks.append(current)
    return chunks
