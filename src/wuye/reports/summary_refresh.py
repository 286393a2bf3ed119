# ruff: noqa: S608 — SQL here is assembled from table/column names and %(name)s placeholders only;
# every value is passed as a query parameter.
"""Building and refreshing the summary tables (``report_summary_refresh``), and catching up on read.

A refresh reads the ledger rows above each table's watermark and the gaps below it, under an advisory
lock and one REPEATABLE READ snapshot (docs/decisions/0004-report-summaries.md). ``catch_up`` is what a
report calls first: it refreshes the few unread rows, or says the summaries cannot answer (never built,
switched off, too far behind).

With a read replica (docs/operations/replica.md) a report question runs in ``reading()``: the catch-up
writes, so it runs on the primary first; then the summaries' states, the summaries and the ledger rows
not summarised yet are all read in one snapshot of the database the router picks for reads, so a
replica replaying a refresh between two of those reads cannot make a figure count a payment twice.
"""

from __future__ import annotations

import contextlib
import datetime
import time
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, transaction
from django.utils import timezone

from wuye.core import db_router
from wuye.reports.models import (
    RollupState,
    SummaryState,
)
from wuye.reports.sql import (
    BILL_FROM,
    T_ACCOUNT,
    T_ADJ,
    T_ALLOC,
    T_BILL,
    T_PERSON,
    T_ROOM,
    _Params,
)
from wuye.reports.summary_rollups import (
    _apply_delta,
    _build_steward_facts,
    _create_delta,
    _rebuild_debt,
    _rebuild_months,
    _rebuild_owing,
    _rebuild_spells,
    _rollups,
    _sync_stewards,
    _update_debt,
    _update_months,
    _update_owing,
    _update_spells,
    billed_in,
    billed_out,
    ensure_derived,
    rebuild_billed,
    stewards_moved,
)
from wuye.reports.summary_tables import (
    BILL_ROW_MONTH,
    BILLED_STATE,
    DEBT_STATE,
    FACT_KEY,
    FACT_SUMS,
    GAP_TTL,
    LOCK_KEY,
    MONTHS_STATE,
    OWING_STATE,
    SOURCES,
    SPAN_BUILDINGS_STATE,
    SPELL_STATE,
    STEWARD_STATE,
    T_BSTEWARD,
    T_DEBT,
    T_DEBT_TOTAL,
    T_DELTA,
    T_FACT,
    T_IRREG,
    T_IRREG_BILLED,
    T_LATE,
    T_MONTHS,
    T_OPEN,
    T_OWED,
    T_OWING,
    T_RANGES,
    T_SFACT,
    T_SPAN,
    T_SPELL,
    T_TOUCHED,
    _cents,
    _enabled,
    _execute,
    _fetch,
    _in_gaps,
    _month,
    _pg,
    _states,
    summarised,
)

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


# AccountSpan's columns as ``_span_select`` gives them: the key (account, fee item, building) first.
SPAN_COLUMNS = "account_id, fee_item_id, building_id, project_id, developer, first_period, last_period, monthly"


def _span_select(
    states: dict[str, SummaryState], accounts: str | None, p: _Params, extra: str = ""
) -> str:
    """AccountSpan rows of summarised principal bills (of the accounts ``accounts`` selects): one per
    account, fee item and building of the rooms its bills name."""
    if _pg():
        ym = "(EXTRACT(YEAR FROM {c}) * 12 + EXTRACT(MONTH FROM {c}))"
        day = "EXTRACT(DAY FROM b.period_start)"
    else:
        ym = "(CAST(strftime('%%Y', {c}) AS INTEGER) * 12 + CAST(strftime('%%m', {c}) AS INTEGER))"
        day = "CAST(strftime('%%d', b.period_start) AS INTEGER)"
    months = f"{ym.format(c='MAX(b.period_start)')} - {ym.format(c='MIN(b.period_start)')} + 1"
    only = "" if accounts is None else f" AND b.account_id IN ({accounts})"
    return f"""
      SELECT b.account_id, b.fee_item_id, r.building_id, MIN(b.project_id),
        CASE WHEN MAX(CASE WHEN p.is_developer THEN 1 ELSE 0 END) = 1 THEN TRUE ELSE FALSE END,
        MIN(b.period_start), MAX(b.period_start),
        CASE WHEN MAX({day}) = 1 AND COUNT(DISTINCT b.period_start) = {months}
             THEN TRUE ELSE FALSE END
      FROM {BILL_FROM}
      WHERE b.kind = 'charge' AND {summarised("b", states["bill"], p)}{only}{extra}
      GROUP BY b.account_id, b.fee_item_id, r.building_id
    """


