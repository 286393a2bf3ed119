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
- ``AccountSpan``: first and last billed period of an account and fee item, for "accounts billed in the
  window" without reading the bills.

A report uses the tables after catching up (refreshing the few rows not read yet, when they are few);
if the tables were never built or are far behind, it answers live (``selectors``).
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from wuye.reports import selectors as live
from wuye.reports.models import (
    AccountDebt,
    AccountSpan,
    BillFact,
    BuildingSteward,
    IrregularBill,
    IrregularSpell,
    LateEvent,
    OpenBill,
    RollupState,
    StewardFact,
    SummaryState,
)
from wuye.reports.selectors import (
    BILL_FROM,
    T_ACCOUNT,
    T_ADJ,
    T_ALLOC,
    T_BILL,
    T_BUILDING,
    T_PERSON,
    T_ROOM,
    ReportScope,
    Window,
    _Params,
    bucket_case,
    month_end,
    scope_sql,
    team_members_sql,
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
T_TOUCHED = "reports_touched_tmp"
T_DELTA = "reports_fact_delta_tmp"
T_MOVED = "reports_moved_tmp"

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


def _pg() -> bool:
    return connection.vendor == "postgresql"


def _cents(column: str) -> str:
    return live._cents(column)


def _month(column: str) -> str:
    if _pg():
        return f"CAST(date_trunc('month', {column}) AS date)"
    return f"date({column}, 'start of month')"


def _execute(sql: str, params: dict | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or {})
        return cursor.rowcount


def _fetch(sql: str, params: dict | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
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


# --- refresh ---------------------------------------------------------------------------------------


@dataclass
class RefreshResult:
    added: dict[str, int] = field(default_factory=dict)
    pending_ids: int = 0  # ids still missing below the watermarks (gaps)
    seconds: float = 0.0
    full: bool = False


def _new_gaps(table: str, lo: int, hi: int, p: _Params) -> list[tuple[int, int]]:
    """Missing ids in [lo, hi] of ``table``."""
    if hi < lo:
        return []
    a, b = p.add(lo - 1), p.add(hi + 1)
    lo_p, hi_p = p.add(lo), p.add(hi)
    sql = f"""
      SELECT id + 1, nxt - 1 FROM (
        SELECT id, LEAD(id) OVER (ORDER BY id) AS nxt FROM (
          SELECT CAST({a} AS BIGINT) AS id
          UNION ALL SELECT id FROM {table} WHERE id BETWEEN {lo_p} AND {hi_p}
          UNION ALL SELECT CAST({b} AS BIGINT)
        ) ids
      ) x WHERE nxt > id + 1
    """
    return [(int(x), int(y)) for x, y in _fetch(sql, p.values)]


def _fact_select(source: str, pick: str, p: _Params) -> str:
    """BillFact rows (key, billed, adjusted, received) of the picked rows of ``source``."""
    if source == "bill":
        month, column = p.add(BILL_ROW_MONTH, "bill_row_month"), "billed_fen"
        amount = _cents("b.amount")
        frm = f"{BILL_FROM} WHERE {pick}"
    else:
        column = "adjusted_fen" if source == "adjustment" else "received_fen"
        month = _month("e.effective_date")
        amount = _cents("e.amount")
        frm = (
            f"{SOURCES[source]} e JOIN {T_BILL} b ON b.id = e.bill_id"
            f" JOIN {T_ROOM} r ON r.id = b.room_id"
            f" JOIN {T_ACCOUNT} a ON a.id = b.account_id JOIN {T_PERSON} p ON p.id = a.payer_id"
            f" WHERE {pick}"
        )
    sums = {"billed_fen": "0", "adjusted_fen": "0", "received_fen": "0"}
    sums[column] = f"SUM({amount})"
    return f"""
      SELECT b.project_id, r.building_id, b.fee_item_id, b.kind, p.is_developer, b.period_start,
        b.due_date, {month}, {sums["billed_fen"]}, {sums["adjusted_fen"]}, {sums["received_fen"]}
      FROM {frm}
      GROUP BY b.project_id, r.building_id, b.fee_item_id, b.kind, p.is_developer, b.period_start,
        b.due_date, {month}
    """


def _fact_insert(source: str, pick: str, p: _Params) -> None:
    """Adds the picked rows of ``source`` to this refresh's fact delta (``_apply_delta`` files it)."""
    _execute(
        f"INSERT INTO {T_DELTA} ({FACT_KEY}, {FACT_SUMS}) {_fact_select(source, pick, p)}", p.values
    )


def _upsert_sums(table: str, key: str, select: str, params: dict | None = None) -> None:
    """Adds the rows of ``select`` (key columns, then the three sums; with a WHERE, as SQLite's upsert
    asks) to ``table``."""
    adds = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in FACT_SUMS.split(", "))
    _execute(
        f"INSERT INTO {table} ({key}, {FACT_SUMS}) {select} ON CONFLICT ({key}) DO UPDATE SET {adds}",
        params,
    )


def _create_delta() -> None:
    _execute(f"DROP TABLE IF EXISTS {T_DELTA}")
    _execute(
        f"CREATE TEMPORARY TABLE {T_DELTA} (project_id INTEGER, building_id INTEGER,"
        " fee_item_id INTEGER, kind VARCHAR(10), developer BOOLEAN, period_start DATE,"
        " due_date DATE, event_month DATE, billed_fen BIGINT, adjusted_fen BIGINT,"
        " received_fen BIGINT)"
    )


def _steward_rollup(source: str, steward: str, join: str, sign: str = "") -> str:
    """SELECT of StewardFact rows from building-level fact rows ``source`` (alias d) filed under
    ``steward`` (a column of ``join``)."""
    rest = "d.fee_item_id, d.kind, d.developer, d.period_start, d.due_date, d.event_month"
    sums = ", ".join(f"{sign}SUM(d.{c})" for c in FACT_SUMS.split(", "))
    return (
        f"SELECT d.project_id, {steward}, {rest}, {sums} FROM {source} d {join}"
        f" WHERE 1 = 1 GROUP BY d.project_id, {steward}, {rest}"
    )


def _apply_delta(steward_facts: bool) -> None:
    """Files this refresh's fact delta into BillFact and (when kept up) StewardFact."""
    _upsert_sums(
        T_FACT,
        FACT_KEY,
        f"SELECT {FACT_KEY}, SUM(billed_fen), SUM(adjusted_fen), SUM(received_fen) FROM {T_DELTA}"
        f" WHERE 1 = 1 GROUP BY {FACT_KEY}",
    )
    if not steward_facts:
        return
    # Buildings seen for the first time are filed under their steward of today.
    _execute(
        f"INSERT INTO {T_BSTEWARD} (building_id, project_id, steward_id)"
        f" SELECT bd.id, bd.project_id, COALESCE(bd.steward_id, 0) FROM {T_BUILDING} bd"
        f" WHERE bd.id IN (SELECT building_id FROM {T_DELTA})"
        f" AND NOT EXISTS (SELECT 1 FROM {T_BSTEWARD} s WHERE s.building_id = bd.id)"
    )
    _upsert_sums(
        T_SFACT,
        SFACT_KEY,
        _steward_rollup(
            T_DELTA, "s.steward_id", f"JOIN {T_BSTEWARD} s ON s.building_id = d.building_id"
        ),
    )


def _build_steward_facts(now: datetime.datetime) -> None:
    """StewardFact from BillFact, every building filed under its steward of today."""
    _execute(f"DELETE FROM {T_SFACT}")
    _execute(f"DELETE FROM {T_BSTEWARD}")
    _execute(
        f"INSERT INTO {T_BSTEWARD} (building_id, project_id, steward_id)"
        f" SELECT id, project_id, COALESCE(steward_id, 0) FROM {T_BUILDING}"
    )
    _execute(
        f"INSERT INTO {T_SFACT} ({SFACT_KEY}, {FACT_SUMS}) "
        + _steward_rollup(
            T_FACT, "s.steward_id", f"JOIN {T_BSTEWARD} s ON s.building_id = d.building_id"
        )
    )
    RollupState.objects.update_or_create(name=STEWARD_STATE, defaults={"built_at": now})


def _rollups() -> dict[str, RollupState]:
    return {r.name: r for r in RollupState.objects.all()}


def _rollup(name: str) -> RollupState | None:
    """The state of one roll-up; None while it has never been built."""
    return RollupState.objects.filter(name=name).first()


def _moved_buildings_sql() -> str:
    return (
        f"SELECT s.building_id, s.steward_id AS old_id, COALESCE(bd.steward_id, 0) AS new_id"
        f" FROM {T_BSTEWARD} s JOIN {T_BUILDING} bd ON bd.id = s.building_id"
        f" WHERE s.steward_id <> COALESCE(bd.steward_id, 0)"
    )


def stewards_moved() -> bool:
    """Whether a building has changed steward since its facts were filed in StewardFact."""
    if not _rollup(STEWARD_STATE) is not None:
        return False
    return bool(_fetch(_moved_buildings_sql() + " LIMIT 1"))


def _sync_stewards() -> int:
    """Moves the StewardFact share of every building whose steward changed from the old steward to
    the new one (exact: a building's facts are all in BillFact); returns how many buildings moved."""
    _execute(f"DROP TABLE IF EXISTS {T_MOVED}")
    _execute(
        f"CREATE TEMPORARY TABLE {T_MOVED} (building_id INTEGER PRIMARY KEY, old_id INTEGER,"
        " new_id INTEGER)"
    )
    try:
        moved = _execute(
            f"INSERT INTO {T_MOVED} (building_id, old_id, new_id) {_moved_buildings_sql()}"
        )
        if moved:
            join = f"JOIN {T_MOVED} m ON m.building_id = d.building_id"
            _upsert_sums(T_SFACT, SFACT_KEY, _steward_rollup(T_FACT, "m.old_id", join, "-"))
            _upsert_sums(T_SFACT, SFACT_KEY, _steward_rollup(T_FACT, "m.new_id", join))
            _execute(
                f"UPDATE {T_BSTEWARD} SET steward_id = (SELECT m.new_id FROM {T_MOVED} m"
                f" WHERE m.building_id = {T_BSTEWARD}.building_id)"
                f" WHERE building_id IN (SELECT building_id FROM {T_MOVED})"
            )
            _execute(
                f"DELETE FROM {T_SFACT} WHERE billed_fen = 0 AND adjusted_fen = 0"
                f" AND received_fen = 0 AND steward_id IN (SELECT old_id FROM {T_MOVED})"
            )
    finally:
        _execute(f"DROP TABLE IF EXISTS {T_MOVED}")
    return moved


# --- IrregularSpell: the days an irregular bill owed less than nothing --------------------------------


def _spell_select(states: dict[str, SummaryState], p: _Params, bills: str) -> str:
    """IrregularSpell rows of the irregular bills ``bills`` selects, from their summarised entries:
    the bill's outstanding after each day with entries, kept where it is below zero, up to the next
    such day."""
    entries = " UNION ALL ".join(
        f"SELECT e.bill_id, e.effective_date AS d, {_cents('e.amount')} AS amt"
        f" FROM {SOURCES[source]} e WHERE {summarised('e', states[source], p)}"
        f" AND e.bill_id IN ({bills})"
        for source in ("adjustment", "allocation")
    )
    return f"""
      SELECT bill_id, d, nxt, -o FROM (
        SELECT ev.bill_id, ev.d,
          {_cents("b.amount")} - SUM(ev.amt) OVER (PARTITION BY ev.bill_id ORDER BY ev.d) AS o,
          LEAD(ev.d) OVER (PARTITION BY ev.bill_id ORDER BY ev.d) AS nxt
        FROM (SELECT bill_id, d, SUM(amt) AS amt FROM ({entries}) u GROUP BY bill_id, d) ev
          JOIN {T_BILL} b ON b.id = ev.bill_id
        WHERE {summarised("b", states["bill"], p)}
      ) r WHERE o < 0
    """


def _update_spells(states: dict[str, SummaryState], bills: str) -> None:
    """IrregularSpell of the irregular bills among ``bills``, again."""
    irregular = f"SELECT bill_id FROM {T_IRREG} WHERE bill_id IN ({bills})"
    _execute(f"DELETE FROM {T_SPELL} WHERE bill_id IN ({irregular})")
    p = _Params()
    _execute(
        f"INSERT INTO {T_SPELL} (bill_id, starts, ends, owed_fen)"
        f" {_spell_select(states, p, irregular)}",
        p.values,
    )


def _rebuild_spells(states: dict[str, SummaryState], now: datetime.datetime) -> None:
    _execute(f"DELETE FROM {T_SPELL}")
    p = _Params()
    _execute(
        f"INSERT INTO {T_SPELL} (bill_id, starts, ends, owed_fen)"
        f" {_spell_select(states, p, f'SELECT bill_id FROM {T_IRREG}')}",
        p.values,
    )
    RollupState.objects.update_or_create(name=SPELL_STATE, defaults={"built_at": now})


# --- AccountDebt: what each account owes on one date ------------------------------------------------


def _debt_select(day: datetime.date, p: _Params, where: str) -> str:
    """AccountDebt rows on ``day`` of the accounts of the open bills ``where`` (alias x) picks."""
    d = p.add(day, "debt_day")
    overdue = _overdue_on(day, p, where, strict=False)
    buckets = ", ".join(f"SUM(CASE WHEN y.pb = {n} THEN y.o ELSE 0 END)" for n in range(6))
    return f"""
      SELECT y.account_id, y.building_id, MIN(y.project_id),
        CASE WHEN MAX(y.dev) = 1 THEN TRUE ELSE FALSE END, {buckets},
        SUM(CASE WHEN y.pb >= 0 THEN y.o ELSE 0 END), SUM(CASE WHEN y.pb >= 0 THEN 1 ELSE 0 END),
        MIN(CASE WHEN y.pb >= 0 THEN y.due_date END),
        SUM(CASE WHEN y.kind = 'late_fee' THEN y.o ELSE 0 END),
        MIN(CASE WHEN y.kind = 'charge' THEN y.period_start END),
        MAX(CASE WHEN y.kind = 'charge' THEN y.period_start END)
      FROM (
        SELECT x.account_id, x.building_id, x.project_id, x.kind, x.due_date, x.period_start, x.o,
          CASE WHEN x.developer THEN 1 ELSE 0 END AS dev,
          CASE WHEN x.kind = 'charge' AND x.due_date < {d} THEN {bucket_case("x.due_date", p, day)}
               ELSE -1 END AS pb
        FROM ({overdue}) x
      ) y
      GROUP BY y.account_id, y.building_id
    """


DEBT_COLUMNS = (
    "account_id, building_id, project_id, developer, b0_fen, b1_fen, b2_fen, b3_fen, b4_fen,"
    " b5_fen, principal_fen, bills, oldest_due, late_fee_fen, first_period, last_period"
)


def _shared_accounts(accounts: str | None = None) -> int:
    """Accounts with AccountDebt rows in more than one building (among ``accounts``)."""
    only = "" if accounts is None else f" WHERE account_id IN ({accounts})"
    [(n,)] = _fetch(
        f"SELECT COUNT(*) FROM (SELECT account_id FROM {T_DEBT}{only} GROUP BY account_id"
        f" HAVING COUNT(*) > 1) x"
    )
    return int(n)


def _rebuild_debt(day: datetime.date, now: datetime.datetime) -> None:
    _execute(f"DELETE FROM {T_DEBT}")
    p = _Params()
    _execute(f"INSERT INTO {T_DEBT} ({DEBT_COLUMNS}) {_debt_select(day, p, '1 = 1')}", p.values)
    RollupState.objects.update_or_create(
        name=DEBT_STATE,
        defaults={"as_of": day, "built_at": now, "shared_accounts": _shared_accounts()},
    )


def _update_debt(accounts: str) -> None:
    """AccountDebt rows of the accounts ``accounts`` selects, again (after their bills changed)."""
    state = _rollup(DEBT_STATE)
    if state is None or state.as_of is None:
        return
    _execute(f"DELETE FROM {T_DEBT} WHERE account_id IN ({accounts})")
    p = _Params()
    _execute(
        f"INSERT INTO {T_DEBT} ({DEBT_COLUMNS})"
        f" {_debt_select(state.as_of, p, f'x.account_id IN ({accounts})')}",
        p.values,
    )
    # With none before, only the accounts just recomputed can be shared now.
    state.shared_accounts = _shared_accounts(None if state.shared_accounts else accounts)
    state.save(update_fields=["shared_accounts"])


def _late_select(source: str, pick: str, p: _Params) -> str:
    return f"""
      SELECT {p.add(source)}, e.id, b.id, b.account_id, b.project_id, r.building_id, b.fee_item_id,
        b.kind, p.is_developer, b.period_start, b.due_date, e.effective_date, {_cents("e.amount")}
      FROM {SOURCES[source]} e JOIN {T_BILL} b ON b.id = e.bill_id JOIN {T_ROOM} r ON r.id = b.room_id
        JOIN {T_ACCOUNT} a ON a.id = b.account_id JOIN {T_PERSON} p ON p.id = a.payer_id
      WHERE {pick} AND e.effective_date > b.due_date
    """


def _late_insert(source: str, pick: str, p: _Params) -> None:
    sql = f"""
      INSERT INTO {T_LATE} (source, event_id, bill_id, account_id, project_id, building_id,
        fee_item_id, kind, developer, period_start, due_date, effective_date, amount_fen)
      {_late_select(source, pick, p)}
      ON CONFLICT (source, event_id) DO NOTHING
    """
    _execute(sql, p.values)


def _open_select(states: dict[str, SummaryState], touched: str | None, p: _Params) -> str:
    """Open bills (outstanding after every summarised entry ≠ 0) among summarised bills, or among
    those whose ids ``touched`` selects. Columns as OpenBill; the outer alias is ``x``."""
    only_b = "" if touched is None else f" AND b.id IN ({touched})"
    only_e = "" if touched is None else f" AND e.bill_id IN ({touched})"
    sums = {}
    for source, alias in (("adjustment", "adj"), ("allocation", "al")):
        sums[alias] = (
            f" LEFT JOIN (SELECT e.bill_id, SUM({_cents('e.amount')}) AS s FROM {SOURCES[source]} e"
            f" WHERE {summarised('e', states[source], p)}{only_e} GROUP BY e.bill_id) {alias}"
            f" ON {alias}.bill_id = b.id"
        )
    return f"""
      SELECT * FROM (
        SELECT b.id AS bill_id, b.account_id, b.project_id, r.building_id, b.fee_item_id, b.kind,
          p.is_developer AS developer, b.period_start, b.due_date,
          {_cents("b.amount")} - COALESCE(adj.s, 0) - COALESCE(al.s, 0) AS o
        FROM {BILL_FROM}{sums["adj"]}{sums["al"]}
        WHERE {summarised("b", states["bill"], p)}{only_b}
      ) x WHERE o <> 0
    """


def _open_bills(states: dict[str, SummaryState], full: bool) -> None:
    """OpenBill rows of the touched bills (all bills on a full refresh), from summarised entries."""
    p = _Params()
    touched = None if full else f"SELECT bill_id FROM {T_TOUCHED}"
    if not full:
        _execute(f"DELETE FROM {T_OPEN} WHERE bill_id IN ({touched})")
    _execute(
        f"INSERT INTO {T_OPEN} (bill_id, account_id, project_id, building_id, fee_item_id, kind,"
        f" developer, period_start, due_date, outstanding_fen) {_open_select(states, touched, p)}",
        p.values,
    )
    # A bill owing less than nothing is irregular (its opening arrears are taken per bill).
    _execute(
        f"INSERT INTO {T_IRREG} (bill_id) SELECT bill_id FROM {T_OPEN} WHERE outstanding_fen < 0"
        f"{'' if full else f' AND bill_id IN ({touched})'}"
        f" ON CONFLICT (bill_id) DO NOTHING"
    )


def _span_select(
    states: dict[str, SummaryState], accounts: str | None, p: _Params, extra: str = ""
) -> str:
    """AccountSpan rows of summarised principal bills (of the accounts ``accounts`` selects)."""
    if _pg():
        ym = "(EXTRACT(YEAR FROM {c}) * 12 + EXTRACT(MONTH FROM {c}))"
        day = "EXTRACT(DAY FROM b.period_start)"
    else:
        ym = "(CAST(strftime('%%Y', {c}) AS INTEGER) * 12 + CAST(strftime('%%m', {c}) AS INTEGER))"
        day = "CAST(strftime('%%d', b.period_start) AS INTEGER)"
    months = f"{ym.format(c='MAX(b.period_start)')} - {ym.format(c='MIN(b.period_start)')} + 1"
    only = "" if accounts is None else f" AND b.account_id IN ({accounts})"
    return f"""
      SELECT b.account_id, b.fee_item_id, MIN(b.project_id), MIN(r.building_id),
        CASE WHEN MAX(CASE WHEN p.is_developer THEN 1 ELSE 0 END) = 1 THEN TRUE ELSE FALSE END,
        MIN(b.period_start), MAX(b.period_start),
        CASE WHEN MAX({day}) = 1 AND COUNT(DISTINCT b.period_start) = {months}
             THEN TRUE ELSE FALSE END
      FROM {BILL_FROM}
      WHERE b.kind = 'charge' AND {summarised("b", states["bill"], p)}{only}{extra}
      GROUP BY b.account_id, b.fee_item_id
    """


def _spans(states: dict[str, SummaryState], pick_new_bills: str | None, p: _Params) -> None:
    """AccountSpan of the accounts with new principal bills (all accounts on a full refresh)."""
    accounts = None
    if pick_new_bills is not None:
        accounts = (
            f"SELECT b.account_id FROM {T_BILL} b WHERE {pick_new_bills} AND b.kind = 'charge'"
        )
        _execute(f"DELETE FROM {T_SPAN} WHERE account_id IN ({accounts})", p.values)
    _execute(
        f"INSERT INTO {T_SPAN} (account_id, fee_item_id, project_id, building_id, developer,"
        f" first_period, last_period, monthly) {_span_select(states, accounts, p)}",
        p.values,
    )


def _lock() -> None:
    if _pg():
        _execute("SELECT pg_advisory_lock(%(k)s)", {"k": LOCK_KEY})


def _unlock() -> None:
    if _pg():
        _execute("SELECT pg_advisory_unlock(%(k)s)", {"k": LOCK_KEY})


def refresh(full: bool = False, *, new_day: bool = True) -> RefreshResult:
    """Adds the ledger rows not summarised yet (everything, from empty tables, when ``full``).

    AccountDebt is brought to today: on a new day it is computed again for every account, unless
    ``new_day=False`` (a report catching up: it leaves that to the refresh task and meanwhile answers
    from the open bills)."""
    started = time.monotonic()
    result = RefreshResult(full=full)
    _lock()
    try:
        outermost = not connection.in_atomic_block
        with transaction.atomic():
            if _pg() and outermost:
                # One snapshot for the whole refresh: the rows picked, the gaps found and the open
                # bills recomputed all see the same committed rows.
                _execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            _refresh(full, result, new_day)
    finally:
        _unlock()
    result.seconds = time.monotonic() - started
    return result


def _refresh(full: bool, result: RefreshResult, new_day: bool) -> None:
    now = timezone.now()
    if full:
        for table in (
            T_FACT,
            T_OPEN,
            T_LATE,
            T_IRREG,
            T_SPAN,
            T_SFACT,
            T_BSTEWARD,
            T_DEBT,
            T_SPELL,
        ):
            _execute(f"DELETE FROM {table}")
        SummaryState.objects.all().delete()
        RollupState.objects.all().delete()
    rollups = _rollups()
    steward_facts = STEWARD_STATE in rollups
    if steward_facts:
        _sync_stewards()  # before new facts are filed: they go under the stewards of today
    states = _states()
    for source in SOURCES:
        if source not in states:
            states[source] = SummaryState.objects.create(source=source)
    picks: dict[str, str] = {}
    p = _Params()
    for source, table in SOURCES.items():
        state = states[source]
        [(top,)] = _fetch(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
        top = max(int(top), state.watermark)
        pick = f"({{a}}.id > {p.add(state.watermark)} AND {{a}}.id <= {p.add(top)})"
        if state.gaps:
            pick = f"({pick} OR {_in_gaps('{a}', state.gaps, p)})"
        gaps = []
        expired = now - GAP_TTL
        for lo, hi, seen in state.gaps:
            if datetime.datetime.fromisoformat(seen) < expired:
                continue  # an id of a rolled-back transaction: it will never appear
            gaps += [[a, b, seen] for a, b in _new_gaps(table, int(lo), int(hi), _Params())]
        gaps += [
            [a, b, now.isoformat()]
            for a, b in _new_gaps(table, state.watermark + 1, top, _Params())
        ]
        if gaps:
            # A row missing when the gaps were read stays out of this refresh even if it commits
            # meanwhile (without a snapshot, inside an outer transaction): the next refresh reads it.
            pick = f"({pick} AND NOT ({_in_gaps('{a}', gaps, p)}))"
        picks[source] = pick
        state.watermark, state.gaps = top, gaps
    # Rows picked now (old watermark and gaps) — the entries to add.
    bill_pick = picks["bill"].format(a="b")
    _create_delta()
    try:
        for source in SOURCES:
            alias = "b" if source == "bill" else "e"
            pick = picks[source].format(a=alias)
            if not full:
                [(n,)] = _fetch(
                    f"SELECT COUNT(*) FROM {SOURCES[source]} {alias} WHERE {pick}", p.values
                )
                result.added[source] = int(n)
            _fact_insert(source, pick, p)
            if source != "bill":
                _late_insert(source, pick, p)
        _apply_delta(steward_facts)
    finally:
        _execute(f"DROP TABLE IF EXISTS {T_DELTA}")
    if not steward_facts:
        _build_steward_facts(now)
    alloc_pick = picks["allocation"].format(a="e")
    _execute(
        f"INSERT INTO {T_IRREG} (bill_id) SELECT DISTINCT e.bill_id FROM {T_ALLOC} e"
        f" WHERE {alloc_pick} AND e.amount < 0 ON CONFLICT (bill_id) DO NOTHING",
        p.values,
    )
    for st in states.values():  # the new watermarks and gaps define "summarised" from here on
        st.refreshed_at = now
        st.save()
    today = timezone.localdate()
    debt_day = rollups[DEBT_STATE].as_of if DEBT_STATE in rollups else None
    if full:
        for source, table in SOURCES.items():
            [(n,)] = _fetch(f"SELECT COUNT(*) FROM {table}")
            result.added[source] = int(n)
        _open_bills(states, full=True)
        _spans(states, None, p)
        _rebuild_debt(today, now)
        _rebuild_spells(states, now)
    else:
        _execute(f"DROP TABLE IF EXISTS {T_TOUCHED}")
        _execute(f"CREATE TEMPORARY TABLE {T_TOUCHED} (bill_id BIGINT PRIMARY KEY)")
        try:
            _execute(
                f"INSERT INTO {T_TOUCHED} (bill_id) SELECT b.id FROM {T_BILL} b WHERE {bill_pick}"
                f" UNION SELECT e.bill_id FROM {T_ADJ} e WHERE {picks['adjustment'].format(a='e')}"
                f" UNION SELECT e.bill_id FROM {T_ALLOC} e WHERE {alloc_pick}",
                p.values,
            )
            _open_bills(states, full=False)
            _spans(states, bill_pick, p)
            if SPELL_STATE in rollups:
                _update_spells(states, f"SELECT bill_id FROM {T_TOUCHED}")
            if debt_day == today:
                _update_debt(
                    f"SELECT b.account_id FROM {T_BILL} b"
                    f" WHERE b.id IN (SELECT bill_id FROM {T_TOUCHED})"
                )
        finally:
            _execute(f"DROP TABLE IF EXISTS {T_TOUCHED}")
        if SPELL_STATE not in rollups:
            _rebuild_spells(states, now)
        if debt_day != today and new_day:
            _rebuild_debt(today, now)  # a new day: every account's buckets have moved on
    result.pending_ids = sum(
        int(hi) - int(lo) + 1 for st in states.values() for lo, hi, _ in st.gaps
    )


def pending_rows(limit: int) -> int | None:
    """Ledger rows not summarised yet (at most ``limit`` + 1 counted); None when never built."""
    states = _states()
    if len(states) < len(SOURCES):
        return None
    total = 0
    for source, table in SOURCES.items():
        st = states[source]
        p = _Params()
        sql = f"SELECT COUNT(*) FROM (SELECT 1 FROM {table} t WHERE t.id > {p.add(st.watermark)}"
        if st.gaps:
            sql += f" OR {_in_gaps('t', st.gaps, p)}"
        sql += f" LIMIT {int(limit) + 1}) x"
        [(n,)] = _fetch(sql, p.values)
        total += int(n)
    return total


def catch_up(limit: int | None = None) -> dict[str, SummaryState] | None:
    """The summary states after adding the few rows not read yet; None when the summaries cannot
    answer (switched off, never built, or more than ``limit`` rows behind: the refresh task will
    catch up, meanwhile reports are live)."""
    if not _enabled():
        return None
    limit = limit if limit is not None else getattr(settings, "WUYE_REPORT_CATCH_UP_ROWS", 200_000)
    pending = pending_rows(limit)
    if pending is None or pending > limit:
        return None
    if pending or stewards_moved():
        refresh(new_day=False)
    return _states()


# --- report queries over the summaries -------------------------------------------------------------

GROUP_EXPR = {
    "company": "0",
    "project": "f.project_id",
    "building": "f.building_id",
    "steward": "COALESCE(bd.steward_id, 0)",
    "team": "tm.team_id",
    "fee_item": "f.fee_item_id",
}


def _group_join(group_by: str, scope: ReportScope | None = None) -> str:
    """The building (and team) join, only when the group or the scope needs the steward."""
    needs = group_by in ("steward", "team") or (
        scope is not None and (scope.steward_id is not None or scope.team_id is not None)
    )
    if not needs:
        return ""
    join = f" JOIN {T_BUILDING} bd ON bd.id = f.building_id"
    if group_by == "team":
        join += f" JOIN ({team_members_sql()}) tm ON tm.user_id = bd.steward_id"
    return join


def _scope(scope: ReportScope, p: _Params, alias: str = "f") -> str:
    return scope_sql(
        scope,
        p,
        project=f"{alias}.project_id",
        building=f"{alias}.building_id",
        steward="bd.steward_id",
        fee_item=f"{alias}.fee_item_id",
    )


def _by_steward(scope: ReportScope, group_by: str) -> bool:
    """Whether StewardFact answers: it has no buildings, but every other group and scope."""
    return (
        group_by != "building" and scope.building_ids is None and _rollup(STEWARD_STATE) is not None
    )


def _facts_from(scope: ReportScope, group_by: str, p: _Params, by_steward: bool) -> tuple[str, str]:
    """(FROM … with joins, WHERE of the scope) over the fact table that answers, alias ``f``."""
    if not by_steward:
        return f"{T_FACT} f{_group_join(group_by, scope)}", _scope(scope, p)
    join = ""
    if group_by == "team":
        join = f" JOIN ({team_members_sql()}) tm ON tm.user_id = f.steward_id"
    where = scope_sql(
        scope,
        p,
        project="f.project_id",
        building="NULL",
        steward="f.steward_id",
        fee_item="f.fee_item_id",
    )
    return f"{T_SFACT} f{join}", where


def _fact_group(group_by: str, by_steward: bool) -> str:
    if by_steward and group_by == "steward":
        return "f.steward_id"
    return GROUP_EXPR[group_by]


def _debt_ready(
    scope: ReportScope, as_of: datetime.date, group_by: str = "company"
) -> RollupState | None:
    """AccountDebt's state when it answers for this date (it was computed for it) and question (it
    has no fee items); else None."""
    if scope.fee_item_ids is not None or group_by == "fee_item":
        return None
    state = _rollup(DEBT_STATE)
    return state if state is not None and state.as_of == as_of else None


def _month_first(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def _add(target: dict, key: Any, values: dict) -> None:
    row = target.setdefault(key, {})
    for name, value in values.items():
        row[name] = (row.get(name) or 0) + (value or 0)


# Groups a building belongs to exactly one of: their sums add up from the building's.
ROLL_UP = ("company", "project", "building", "steward")


def rates(
    scope: ReportScope,
    window: Window,
    as_of: datetime.date,
    group_by: str,
    *,
    households: bool = True,
) -> dict[Any, dict[str, Any]] | None:
    """The sums behind RateRows (in fen, as ``selectors._rates_live``), from the summaries.

    ``households=False`` leaves the household counts out (n and clear stay 0)."""
    many = rates_many(scope, window, as_of, {group_by: households})
    return None if many is None else many[group_by]


def rates_many(
    scope: ReportScope, window: Window, as_of: datetime.date, wanted: dict[str, bool]
) -> dict[str, dict[Any, dict[str, Any]]] | None:
    """``rates`` for several groups at once (``wanted``: group → with households). Groups of
    ROLL_UP share ONE pass over the facts, added up here per group: over StewardFact grouped by
    project and steward when no building is asked about, else over BillFact grouped by building (a
    building has one project and one steward). Households are counted per group (accounts do not add
    up)."""
    states = catch_up()
    if states is None:
        return None
    rolled = [g for g in wanted if g in ROLL_UP]
    out: dict[str, dict[Any, dict[str, Any]]] = {}
    if len(rolled) > 1:
        if "building" not in rolled and _by_steward(scope, "steward"):
            passed = _fact_sums(scope, window, as_of, "pair", by_steward=True)

            def owner(key, group_by):
                project, steward = key
                return {"company": 0, "project": project, "steward": steward}[group_by]
        else:
            passed = _fact_sums(scope, window, as_of, "building", by_steward=False)
            owners = _building_owners(scope)

            def owner(key, group_by):
                return owners[key][group_by]

        for group_by in rolled:
            target: dict[Any, dict[str, Any]] = {}
            for key, sums in passed.items():
                _add(target, owner(key, group_by), sums)
            _corrections(target, states, scope, window, as_of, group_by)
            out[group_by] = target
    for group_by in wanted:
        if group_by not in out:
            out[group_by] = _money_sums(states, scope, window, as_of, group_by)
    for group_by, households in wanted.items():
        if households:
            _households(out[group_by], states, scope, window, as_of, group_by)
    return {g: out[g] for g in wanted}


def _building_owners(scope: ReportScope) -> dict[int, dict[str, Any]]:
    """Per building of the scope's projects its key in each ROLL_UP group (as GROUP_EXPR gives it)."""
    p = _Params()
    sql = (
        f"SELECT id, project_id, COALESCE(steward_id, 0) FROM {T_BUILDING}"
        f" WHERE project_id IN {p.in_list(scope.project_ids or (0,))}"
    )
    return {
        b: {"company": 0, "project": project, "building": b, "steward": steward}
        for b, project, steward in _fetch(sql, p.values)
    }


def _money_sums(
    states: dict[str, SummaryState],
    scope: ReportScope,
    window: Window,
    as_of: datetime.date,
    group_by: str,
) -> dict[Any, dict[str, Any]]:
    """The money sums of ``rates`` per group (no household counts)."""
    out = _fact_sums(scope, window, as_of, group_by, by_steward=_by_steward(scope, group_by))
    _corrections(out, states, scope, window, as_of, group_by)
    return out


def _corrections(out, states, scope, window, as_of, group_by) -> None:
    _partial_months(out, states, scope, window, as_of, group_by)
    _irregular_opening(out, states, scope, window, group_by)


def _fact_sums(
    scope: ReportScope, window: Window, as_of: datetime.date, group_by: str, *, by_steward: bool
) -> dict[Any, dict[str, Any]]:
    """The sums of the fact rows of ``rates`` per group, before the live corrections. ``group_by``
    "pair" (StewardFact only) keys them by (project, steward)."""
    a_day, ws, we = as_of, window.start, window.end
    o_day = ws - datetime.timedelta(days=1)
    r_day = min(we, a_day)
    with_recovery = r_day >= ws
    p = _Params()
    pa, po, pr = (
        p.add(_month_first(x), n) for x, n in ((a_day, "mA"), (o_day, "mO"), (r_day, "mR"))
    )
    pws, pwe = p.add(ws, "ws"), p.add(we, "we")
    cur = f"(f.period_start >= {pws} AND f.period_start <= {pwe})"
    old = f"f.due_date < {pws}"
    adj_a = f"CASE WHEN f.event_month <= {pa} THEN f.adjusted_fen ELSE 0 END"
    rec_a = f"CASE WHEN f.event_month <= {pa} THEN f.received_fen ELSE 0 END"
    adj_o = f"CASE WHEN f.event_month <= {po} THEN f.adjusted_fen ELSE 0 END"
    rec_o = f"CASE WHEN f.event_month <= {po} THEN f.received_fen ELSE 0 END"
    rec_r = f"CASE WHEN f.event_month <= {pr} THEN f.received_fen ELSE 0 END"
    recovered = f"{rec_r} - ({rec_o})" if with_recovery else "0"
    if group_by == "pair":
        keys, group = "f.project_id, f.steward_id", "f.project_id, f.steward_id"
    else:
        keys = _fact_group(group_by, by_steward)
        # By building: grouped in the order of the facts' unique key (project, building, …) the
        # rows come off that index already in groups, without sorting them first (half the time on
        # SQLite). A building has one project, and rows of one key would add up below anyway.
        group = "f.project_id, f.building_id" if group_by == "building" else "1"
    source, where = _facts_from(scope, "company" if group_by == "pair" else group_by, p, by_steward)
    sql = f"""
      SELECT {keys},
        SUM(CASE WHEN f.kind = 'charge' AND {cur} THEN f.billed_fen - {adj_a} ELSE 0 END),
        SUM(CASE WHEN f.kind = 'charge' AND {cur} THEN {rec_a} ELSE 0 END),
        SUM(CASE WHEN f.kind = 'charge' AND {old}
                 THEN f.billed_fen - ({adj_o}) - ({rec_o}) ELSE 0 END),
        SUM(CASE WHEN f.kind = 'charge' AND {old} THEN {recovered} ELSE 0 END),
        SUM(CASE WHEN f.kind = 'late_fee' AND {cur} THEN f.billed_fen - {adj_a} ELSE 0 END),
        SUM(CASE WHEN f.kind = 'late_fee' AND {cur} THEN {rec_a} ELSE 0 END)
      FROM {source}
      WHERE {where} AND ({cur} OR {old})
      GROUP BY {group}
    """
    width = 2 if group_by == "pair" else 1
    out: dict[Any, dict[str, Any]] = {}
    for row in _fetch(sql, p.values):
        g = tuple(row[:width]) if width == 2 else row[0]
        cb, cr, oa, rec, lb, lr = row[width:]
        _add(out, g, {"cb": cb, "cr": cr, "oa": oa, "rec": rec, "lb": lb, "lr": lr})
    return out


def _day(value: Any) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value)[:10])


def trend(
    scope: ReportScope, months: int, as_of: datetime.date, *, households: bool = True
) -> list[tuple[datetime.date, dict[str, Any]]] | None:
    """``rate_trend``'s company sums for each month, in few statements: one pass over BillFact by
    (kind, period month, due month, entry month) — every month's window starts on the 1st and its
    report date is the month's end (or ``as_of``), so month keys are exact — then the irregular-bill
    and partial-month corrections, and (unless ``households=False``) the households of all months
    in two statements."""
    states = catch_up()
    if states is None:
        return None
    firsts = [live._months_back(as_of, back) for back in range(months - 1, -1, -1)]
    p = _Params()
    source, where = _facts_from(scope, "company", p, _by_steward(scope, "company"))
    sql = f"""
      SELECT f.kind, {_month("f.period_start")}, {_month("f.due_date")}, f.event_month,
        SUM(f.billed_fen), SUM(f.adjusted_fen), SUM(f.received_fen)
      FROM {source}
      WHERE {where}
      GROUP BY 1, 2, 3, 4
    """
    cells = [
        (kind, _day(pm), _day(dm), _day(em), int(b or 0), int(a or 0), int(r or 0))
        for kind, pm, dm, em, b, a, r in _fetch(sql, p.values)
    ]
    opening_fix = _trend_irregular_opening(scope, firsts)
    out: list[tuple[datetime.date, dict[str, Any]]] = []
    for first in firsts:
        prev = live._months_back(first, 1)
        sums = {"cb": 0, "cr": 0, "oa": 0, "rec": 0, "lb": 0, "lr": 0}
        # A Python pass over a few thousand month cells (not over bills).
        for kind, pm, dm, em, billed, adjusted, received in cells:
            if pm == first:
                to_date = em <= first
                net = billed - (adjusted if to_date else 0)
                got = received if to_date else 0
                if kind == "charge":
                    sums["cb"] += net
                    sums["cr"] += got
                else:
                    sums["lb"] += net
                    sums["lr"] += got
            if kind == "charge" and dm < first:
                before = em <= prev
                sums["oa"] += billed - (adjusted + received if before else 0)
                sums["rec"] += (received if em <= first else 0) - (received if before else 0)
        window = Window(first, month_end(first))
        report_day = min(window.end, as_of)
        by_group = {0: sums}
        _partial_months(by_group, states, scope, window, report_day, "company")
        if opening_fix.get(first):
            _add(by_group, 0, {"oa": opening_fix[first]})
        out.append((first, by_group[0]))
    if households:
        _trend_households(out, states, scope, as_of)
    return out


def _months_cte(p: _Params, columns: tuple[str, ...], rows: list[tuple[datetime.date, ...]]) -> str:
    """``months (columns…) AS (VALUES …)``: one row of dates per month, as parameters."""
    values = ", ".join("(" + ", ".join(p.add(d) for d in row) + ")" for row in rows)
    names = ", ".join(columns)
    if not _pg():
        return f"months ({names}) AS (VALUES {values})"
    # VALUES of parameters: PostgreSQL wants the types.
    aliases = [f"v{i}" for i in range(len(columns))]
    casts = ", ".join(f"CAST(v.{a} AS date)" for a in aliases)
    return f"months ({names}) AS (SELECT {casts} FROM (VALUES {values}) v ({', '.join(aliases)}))"


def _trend_irregular_opening(scope: ReportScope, firsts: list[datetime.date]) -> dict:
    """``_irregular_opening`` of every month of the trend in one statement (the company group):
    month's first day → the negative parts of its irregular bills' outstanding on the day before."""
    p = _Params()
    months = _months_cte(p, ("mf", "md"), [(f, f - datetime.timedelta(days=1)) for f in firsts])
    if _rollup(SPELL_STATE) is not None:
        sql = f"""
          WITH {months}
          SELECT m.mf, SUM(s.owed_fen)
          FROM {T_SPELL} s CROSS JOIN months m CROSS JOIN {T_BILL} b
            JOIN {T_ROOM} r ON r.id = b.room_id JOIN {T_BUILDING} bd ON bd.id = r.building_id
          WHERE {_on_day("s", "m.md")} AND b.id = s.bill_id AND b.due_date < m.mf
            AND b.kind = 'charge' AND {scope_sql(scope, p)}
          GROUP BY m.mf
        """
        return {_day(mf): int(fix or 0) for mf, fix in _fetch(sql, p.values)}
    sql = f"""
      WITH {months},
      ib AS (
        SELECT b.id AS bill_id, b.due_date FROM {T_IRREG} i JOIN {T_BILL} b ON b.id = i.bill_id
          JOIN {T_ROOM} r ON r.id = b.room_id JOIN {T_BUILDING} bd ON bd.id = r.building_id
        WHERE b.kind = 'charge' AND {scope_sql(scope, p)}
      )
      SELECT mf, SUM(CASE WHEN o < 0 THEN -o ELSE 0 END) FROM (
        SELECT mf, bill_id, SUM(o) AS o FROM (
          SELECT m.mf, ib.bill_id, ob.outstanding_fen AS o
          FROM months m JOIN ib ON ib.due_date < m.mf JOIN {T_OPEN} ob ON ob.bill_id = ib.bill_id
          UNION ALL
          SELECT m.mf, ib.bill_id, le.amount_fen
          FROM months m JOIN ib ON ib.due_date < m.mf
            JOIN {T_LATE} le ON le.bill_id = ib.bill_id AND le.effective_date > m.md
        ) u GROUP BY mf, bill_id
      ) x GROUP BY mf
    """
    return {_day(mf): int(fix or 0) for mf, fix in _fetch(sql, p.values)}


def _trend_households(out, states, scope: ReportScope, as_of: datetime.date) -> None:
    p = _Params()
    months_cte = _months_cte(
        p,
        ("mf", "me", "ma"),
        [(f, month_end(f), min(month_end(f), as_of)) for f, _ in out],
    )
    other = (
        f"EXISTS (SELECT 1 FROM {T_BILL} b WHERE b.account_id = f.account_id"
        f" AND b.fee_item_id = f.fee_item_id AND b.kind = 'charge'"
        f" AND b.period_start >= m.mf AND b.period_start <= m.me"
        f" AND {summarised('b', states['bill'], p)})"
    )
    # Accounts with one monthly span (nearly all) are counted from a histogram of (first, last)
    # periods; the others — several fee items, or not monthly — one by one.
    # An anti/outer join, not NOT IN (…): PostgreSQL re-reads a NOT IN list too big for work_mem
    # once per row (55 s at 1,000,000 accounts).
    multi = (
        f" LEFT JOIN (SELECT account_id FROM {T_SPAN} GROUP BY account_id HAVING COUNT(*) > 1) mu"
        f" ON mu.account_id = f.account_id"
    )
    spans = f"{T_SPAN} f{_group_join('company', scope)}{multi}"
    sql = f"""
      SELECT f.first_period, f.last_period, COUNT(*) FROM {spans}
      WHERE f.monthly AND {_scope(scope, p)} AND mu.account_id IS NULL
      GROUP BY 1, 2
    """
    histogram = [(_day(a), _day(b), int(n)) for a, b, n in _fetch(sql, p.values)]
    # The few other spans first, then their months (not every span times every month).
    sql = f"""
      WITH {months_cte},
      odd AS MATERIALIZED (
        SELECT f.account_id, f.fee_item_id, f.first_period, f.last_period, f.monthly
        FROM {spans}
        WHERE {_scope(scope, p)} AND (NOT f.monthly OR mu.account_id IS NOT NULL)
      )
      SELECT m.mf, COUNT(DISTINCT f.account_id)
      FROM odd f JOIN months m ON f.first_period <= m.me AND f.last_period >= m.mf
      WHERE f.monthly OR {other}
      GROUP BY m.mf
    """
    billed = {_day(k): int(n) for k, n in _fetch(sql, p.values)}
    for first, _ in out:  # a pass over the histogram's cells (at most months², not accounts)
        end = month_end(first)
        billed[first] = billed.get(first, 0) + sum(
            n for a, b, n in histogram if a <= end and b >= first
        )
    projects = p.in_list(scope.project_ids or (0,))
    cols = "x.bill_id, x.account_id, x.project_id, x.building_id, x.fee_item_id"
    # A regular bill (not in IrregularBill) never owes less than nothing and its entries are
    # positive, so it owes on a day iff it owes now or has a late entry dated after the day: its
    # account is counted straight from either row. Irregular bills are summed one by one.
    regular = f"x.bill_id NOT IN (SELECT bill_id FROM {T_IRREG})"
    irregular = f"x.bill_id IN (SELECT bill_id FROM {T_IRREG})"
    # Each row's month and report day from its own period (no join: one index range scan).
    last_first = p.add(out[-1][0], "t_last")
    from_, to = p.add(out[0][0], "t_from"), p.add(month_end(out[-1][0]), "t_to")
    if _pg():
        month_end_sql = (
            "CAST(date_trunc('month', x.period_start) + interval '1 month - 1 day' AS date)"
        )
    else:
        month_end_sql = "date(x.period_start, 'start of month', '+1 month', '-1 day')"
    mf = _month("x.period_start")
    ma = f"(CASE WHEN {mf} = {last_first} THEN {p.add(as_of, 't_asof')} ELSE {month_end_sql} END)"
    open_rows = (
        f"FROM {T_OPEN} x WHERE x.period_start >= {from_} AND x.period_start <= {to}"
        f" AND x.kind = 'charge' AND x.due_date <= {ma} AND x.project_id IN {projects}"
    )
    late_rows = (
        f"FROM {T_LATE} x WHERE x.period_start >= {from_} AND x.period_start <= {to}"
        f" AND x.kind = 'charge' AND x.due_date <= {ma} AND x.effective_date > {ma}"
        f" AND x.project_id IN {projects}"
    )
    sql = f"""
      WITH owing AS (
        SELECT {mf} AS mf, {cols} {open_rows} AND x.outstanding_fen > 0 AND {regular}
        UNION ALL
        SELECT {mf}, {cols} {late_rows} AND {regular}
        UNION ALL
        SELECT mf, bill_id, account_id, project_id, building_id, fee_item_id FROM (
          SELECT mf, bill_id, account_id, project_id, building_id, fee_item_id, SUM(o) AS o FROM (
            SELECT {mf} AS mf, {cols}, x.outstanding_fen AS o {open_rows} AND {irregular}
            UNION ALL
            SELECT {mf}, {cols}, x.amount_fen {late_rows} AND {irregular}
          ) u GROUP BY mf, bill_id, account_id, project_id, building_id, fee_item_id
        ) v WHERE o > 0
      )
      SELECT f.mf, COUNT(DISTINCT f.account_id) FROM owing f{_group_join("company", scope)}
      WHERE {_scope(scope, p)}
      GROUP BY f.mf
    """
    behind = {_day(k): int(n) for k, n in _fetch(sql, p.values)}
    for first, sums in out:
        n = billed.get(first, 0)
        sums["n"], sums["clear"] = n, n - behind.get(first, 0)


def _partial_months(out, states, scope, window, as_of, group_by) -> None:
    """Entries dated after a report date but inside its month are in that month's facts: take them
    back out (live, over the effective-date index; nothing to do for dates at a month's end)."""
    a_day, ws, we = as_of, window.start, window.end
    o_day = ws - datetime.timedelta(days=1)
    r_day = min(we, a_day)
    p = _Params()
    ranges, names = [], {}
    for name, x in (("A", a_day), ("O", o_day), ("R", r_day if r_day >= ws else None)):
        if x is None or x == month_end(x):
            continue
        lo, hi = p.add(x, f"x{name}"), p.add(month_end(x), f"e{name}")
        names[name] = f"(e.eff > {lo} AND e.eff <= {hi})"
        ranges.append(names[name])
    if not ranges:
        return
    pws, pwe = p.add(ws, "ws"), p.add(we, "we")
    events = " UNION ALL ".join(
        f"SELECT '{tag}' AS src, e.bill_id, e.effective_date AS eff, {_cents('e.amount')} AS amt"
        f" FROM {SOURCES[source]} e WHERE {summarised('e', states[source], p)}"
        f" AND ({' OR '.join(r.replace('e.eff', 'e.effective_date') for r in ranges)})"
        for tag, source in (("a", "adjustment"), ("r", "allocation"))
    )

    def in_range(name: str) -> str:
        return names.get(name, "1 = 0")

    cur = f"(b.period_start >= {pws} AND b.period_start <= {pwe})"
    old = f"b.due_date < {pws}"
    sql = f"""
      SELECT {live.GROUP_EXPR[group_by]} AS g,
        SUM(CASE WHEN e.src = 'a' AND b.kind = 'charge' AND {cur} AND {in_range("A")} THEN e.amt ELSE 0 END),
        SUM(CASE WHEN e.src = 'r' AND b.kind = 'charge' AND {cur} AND {in_range("A")} THEN e.amt ELSE 0 END),
        SUM(CASE WHEN b.kind = 'charge' AND {old} AND {in_range("O")} THEN e.amt ELSE 0 END),
        SUM(CASE WHEN e.src = 'r' AND b.kind = 'charge' AND {old} AND {in_range("O")} THEN e.amt ELSE 0 END),
        SUM(CASE WHEN e.src = 'r' AND b.kind = 'charge' AND {old} AND {in_range("R")} THEN e.amt ELSE 0 END),
        SUM(CASE WHEN e.src = 'a' AND b.kind = 'late_fee' AND {cur} AND {in_range("A")} THEN e.amt ELSE 0 END),
        SUM(CASE WHEN e.src = 'r' AND b.kind = 'late_fee' AND {cur} AND {in_range("A")} THEN e.amt ELSE 0 END)
      FROM ({events}) e JOIN {T_BILL} b ON b.id = e.bill_id JOIN {T_ROOM} r ON r.id = b.room_id
        JOIN {T_BUILDING} bd ON bd.id = r.building_id{live._group_join(group_by)}
      WHERE {scope_sql(scope, p)} AND ({cur} OR {old})
      GROUP BY 1
    """
    for g, adj_a, rec_a, both_o, rec_o, rec_r, ladj_a, lrec_a in _fetch(sql, p.values):
        if r_day < ws:  # no recovery window yet: nothing recovered to correct
            rec_o = rec_r = 0
        _add(
            out,
            g,
            {
                "cb": adj_a or 0,
                "cr": -(rec_a or 0),
                "oa": both_o or 0,
                "rec": (rec_o or 0) - (rec_r or 0),
                "lb": ladj_a or 0,
                "lr": -(lrec_a or 0),
            },
        )


def _bill_outstanding_on(day_param: str, states, p: _Params, bills_sql: str) -> str:
    """Per bill of ``bills_sql`` (a SELECT of bill ids, each due on or before the day): its
    outstanding on the day = outstanding now + Σ its late entries dated after the day."""
    return f"""
      SELECT u.bill_id, SUM(u.o) AS o FROM (
        SELECT ob.bill_id, ob.outstanding_fen AS o FROM {T_OPEN} ob WHERE ob.bill_id IN ({bills_sql})
        UNION ALL
        SELECT le.bill_id, le.amount_fen FROM {T_LATE} le
        WHERE le.effective_date > {day_param} AND le.bill_id IN ({bills_sql})
      ) u GROUP BY u.bill_id
    """


def _irregular_opening(out, states, scope, window, group_by) -> None:
    """Opening arrears count each bill's positive part only: the signed fact sums are right for every
    bill but the irregular ones, which are corrected here — from their spells below zero when those
    are kept, else one by one."""
    if _rollup(SPELL_STATE) is not None:
        _spell_opening(out, scope, window, group_by)
        return
    p = _Params()
    pws = p.add(window.start, "ws")
    day = p.add(window.start - datetime.timedelta(days=1), "O")
    bills = (
        f"SELECT b.id FROM {T_IRREG} ib JOIN {T_BILL} b ON b.id = ib.bill_id"
        f" WHERE b.kind = 'charge' AND b.due_date < {pws}"
    )
    sql = f"""
      SELECT {live.GROUP_EXPR[group_by]} AS g, SUM(CASE WHEN x.o < 0 THEN -x.o ELSE 0 END)
      FROM ({_bill_outstanding_on(day, states, p, bills)}) x JOIN {T_BILL} b ON b.id = x.bill_id
        JOIN {T_ROOM} r ON r.id = b.room_id JOIN {T_BUILDING} bd ON bd.id = r.building_id
        {live._group_join(group_by)}
      WHERE {scope_sql(scope, p)}
      GROUP BY 1
    """
    for g, fix in _fetch(sql, p.values):
        if fix:
            _add(out, g, {"oa": fix})


def _on_day(alias: str, day: str) -> str:
    return f"{alias}.starts <= {day} AND ({alias}.ends IS NULL OR {alias}.ends > {day})"


def _spell_opening(out, scope, window, group_by) -> None:
    # CROSS JOIN: SQLite then reads the few spells first and looks their bills up, instead of
    # scanning the bills (PostgreSQL plans both the same).
    p = _Params()
    pws = p.add(window.start, "ws")
    day = p.add(window.start - datetime.timedelta(days=1), "O")
    sql = f"""
      SELECT {live.GROUP_EXPR[group_by]} AS g, SUM(s.owed_fen)
      FROM {T_SPELL} s CROSS JOIN {T_BILL} b JOIN {T_ROOM} r ON r.id = b.room_id
        JOIN {T_BUILDING} bd ON bd.id = r.building_id{live._group_join(group_by)}
      WHERE {_on_day("s", day)} AND b.id = s.bill_id AND b.kind = 'charge' AND b.due_date < {pws}
        AND {scope_sql(scope, p)}
      GROUP BY 1
    """
    for g, fix in _fetch(sql, p.values):
        if fix:
            _add(out, g, {"oa": fix})


def _late_after(day: datetime.date) -> bool:
    """Whether any late entry is dated after ``day`` (else outstanding now = outstanding then)."""
    rows = _fetch(f"SELECT 1 FROM {T_LATE} WHERE effective_date > %(d)s LIMIT 1", {"d": day})
    return bool(rows)


def _overdue_on(
    day: datetime.date, p: _Params, where: str, *, strict: bool, any_due: bool = False
) -> str:
    """Rows (bill_id, account_id, project_id, building_id, fee_item_id, kind, developer, due_date,
    period_start, o) of bills matching ``where`` (over alias ``x``), due before (``strict``) or on
    ``day`` (whenever due, with ``any_due``), with outstanding(day) > 0."""
    d = p.add(day, "od_day")
    due = "1 = 1" if any_due else f"x.due_date {'<' if strict else '<='} {d}"
    cols = "bill_id, account_id, project_id, building_id, fee_item_id, kind, developer, due_date, period_start"
    if not _late_after(day):
        return (
            f"SELECT {cols}, outstanding_fen AS o FROM {T_OPEN} x"
            f" WHERE {due} AND {where} AND x.outstanding_fen > 0"
        )
    return f"""
      SELECT {cols}, o FROM (
        SELECT {cols}, SUM(o) AS o FROM (
          SELECT {cols}, x.outstanding_fen AS o FROM {T_OPEN} x WHERE {due} AND {where}
          UNION ALL
          SELECT {cols}, x.amount_fen FROM {T_LATE} x WHERE x.effective_date > {d} AND {due} AND {where}
        ) u GROUP BY {cols}
      ) v WHERE o > 0
    """


def _households(out, states, scope, window, as_of, group_by) -> None:
    p = _Params()
    ws, we = window.start, window.end
    first = ws if ws.day == 1 else month_end(ws) + datetime.timedelta(days=1)
    pws, pwe, pfirst = p.add(ws, "ws"), p.add(we, "we"), p.add(first, "first")
    monthly = f"(f.first_period <= {pwe} AND f.last_period >= {pfirst} AND {pfirst} <= {pwe})"
    other = (
        f"EXISTS (SELECT 1 FROM {T_BILL} b WHERE b.account_id = f.account_id"
        f" AND b.fee_item_id = f.fee_item_id AND b.kind = 'charge'"
        f" AND b.period_start >= {pws} AND b.period_start <= {pwe}"
        f" AND {summarised('b', states['bill'], p)})"
    )
    sql = f"""
      SELECT {GROUP_EXPR[group_by]} AS g, COUNT(DISTINCT f.account_id)
      FROM {T_SPAN} f{_group_join(group_by, scope)}
      WHERE {_scope(scope, p)} AND f.first_period <= {pwe} AND f.last_period >= {pws}
        AND ((f.monthly AND {monthly}) OR (NOT f.monthly AND {other}))
      GROUP BY 1
    """
    billed = dict(_fetch(sql, p.values))
    behind = _behind_from_debt(scope, window, as_of, group_by)
    if behind is None:
        behind = _behind_from_open_bills(scope, window, as_of, group_by)
    # Owing anything (due or not) differs from behind only through window bills not yet due that
    # are unpaid on as_of: none (most reports, and every day after the window's last due date) —
    # the same count, no second pass over the open bills.
    owing = behind
    if _owing_not_yet_due(scope, window, as_of):
        owing = _behind_from_open_bills(scope, window, as_of, group_by, any_due=True)
    for g, n in billed.items():
        _add(out, g, {"n": n, "clear": n - behind.get(g, 0), "paid": n - owing.get(g, 0)})


def _behind_from_debt(scope, window, as_of, group_by) -> dict | None:
    """Accounts with principal overdue on the window's bills, from AccountDebt: an account owes on a
    bill of the window iff the first or the last period it owes on lies in the window — unless it
    owes on periods both before and after the window; with such an account in scope (a bill billed
    ahead of its period), None: the open bills answer."""
    if not _debt_ready(scope, as_of, group_by):
        return None
    p = _Params()
    ws, we = p.add(window.start, "ws"), p.add(window.end, "we")
    source = f"{T_DEBT} f{_group_join(group_by, scope)}"
    where = f"{_scope(scope, p)} AND f.first_period IS NOT NULL"
    straddle = f"SELECT 1 FROM {source} WHERE {where} AND f.first_period < {ws} AND f.last_period > {we} LIMIT 1"
    if _fetch(straddle, p.values):
        return None
    sql = f"""
      SELECT {GROUP_EXPR[group_by]} AS g, COUNT(DISTINCT f.account_id) FROM {source}
      WHERE {where} AND f.last_period >= {ws} AND f.first_period <= {we}
      GROUP BY 1
    """
    return dict(_fetch(sql, p.values))


def _owing_not_yet_due(scope, window, as_of) -> bool:
    """Whether any charge bill of the window in the scope's projects, due after ``as_of``, was
    unpaid on ``as_of`` (an index range over the open bills' period and due date)."""
    q = _Params()
    where = (
        f"x.kind = 'charge' AND x.period_start >= {q.add(window.start, 'ws')}"
        f" AND x.period_start <= {q.add(window.end, 'we')}"
        f" AND x.due_date > {q.add(as_of, 'nd')}"
        f" AND x.project_id IN {q.in_list(scope.project_ids or (0,))}"
    )
    rows = _overdue_on(as_of, q, where, strict=False, any_due=True)
    return bool(_fetch(f"SELECT 1 FROM ({rows}) z LIMIT 1", q.values))  # noqa: S608


def _behind_from_open_bills(scope, window, as_of, group_by, *, any_due: bool = False) -> dict:
    """Accounts per group owing on the window's bills on ``as_of``: bills due by then, or (with
    ``any_due``) any of them — those that have not paid everything billed."""
    ws, we = window.start, window.end
    q = _Params()
    where = (
        f"x.kind = 'charge' AND x.period_start >= {q.add(ws, 'ws')}"
        f" AND x.period_start <= {q.add(we, 'we')}"
        f" AND x.project_id IN {q.in_list(scope.project_ids or (0,))}"
    )
    overdue = _overdue_on(as_of, q, where, strict=False, any_due=any_due)
    sql = f"""
      SELECT {GROUP_EXPR[group_by]} AS g, COUNT(DISTINCT f.account_id)
      FROM ({overdue}) f{_group_join(group_by, scope)}
      WHERE {_scope(scope, q)}
      GROUP BY 1
    """
    return dict(_fetch(sql, q.values))


def aging(
    scope: ReportScope, as_of: datetime.date, group_by: str, split_developer: bool
) -> list[tuple] | None:
    """Rows (g, dev, bucket, fen, accounts) as ``selectors._aging_live``, from the summaries."""
    if catch_up() is None:
        return None
    debt = _debt_ready(scope, as_of, group_by)
    if debt is not None:
        return _aging_from_debt(scope, group_by, split_developer, debt.shared_accounts)
    p = _Params()
    where = f"x.kind = 'charge' AND x.project_id IN {p.in_list(scope.project_ids or (0,))}"
    overdue = _overdue_on(as_of, p, where, strict=True)
    dev = "CASE WHEN f.developer THEN 1 ELSE 0 END" if split_developer else "NULL"
    sql = f"""
      WITH ob AS MATERIALIZED (
        SELECT {GROUP_EXPR[group_by]} AS g, {dev} AS dev, f.account_id AS acc,
          {bucket_case("f.due_date", p, as_of)} AS bucket, f.o AS o
        FROM ({overdue}) f{_group_join(group_by, scope)}
        WHERE {_scope(scope, p)}
      )
      SELECT g, dev, bucket, SUM(o), COUNT(DISTINCT acc) FROM ob GROUP BY g, dev, bucket
      UNION ALL
      SELECT g, dev, -1, SUM(o), COUNT(DISTINCT acc) FROM ob GROUP BY g, dev
    """
    return _fetch(sql, p.values)


def _aging_from_debt(
    scope: ReportScope, group_by: str, split_developer: bool, shared_accounts: int
) -> list[tuple]:
    """``aging`` from AccountDebt: one row per debtor and building, added up per group (an account
    counts once per bucket of a group: its rows are added up first when it has several)."""
    p = _Params()
    dev = "CASE WHEN f.developer THEN 1 ELSE 0 END" if split_developer else "NULL"
    per_group = ", ".join(f"SUM(o{n}), SUM(CASE WHEN o{n} > 0 THEN 1 ELSE 0 END)" for n in range(6))
    # Without accounts spread over buildings (nearly always) an account is one row of a group.
    one_row = group_by == "building" or not shared_accounts
    add = "" if one_row else "SUM"
    columns = ", ".join(f"{add}(f.b{n}_fen) AS o{n}" for n in range(6))
    sql = f"""
      SELECT g, dev, {per_group}, SUM(t), COUNT(*) FROM (
        SELECT {GROUP_EXPR[group_by]} AS g, {dev} AS dev, f.account_id, {columns},
          {add}(f.principal_fen) AS t
        FROM {T_DEBT} f{_group_join(group_by, scope)}
        WHERE {_scope(scope, p)} AND f.principal_fen > 0{"" if one_row else " GROUP BY 1, 2, 3"}
      ) d GROUP BY g, dev
    """
    rows = []
    for g, dev, *figures in _fetch(sql, p.values):
        for n in range(6):
            fen, accounts = figures[2 * n], figures[2 * n + 1]
            if accounts:
                rows.append((g, dev, n, fen, accounts))
        rows.append((g, dev, -1, figures[12], figures[13]))
    return rows


def overdue_bills_sql(scope: ReportScope, as_of: datetime.date, p: _Params) -> str | None:
    """Rows (acc, o) of principal bills due before ``as_of`` still owing then, from the summaries
    (from AccountDebt: one row per account and building)."""
    if catch_up() is None:
        return None
    if _debt_ready(scope, as_of):
        return (
            f"SELECT f.account_id AS acc, f.principal_fen AS o FROM {T_DEBT} f"
            f"{_group_join('company', scope)} WHERE {_scope(scope, p)} AND f.principal_fen > 0"
        )
    where = f"x.kind = 'charge' AND x.project_id IN {p.in_list(scope.project_ids or (0,))}"
    overdue = _overdue_on(as_of, p, where, strict=True)
    return (
        f"SELECT f.account_id AS acc, f.o AS o FROM ({overdue}) f"
        f"{_group_join('company', scope)} WHERE {_scope(scope, p)}"
    )


def debtors(scope: ReportScope, as_of: datetime.date, limit: int | None) -> list[tuple] | None:
    """Rows (account, fen, oldest due, late-fee fen, bills) as ``selectors._debtors_live``."""
    if catch_up() is None:
        return None
    if _debt_ready(scope, as_of):
        return _debtors_from_debt(scope, limit)
    p = _Params()
    where = f"x.project_id IN {p.in_list(scope.project_ids or (0,))}"
    overdue = _overdue_on(as_of, p, where, strict=False)
    d = p.add(as_of, "asof")
    limit_sql = f" LIMIT {int(limit)}" if limit else ""
    sql = f"""
      WITH ob AS (
        SELECT f.* FROM ({overdue}) f{_group_join("company", scope)}
        WHERE {_scope(scope, p)}
      ),
      debt AS (
        SELECT account_id AS acc, SUM(o) AS o, MIN(due_date) AS oldest, COUNT(*) AS n FROM ob
        WHERE kind = 'charge' AND due_date < {d} GROUP BY account_id
      ),
      lf AS (
        SELECT account_id AS acc, SUM(o) AS o FROM ob WHERE kind = 'late_fee' GROUP BY account_id
      )
      SELECT debt.acc, debt.o, debt.oldest, COALESCE(lf.o, 0), debt.n
      FROM debt LEFT JOIN lf ON lf.acc = debt.acc
      ORDER BY debt.o DESC, debt.oldest, debt.acc{limit_sql}
    """
    return _fetch(sql, p.values)


def _debtors_from_debt(scope: ReportScope, limit: int | None) -> list[tuple]:
    p = _Params()
    limit_sql = f" LIMIT {int(limit)}" if limit else ""
    sql = f"""
      SELECT f.account_id, SUM(f.principal_fen), MIN(f.oldest_due), SUM(f.late_fee_fen),
        SUM(f.bills)
      FROM {T_DEBT} f{_group_join("company", scope)}
      WHERE {_scope(scope, p)}
      GROUP BY f.account_id HAVING SUM(f.bills) > 0
      ORDER BY 2 DESC, 3, 1{limit_sql}
    """
    return _fetch(sql, p.values)


def _entries_after(day: datetime.date) -> bool:
    """Whether any adjustment or allocation is dated after ``day`` (else every bill's outstanding on
    that day is its outstanding now: OpenBill)."""
    return any(
        _fetch(f"SELECT 1 FROM {table} WHERE effective_date > %(d)s LIMIT 1", {"d": day})
        for table in (T_ADJ, T_ALLOC)
    )


def behind(scope: ReportScope, q: live.Behind) -> tuple[str, _Params] | None:
    """``selectors._behind_live``'s query over OpenBill, when nothing is dated after ``as_of`` (a
    report as of today): then a bill owes on that day exactly what it owes now. None otherwise, or
    for every team at once (a steward in two teams would count twice)."""
    figure, as_of, key, group_by, developer = q.figure, q.as_of, q.key, q.group_by, q.developer
    if group_by == "team" and key is None:
        return None
    if catch_up() is None or _entries_after(as_of):
        return None
    p = _Params()
    conds = [_scope(scope, p), "f.kind = 'charge'", "f.outstanding_fen > 0"]
    conds += live.behind_conditions(q, p, "f")
    if key is not None and figure in ("current_unpaid", "recovery_unpaid", "not_clear", "aging"):
        conds.append(f"{GROUP_EXPR[group_by]} = {p.add(key, 'gkey')}")
    if developer is not None:
        dev = p.add(1 if developer else 0, "dev")
        conds.append(f"(CASE WHEN f.developer THEN 1 ELSE 0 END) = {dev}")
    if figure in ("class", "reason"):
        conds.append(f"f.account_id IN ({live.behind_cases(scope, as_of, figure, key, p)})")
    sql = f"""
      SELECT f.account_id AS acc, SUM(f.outstanding_fen) AS fen, MIN(f.due_date) AS oldest,
        COUNT(*) AS n
      FROM {T_OPEN} f{_group_join(group_by, scope)}
      WHERE {" AND ".join(conds)}
      GROUP BY f.account_id
    """
    return sql, p


# --- proof: the summaries equal the live computation -----------------------------------------------


@dataclass
class Difference:
    table: str
    key: tuple
    summary: tuple | None
    live: tuple | None

    def __str__(self) -> str:
        return f"{self.table} {self.key}: 汇总 {self.summary} ≠ 实时 {self.live}"


def _norm(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float, Decimal)):
        return int(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _rows(sql: str, params: dict, key_len: int, add: bool = False) -> dict[tuple, tuple]:
    out: dict[tuple, tuple] = {}
    for row in _fetch(sql, params):
        row = tuple(_norm(v) for v in row)
        key, values = row[:key_len], row[key_len:]
        if add and key in out:
            values = tuple(a + b for a, b in zip(out[key], values, strict=True))
        out[key] = values
    return out


def _diff(table: str, stored: dict, fresh: dict, *, skip_zero: bool = False) -> list[Difference]:
    out = []
    for key in sorted(set(stored) | set(fresh), key=str):
        a, b = stored.get(key), fresh.get(key)
        if skip_zero:
            a = None if a is not None and not any(a) else a
            b = None if b is not None and not any(b) else b
        if a != b:
            out.append(Difference(table, key, a, b))
    return out


def check(project_id: int | None = None) -> list[Difference]:
    """Recomputes every summary row from the ledger rows the summaries have read and returns each
    key whose figures differ, with both figures (fen). Empty when the summaries are right."""
    states = _states()
    if len(states) < len(SOURCES):
        return [Difference("SummaryState", ("尚未建立汇总表",), None, None)]
    p = _Params()
    only = f" AND b.project_id = {p.add(project_id)}" if project_id else ""
    only_x = f" WHERE project_id = {p.add(project_id)}" if project_id else ""
    diffs: list[Difference] = []
    fresh: dict[tuple, tuple] = {}
    for source in SOURCES:
        pick = summarised("b" if source == "bill" else "e", states[source], p) + only
        for key, values in _rows(_fact_select(source, pick, p), p.values, 8).items():
            old = fresh.get(key, (0, 0, 0))
            fresh[key] = tuple(a + b for a, b in zip(old, values, strict=True))
    stored = _rows(
        f"SELECT {FACT_KEY}, billed_fen, adjusted_fen, received_fen FROM {T_FACT}{only_x}",
        p.values,
        8,
    )
    diffs += _diff("BillFact", stored, fresh, skip_zero=True)
    diffs += _check_steward_facts(fresh, only_x, p)
    cols = "bill_id, account_id, project_id, building_id, fee_item_id, kind, developer, period_start, due_date, outstanding_fen"
    diffs += _diff(
        "OpenBill",
        _rows(f"SELECT {cols} FROM {T_OPEN}{only_x}", p.values, 1),
        _rows(
            _open_select(states, None, p)
            + (f" AND x.project_id = {p.add(project_id)}" if project_id else ""),
            p.values,
            1,
        ),
    )
    late_cols = "source, event_id, bill_id, account_id, project_id, building_id, fee_item_id, kind, developer, period_start, due_date, effective_date, amount_fen"
    fresh_late: dict[tuple, tuple] = {}
    for source in ("adjustment", "allocation"):
        fresh_late.update(
            _rows(_late_select(source, summarised("e", states[source], p) + only, p), p.values, 2)
        )
    diffs += _diff(
        "LateEvent", _rows(f"SELECT {late_cols} FROM {T_LATE}{only_x}", p.values, 2), fresh_late
    )
    span_cols = "account_id, fee_item_id, project_id, building_id, developer, first_period, last_period, monthly"
    diffs += _diff(
        "AccountSpan",
        _rows(f"SELECT {span_cols} FROM {T_SPAN}{only_x}", p.values, 2),
        _rows(_span_select(states, None, p, only), p.values, 2),
    )
    irregular_fresh = _rows(
        f"SELECT DISTINCT e.bill_id FROM {T_ALLOC} e JOIN {T_BILL} b ON b.id = e.bill_id"
        f" WHERE {summarised('e', states['allocation'], p)} AND e.amount < 0{only}"
        f" UNION SELECT bill_id FROM {T_OPEN} x WHERE outstanding_fen < 0"
        + (f" AND x.project_id = {p.add(project_id)}" if project_id else ""),
        p.values,
        1,
    )
    irregular_stored = _rows(
        f"SELECT ib.bill_id FROM {T_IRREG} ib JOIN {T_BILL} b ON b.id = ib.bill_id WHERE 1 = 1{only}",
        p.values,
        1,
    )
    diffs += _diff("IrregularBill", irregular_stored, irregular_fresh)
    diffs += _check_debt(project_id)
    diffs += _check_spells(states, project_id)
    return diffs


def _check_spells(states: dict[str, SummaryState], project_id: int | None) -> list[Difference]:
    """IrregularSpell against the irregular bills' entries."""
    if not _rollup(SPELL_STATE) is not None:
        return []
    p = _Params()
    bills = f"SELECT bill_id FROM {T_IRREG}"
    if project_id:
        bills = (
            f"SELECT i.bill_id FROM {T_IRREG} i JOIN {T_BILL} b ON b.id = i.bill_id"
            f" WHERE b.project_id = {p.add(project_id)}"
        )
    return _diff(
        "IrregularSpell",
        _rows(
            f"SELECT bill_id, starts, ends, owed_fen FROM {T_SPELL} WHERE bill_id IN ({bills})",
            p.values,
            2,
        ),
        _rows(_spell_select(states, p, bills), p.values, 2),
    )


def _check_steward_facts(fresh: dict[tuple, tuple], only_x: str, p: _Params) -> list[Difference]:
    """StewardFact against the recomputed building facts filed under BuildingSteward's stewards."""
    if not _rollup(STEWARD_STATE) is not None:
        return []
    steward_of = dict(_fetch(f"SELECT building_id, steward_id FROM {T_BSTEWARD}"))
    rolled: dict[tuple, tuple] = {}
    diffs = []
    for key, values in fresh.items():
        project, building, *rest = key
        if building not in steward_of:
            diffs.append(Difference("BuildingSteward", (building,), None, ("未登记楼管",)))
            continue
        k = (project, steward_of[building], *rest)
        old = rolled.get(k, (0, 0, 0))
        rolled[k] = tuple(a + b for a, b in zip(old, values, strict=True))
    stored = _rows(
        f"SELECT {SFACT_KEY}, billed_fen, adjusted_fen, received_fen FROM {T_SFACT}{only_x}",
        p.values,
        8,
    )
    return diffs + _diff("StewardFact", stored, rolled, skip_zero=True)


def _check_debt(project_id: int | None) -> list[Difference]:
    """AccountDebt against the open bills on its date."""
    state = _rollup(DEBT_STATE)
    if state is None or state.as_of is None:
        return []
    p = _Params()
    where = f"x.project_id = {p.add(project_id)}" if project_id else "1 = 1"
    only = f" WHERE project_id = {p.add(project_id)}" if project_id else ""
    return _diff(
        f"AccountDebt {state.as_of}",
        _rows(f"SELECT {DEBT_COLUMNS} FROM {T_DEBT}{only}", p.values, 2),
        _rows(_debt_select(state.as_of, p, where), p.values, 2),
    )


def check_reports(project_ids: list[int], today: datetime.date) -> list[Difference]:
    """The reports a manager opens most, from the summaries and live, for this year and this month
    as of ``today``: every differing figure."""
    scope = ReportScope(project_ids=tuple(project_ids))
    diffs: list[Difference] = []
    windows = [
        Window(today.replace(month=1, day=1), today.replace(month=12, day=31)),
        Window(today.replace(day=1), month_end(today)),
    ]
    for window in windows:
        for group in ("company", "project", "building", "fee_item"):
            fast = {r.key: r.figures() for r in live.collection_rates(scope, window, today, group)}
            slow = {
                r.key: r.figures()
                for r in live.collection_rates(scope, window, today, group, live=True)
            }
            diffs += _diff(f"收缴率 {window.start}~{window.end} {group}", fast, slow)
    fast_aging = {
        (r.key, r.developer): (*r.buckets, *r.counts)
        for r in live.aging(scope, today, "building", True)
    }
    slow_aging = {
        (r.key, r.developer): (*r.buckets, *r.counts)
        for r in live.aging(scope, today, "building", True, live=True)
    }
    diffs += _diff("账龄 building", fast_aging, slow_aging)
    fast_top = {
        (d.account_id,): (d.outstanding, d.late_fee_outstanding)
        for d in live.top_debtors(scope, today)
    }
    slow_top = {
        (d.account_id,): (d.outstanding, d.late_fee_outstanding)
        for d in live.top_debtors(scope, today, live=True)
    }
    diffs += _diff("欠费大户", fast_top, slow_top)
    return diffs
