# ruff: noqa: S608 — SQL here is assembled from table/column names and %(name)s placeholders only;
# every value is passed as a query parameter.
"""Summary tables for fast reports, refreshed incrementally, and the report queries that use them.

The ledger tables only ever get new rows (bills, adjustments, allocations), so a refresh reads the rows
with an id above a stored watermark. On PostgreSQL a row with a smaller id can commit after a larger one
(a long billing run against a payment): the ids missing below the new watermark are remembered as gap
ranges and read again on each refresh until they appear, or forgotten after ``GAP_TTL`` (an id of a
rolled-back transaction never appears). A refresh reads under one snapshot (REPEATABLE READ) while
holding an advisory lock, so two refreshes never add the same rows. docs/decisions/0004-report-summaries.md
explains the design; ``report_summary_check`` proves the tables give the live answers.

Tables (money in fen):

- ``BillFact``: bill amounts, adjustments and allocations summed by building, fee item, kind, payer
  type, period, due date and month of effective date. Additive: current and recovery sums for any
  window, exact for any date — a date inside a month subtracts the summarised entries dated after it
  in that month (a small live query on the effective-date index).
- ``OpenBill``: each bill still owing (or owed) after every summarised entry, and ``LateEvent``: every
  entry dated after its bill's due date. For a bill due on or before D, outstanding(D) = outstanding(now)
  + Σ its late entries dated after D — aging, top debtors and the household rate on any date.
- ``IrregularBill``: bills that can owe less than nothing on a date (a reversed allocation): opening
  arrears take only positive parts per bill, so these few are recomputed one by one.
- ``AccountSpan``: first and last billed period of an account and fee item in each building its bills
  name, for "accounts billed in the window" without reading the bills.

A report uses the tables after catching up (refreshing the few rows not read yet, when they are few);
if the tables were never built or are far behind, it answers live (``selectors`` decides).

This module: the tables' names, the dialect helpers, and which ledger rows are summarised (id at or
below the watermark and not in a gap). Built and kept by ``summary_refresh`` (with the roll-ups of
decision 0006 in ``summary_rollups``), read by ``summary_read``, ``summary_rates`` and
``summary_arrears``, proved by ``summary_check``.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import connection

from wuye.core import db_router
from wuye.reports import sql as shared
from wuye.reports.models import (
    AccountDebt,
    AccountOwing,
    AccountSpan,
    BilledIrregular,
    BilledRange,
    BillFact,
    BuildingSteward,
    DebtTotal,
    IrregularBill,
    IrregularSpell,
    LateEvent,
    MonthOwing,
    OpenBill,
    OwedRange,
    StewardFact,
    SummaryState,
)
from wuye.reports.sql import (
    T_ADJ,
    T_ALLOC,
    T_BILL,
    _Params,
)

SOURCES = {"bill": T_BILL, "adjustment": T_ADJ, "allocation": T_ALLOC}
GAP_TTL = datetime.timedelta(days=1)
BILL_ROW_MONTH = datetime.date(1900, 1, 1)
LOCK_KEY = 0x5759_5245  # "WYRE": the advisory lock of the summary refresh

T_FACT = BillFact._meta.db_table
T_OPEN = OpenBill._meta.db_table
T_LATE = LateEvent._meta.db_table
T_IRREG = IrregularBill._meta.db_table
T_SPAN = AccountSpan._meta.db_table
T_SFACT = StewardFact._meta.db_table
T_BSTEWARD = BuildingSteward._meta.db_table
T_DEBT = AccountDebt._meta.db_table
T_SPELL = IrregularSpell._meta.db_table
T_OWING = AccountOwing._meta.db_table
T_MONTHS = MonthOwing._meta.db_table
T_RANGES = BilledRange._meta.db_table
T_IRREG_BILLED = BilledIrregular._meta.db_table
T_OWED = OwedRange._meta.db_table
T_DEBT_TOTAL = DebtTotal._meta.db_table
T_TOUCHED = "reports_touched_tmp"
T_DELTA = "reports_fact_delta_tmp"
T_MOVED = "reports_moved_tmp"
T_CELLS = "reports_month_cells_tmp"

FACT_KEY = (
    "project_id, building_id, fee_item_id, kind, developer, period_start, due_date, event_month"
)
SFACT_KEY = (
    "project_id, steward_id, fee_item_id, kind, developer, period_start, due_date, event_month"
)
FACT_SUMS = "billed_fen, adjusted_fen, received_fen"
DEBT_STATE = "debt"
STEWARD_STATE = "steward"
SPELL_STATE = "spells"
OWING_STATE = "owing"  # AccountOwing: its date (AccountDebt's, built beside it)
MONTHS_STATE = "months"  # MonthOwing; shared_accounts: (month, account) pairs in two buildings
BILLED_STATE = "billed"  # BilledRange and BilledIrregular (decision 0020)
# AccountSpan one row per building an account's bills name (decision 0020, amendment); missing on a
# database summarised before: the next refresh task computes the spans again.
SPAN_BUILDINGS_STATE = "span_buildings"


def _pg() -> bool:
    return connection.vendor == "postgresql"


def _cents(column: str) -> str:
    return shared._cents(column)


def _month(column: str) -> str:
    if _pg():
        return f"CAST(date_trunc('month', {column}) AS date)"
    return f"date({column}, 'start of month')"


def _ym(column: str) -> str:
    """A date column as a month number (year × 12 + month): consecutive months differ by 1."""
    if _pg():
        return f"(EXTRACT(YEAR FROM {column}) * 12 + EXTRACT(MONTH FROM {column}))"
    return (
        f"(CAST(strftime('%%Y', {column}) AS INTEGER) * 12"
        f" + CAST(strftime('%%m', {column}) AS INTEGER))"
    )


def _execute(sql: str, params: dict | None = None) -> int:
    """A statement that writes (the refresh): always on the primary."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params or {})
        return cursor.rowcount