def _spans(
    states: dict[str, SummaryState], pick_new_bills: str | None, p: _Params, *, billed: bool = False
) -> None:
    """AccountSpan of the accounts with new principal bills (all accounts on a full refresh); with
    ``billed``, those accounts' BilledRange and BilledIrregular rows follow their spans."""
    accounts = None
    if pick_new_bills is not None:
        accounts = (
            f"SELECT b.account_id FROM {T_BILL} b WHERE {pick_new_bills} AND b.kind = 'charge'"
        )
        if billed:
            billed_out(accounts, p.values)
        _execute(f"DELETE FROM {T_SPAN} WHERE account_id IN ({accounts})", p.values)
    _execute(
        f"INSERT INTO {T_SPAN} ({SPAN_COLUMNS}) {_span_select(states, accounts, p)}",
        p.values,
    )
    if billed and accounts is not None:
        billed_in(accounts, p.values)


def _rebuild_spans(states: dict[str, SummaryState], now: datetime.datetime) -> None:
    """Every AccountSpan row again, one per account, fee item and building (a database summarised
    while an account's spans were one per fee item, filed under the lowest of its buildings), and
    BilledRange and BilledIrregular from them."""
    _execute(f"DELETE FROM {T_SPAN}")
    _spans(states, None, _Params())
    RollupState.objects.update_or_create(name=SPAN_BUILDINGS_STATE, defaults={"built_at": now})
    rebuild_billed(now)


def _no_jit(conn) -> None:
    """PostgreSQL settings for the rest of the transaction (a report's snapshot, a refresh): JIT off —
    the report and refresh statements are many, each estimated above ``jit_above_cost`` at company
    size and done in milliseconds to a fraction of a second, and compiling each took longer than
    running it (0.4–1 s a statement; the 12-month trend with households at 20,000 rooms: 0.59 s with
    JIT, 0.10 s without) —, and ``work_mem`` ``WUYE_REPORT_WORK_MEM`` (64MB) so that counting a
    million accounts sorts in memory instead of on disk (the households billed in a year at
    1,000,000 rooms: 0.26 s → 0.15 s). Inside an outer transaction they last until that one ends."""
    if conn.vendor == "postgresql" and conn.in_atomic_block:
        work_mem = getattr(settings, "WUYE_REPORT_WORK_MEM", "64MB")
        with conn.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
            if work_mem:
                cursor.execute("SELECT set_config('work_mem', %s, true)", [str(work_mem)])


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
    with db_router.on_primary():  # it reads what it writes from
        _lock()
        try:
            outermost = not connection.in_atomic_block
            with transaction.atomic():
                if _pg() and outermost:
                    # One snapshot for the whole refresh: the rows picked, the gaps found and the
                    # open bills recomputed all see the same committed rows.
                    _execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                _no_jit(connection)
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
            T_OWING,
            T_MONTHS,
            T_RANGES,
            T_IRREG_BILLED,
            T_OWED,
            T_DEBT_TOTAL,
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
    owing_day = rollups[OWING_STATE].as_of if OWING_STATE in rollups else None
    # On a new day the refresh task computes AccountDebt and AccountOwing again for every account;
    # a report catching up (new_day=False) keeps their date and brings their rows up to date.
    new_debt = debt_day != today and new_day
    new_owing = owing_day != today and new_day
    if full:
        for source, table in SOURCES.items():
            [(n,)] = _fetch(f"SELECT COUNT(*) FROM {table}")
            result.added[source] = int(n)
        _open_bills(states, full=True)
        _spans(states, None, p)
        RollupState.objects.create(name=SPAN_BUILDINGS_STATE, built_at=now)
        rebuild_billed(now)
        _rebuild_debt(today, now)
        _rebuild_owing(today, now)
        _rebuild_spells(states, now)
        _rebuild_months(now)
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
            _spans(states, bill_pick, p, billed=BILLED_STATE in rollups)
            if SPELL_STATE in rollups:
                _update_spells(states, f"SELECT bill_id FROM {T_TOUCHED}")
            touched_accounts = (
                f"SELECT b.account_id FROM {T_BILL} b"
                f" WHERE b.id IN (SELECT bill_id FROM {T_TOUCHED})"
            )
            # Also on its own date when that is not today (a report catching up before the day's
            # refresh): a payment back-dated to that date changes what was owed on it.
            if debt_day is not None and not new_debt:
                _update_debt(touched_accounts)
            if owing_day is not None and not new_owing:
                _update_owing(touched_accounts)
            if MONTHS_STATE in rollups:
                _update_months(f"SELECT bill_id FROM {T_TOUCHED}")
        finally:
            _execute(f"DROP TABLE IF EXISTS {T_TOUCHED}")
        if SPELL_STATE not in rollups:
            _rebuild_spells(states, now)
        if new_debt:
            _rebuild_debt(today, now)  # a new day: every account's buckets have moved on
        if new_owing:
            _rebuild_owing(today, now)
        if new_day and SPAN_BUILDINGS_STATE not in rollups:
            # A database summarised while spans were one per fee item (decision 0020, amendment).
            _rebuild_spans(states, now)
        elif new_day and BILLED_STATE not in rollups:
            rebuild_billed(now)  # a database summarised before it (decision 0020)
        if new_day:
            ensure_derived(now)
        months = rollups.get(MONTHS_STATE)
        if new_day and (months is None or (months.shared_accounts and new_debt)):
            # Built for a database summarised before it; counted again on a new day while an
            # account owes in two buildings in a month (the count of such pairs only grows between).
            _rebuild_months(now)
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


# Inside ``reading()``: whether the summaries were caught up and can answer (None: not inside).
_ready: ContextVar[bool | None] = ContextVar("wuye_summaries_ready", default=None)


def _catch_up_limit(limit: int | None) -> int:
    return limit if limit is not None else getattr(settings, "WUYE_REPORT_CATCH_UP_ROWS", 200_000)


def _bring_up_to_date(limit: int) -> bool:
    """On the primary: refreshes the few rows not summarised yet; False when the summaries cannot
    answer (never built, or more than ``limit`` rows behind)."""
    with db_router.on_primary():
        pending = pending_rows(limit)
        if pending is None or pending > limit:
            return False
        if pending or stewards_moved():
            refresh(new_day=False)
    return True


def catch_up(limit: int | None = None) -> dict[str, SummaryState] | None:
    """The summary states after adding the few rows not read yet; None when the summaries cannot
    answer (switched off, never built, or more than ``limit`` rows behind: the refresh task will
    catch up, meanwhile reports are live).

    Inside ``reading()`` the catching up is done already: this only reads the states, in the
    snapshot the report reads — from a replica, after checking that the replica, too, is not far
    behind (it replays the primary a little later)."""
    if not _enabled():
        return None
    limit = _catch_up_limit(limit)
    ready = _ready.get()
    if ready is None:
        ready = _bring_up_to_date(limit)
    if not ready:
        return None
    if db_router.read_alias() != DEFAULT_DB_ALIAS:
        pending = pending_rows(limit)
        if pending is None or pending > limit:
            return None
    return _states()


@contextlib.contextmanager
def reading():
    """What a report question runs in: the summaries caught up first, on the primary (it writes),
    then every read inside in one snapshot of the database the router picks for reads
    (``db_router.read_snapshot``). Nested, the outer one holds."""
    if _ready.get() is not None:
        yield
        return
    ready = _enabled() and _bring_up_to_date(_catch_up_limit(None))
    token = _ready.set(ready)
    try:
        with db_router.read_snapshot():
            _no_jit(db_router.read_connection())
            yield
    finally:
        _ready.reset(token)