def _fetch(sql: str, params: dict | None = None) -> list[tuple]:
    """Rows read where the router reads now: the replica inside a report's snapshot, the primary
    inside the refresh (its transaction, and ``on_primary``)."""
    with db_router.read_connection().cursor() as cursor:
        cursor.execute(sql, params or {})
        return cursor.fetchall()


def _enabled() -> bool:
    return getattr(settings, "WUYE_REPORT_SUMMARIES", True)


# --- which rows are summarised ---------------------------------------------------------------------


def _in_gaps(alias: str, gaps: list, p: _Params) -> str:
    return " OR ".join(
        f"{alias}.id BETWEEN {p.add(int(lo))} AND {p.add(int(hi))}" for lo, hi, *_ in gaps
    )


def summarised(alias: str, state: SummaryState, p: _Params) -> str:
    """Rows of a ledger table that the summaries have read."""
    cond = f"{alias}.id <= {p.add(int(state.watermark))}"
    if state.gaps:
        cond += f" AND NOT ({_in_gaps(alias, state.gaps, p)})"
    return f"({cond})"


def _states() -> dict[str, SummaryState]:
    return {s.source: s for s in SummaryState.objects.all()}


def _upsert_sums(
    table: str, key: str, select: str, params: dict | None = None, sums: str = FACT_SUMS
) -> None:
    """Adds the rows of ``select`` (key columns, then ``sums``, by default the facts' three; with a
    WHERE, as SQLite's upsert asks) to ``table``."""
    adds = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in sums.split(", "))
    _execute(
        f"INSERT INTO {table} ({key}, {sums}) {select} ON CONFLICT ({key}) DO UPDATE SET {adds}",
        params,
    )


def _late_after(day: datetime.date) -> bool:
    """Whether any late entry is dated after ``day`` (else outstanding now = outstanding then)."""
    rows = _fetch(f"SELECT 1 FROM {T_LATE} WHERE effective_date > %(d)s LIMIT 1", {"d": day})
    return bool(rows)


def _early_after(day: datetime.date) -> bool:
    """Whether any adjustment or allocation is dated after ``day`` (an entry dated after ``day`` but
    not after its bill's due date is in no LateEvent)."""
    [(found,)] = _fetch(
        f"SELECT CASE WHEN EXISTS (SELECT 1 FROM {T_ALLOC} WHERE effective_date > %(d)s)"
        f" OR EXISTS (SELECT 1 FROM {T_ADJ} WHERE effective_date > %(d)s) THEN 1 ELSE 0 END",
        {"d": day},
    )
    return bool(found)


def _early_entries(d: str, p: _Params) -> str:
    """Rows with LateEvent's columns of the summarised adjustments and allocations dated after the
    day ``d`` and on or before their bill's due date: what a bill not due on the day was paid or
    adjusted since, which LateEvent does not keep."""
    states = _states()
    entries = " UNION ALL ".join(
        f"SELECT e.bill_id, e.effective_date, {_cents('e.amount')} AS amount_fen"
        f" FROM {SOURCES[source]} e WHERE e.effective_date > {d}"
        f" AND {summarised('e', states[source], p)}"
        for source in ("adjustment", "allocation")
    )
    return f"""
      SELECT b.id AS bill_id, b.account_id, b.project_id, r.building_id, b.fee_item_id, b.kind,
        pe.is_developer AS developer, b.due_date, b.period_start, e.effective_date, e.amount_fen
      FROM ({entries}) e JOIN {shared.T_BILL} b ON b.id = e.bill_id
        JOIN {shared.T_ROOM} r ON r.id = b.room_id JOIN {shared.T_ACCOUNT} a ON a.id = b.account_id
        JOIN {shared.T_PERSON} pe ON pe.id = a.payer_id
      WHERE e.effective_date <= b.due_date
    """


def _overdue_on(
    day: datetime.date, p: _Params, where: str, *, strict: bool, any_due: bool = False
) -> str:
    """Rows (bill_id, account_id, project_id, building_id, fee_item_id, kind, developer, due_date,
    period_start, o) of bills matching ``where`` (over alias ``x``), due before (``strict``) or on
    ``day`` (whenever due, with ``any_due``), with outstanding(day) > 0.

    outstanding(day) = OpenBill + the bill's entries dated after the day: for a bill due by the day
    those are its LateEvent rows; a bill not due yet (``any_due``) also has the entries dated after
    the day up to its due date (a payment made between a past report date and the due date), read
    from the ledger — none when the day is today."""
    d = p.add(day, "od_day")
    due = "1 = 1" if any_due else f"x.due_date {'<' if strict else '<='} {d}"
    cols = "bill_id, account_id, project_id, building_id, fee_item_id, kind, developer, due_date, period_start"
    early = any_due and _early_after(day)
    if not early and not _late_after(day):
        return (
            f"SELECT {cols}, outstanding_fen AS o FROM {T_OPEN} x"
            f" WHERE {due} AND {where} AND x.outstanding_fen > 0"
        )
    before_due = ""
    if early:
        before_due = f"""
          UNION ALL
          SELECT {cols}, x.amount_fen FROM ({_early_entries(d, p)}) x WHERE {where}"""
    return f"""
      SELECT {cols}, o FROM (
        SELECT {cols}, SUM(o) AS o FROM (
          SELECT {cols}, x.outstanding_fen AS o FROM {T_OPEN} x WHERE {due} AND {where}
          UNION ALL
          SELECT {cols}, x.amount_fen FROM {T_LATE} x WHERE x.effective_date > {d} AND {due} AND {where}{before_due}
        ) u GROUP BY {cols}
      ) v WHERE o > 0
    """
