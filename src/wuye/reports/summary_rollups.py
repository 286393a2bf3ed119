# ruff: noqa: S608 — SQL here is assembled from table/column names and %(name)s placeholders only;
# every value is passed as a query parameter.
"""The roll-ups above the summaries (docs/decisions/0006-report-rollups.md): ``StewardFact`` (facts per
steward, moved when a building changes hands), ``IrregularSpell`` (the days an irregular bill owed less
than nothing) and ``AccountDebt`` (what each account owes on one date); and (decision 0019)
``AccountOwing`` (the periods each account owes on, due or not, on AccountDebt's date) and
``MonthOwing`` (accounts owing at each month's end, per building); and (decision 0020) ``BilledRange``
with ``BilledIrregular`` (accounts billed per range of months), ``OwedRange`` (AccountDebt's and
AccountOwing's rows counted per range of periods owed) and ``DebtTotal`` (AccountDebt added up per
building and payer type). Kept by ``summary_refresh``.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from wuye.reports.models import (
    RollupState,
    SummaryState,
)
from wuye.reports.sql import (
    T_ACCOUNT,
    T_BILL,
    T_BUILDING,
    T_ROOM,
    _Params,
    bucket_case,
)
from wuye.reports.summary_tables import (
    BILLED_STATE,
    DEBT_STATE,
    FACT_KEY,
    FACT_SUMS,
    MONTHS_STATE,
    OWING_STATE,
    SFACT_KEY,
    SOURCES,
    SPELL_STATE,
    STEWARD_STATE,
    T_BSTEWARD,
    T_CELLS,
    T_DEBT,
    T_DEBT_TOTAL,
    T_DELTA,
    T_FACT,
    T_IRREG,
    T_IRREG_BILLED,
    T_LATE,
    T_MONTHS,
    T_MOVED,
    T_OPEN,
    T_OWED,
    T_OWING,
    T_RANGES,
    T_SFACT,
    T_SPAN,
    T_SPELL,
    _cents,
    _execute,
    _fetch,
    _month,
    _overdue_on,
    _pg,
    _upsert_sums,
    _ym,
    summarised,
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


def _shared_accounts(accounts: str | None = None, table: str = T_DEBT) -> int:
    """Accounts with AccountDebt (or AccountOwing) rows in more than one building (among
    ``accounts``)."""
    only = "" if accounts is None else f" WHERE account_id IN ({accounts})"
    [(n,)] = _fetch(
        f"SELECT COUNT(*) FROM (SELECT account_id FROM {table}{only} GROUP BY account_id"
        f" HAVING COUNT(*) > 1) x"
    )
    return int(n)


def _rebuild_dated(name: str, table: str, columns: str, select, day, now) -> None:
    """A roll-up kept for one date (AccountDebt, AccountOwing), built again for ``day``."""
    _execute(f"DELETE FROM {table}")
    p = _Params()
    _execute(f"INSERT INTO {table} ({columns}) {select(day, p, '1 = 1')}", p.values)
    RollupState.objects.update_or_create(
        name=name,
        defaults={"as_of": day, "built_at": now, "shared_accounts": _shared_accounts(table=table)},
    )
    for d in DERIVED.get(name, ()):
        _rebuild_derived(d, day, now)


def _update_dated(name: str, table: str, columns: str, select, accounts: str) -> None:
    """The rows of the accounts ``accounts`` selects, again (after their bills changed)."""
    state = _rollup(name)
    if state is None or state.as_of is None:
        return
    # The accounts' rows out of the derived tables as they stand, back in once recomputed.
    derived = [d for d in DERIVED.get(name, ()) if derived_ready(d, state)]
    for d in derived:
        _add_derived(d, d.select(accounts, "-"))
    _execute(f"DELETE FROM {table} WHERE account_id IN ({accounts})")
    p = _Params()
    _execute(
        f"INSERT INTO {table} ({columns})"
        f" {select(state.as_of, p, f'x.account_id IN ({accounts})')}",
        p.values,
    )
    for d in derived:
        _add_derived(d, d.select(accounts, ""))
        _execute(f"DELETE FROM {d.table} WHERE {d.rows} AND accounts = 0")
    # With none before, only the accounts just recomputed can be shared now.
    state.shared_accounts = _shared_accounts(
        None if state.shared_accounts else accounts, table=table
    )
    state.save(update_fields=["shared_accounts"])


# --- Tables derived from a dated roll-up (decision 0020) ---------------------------------------------
# OwedRange: AccountDebt's and AccountOwing's rows counted per range of periods owed; DebtTotal:
# AccountDebt added up per building and payer type. Each is built with its roll-up, follows the rows
# of the accounts a refresh recomputes, and has its own state (the roll-up's date it holds).


@dataclass(frozen=True)
class _Derived:
    state: str  # its RollupState: ``as_of`` the roll-up's date it holds
    table: str
    key: str  # the columns of its unique key
    values: str  # the columns added up
    rows: str  # its rows of this roll-up (a condition)
    select: Callable[[str | None, str], str]  # (accounts or None for all, sign) → SELECT


def _owed_ranges_select(name: str, accounts: str | None = None, sign: str = "") -> str:
    """OwedRange rows of the roll-up ``name``'s rows (of the accounts ``accounts`` selects; all when
    None) that owe principal on some period; ``sign`` "-" to take them out."""
    only = "" if accounts is None else f" AND f.account_id IN ({accounts})"
    return (
        f"SELECT '{name}', f.project_id, f.building_id, f.first_period, f.last_period,"
        f" {sign}COUNT(*) FROM {OWED_TABLES[name]} f WHERE f.first_period IS NOT NULL{only}"
        f" GROUP BY f.project_id, f.building_id, f.first_period, f.last_period"
    )


def _debt_totals_select(accounts: str | None = None, sign: str = "") -> str:
    """DebtTotal rows of AccountDebt's rows owing overdue principal (of the accounts ``accounts``
    selects; all when None); ``sign`` "-" to take them out."""
    only = "" if accounts is None else f" AND f.account_id IN ({accounts})"
    sums = [f"{sign}SUM(f.b{n}_fen)" for n in range(6)]
    sums += [f"{sign}SUM(CASE WHEN f.b{n}_fen > 0 THEN 1 ELSE 0 END)" for n in range(6)]
    sums += [f"{sign}SUM(f.principal_fen)", f"{sign}COUNT(*)"]
    return (
        f"SELECT f.project_id, f.building_id, f.developer, {', '.join(sums)}"
        f" FROM {T_DEBT} f WHERE f.principal_fen > 0{only}"
        f" GROUP BY f.project_id, f.building_id, f.developer"
    )


OWED_TABLES = {DEBT_STATE: T_DEBT, OWING_STATE: T_OWING}
OWED_KEY = "rollup, project_id, building_id, first_period, last_period"
TOTAL_KEY = "project_id, building_id, developer"
TOTAL_VALUES = (
    ", ".join(f"b{n}_fen" for n in range(6))
    + ", "
    + ", ".join(f"n{n}" for n in range(6))
    + ", principal_fen, accounts"
)


def _owed(name: str) -> _Derived:
    return _Derived(
        f"{name}_ranges",
        T_OWED,
        OWED_KEY,
        "accounts",
        f"rollup = '{name}'",
        lambda accounts, sign: _owed_ranges_select(name, accounts, sign),
    )


DEBT_TOTALS = _Derived(
    "debt_totals", T_DEBT_TOTAL, TOTAL_KEY, TOTAL_VALUES, "1 = 1", _debt_totals_select
)
DERIVED = {DEBT_STATE: (_owed(DEBT_STATE), DEBT_TOTALS), OWING_STATE: (_owed(OWING_STATE),)}


def _add_derived(d: _Derived, select: str) -> None:
    _upsert_sums(d.table, d.key, select, sums=d.values)


def _rebuild_derived(d: _Derived, day: datetime.date, now: datetime.datetime) -> None:
    _execute(f"DELETE FROM {d.table} WHERE {d.rows}")
    _execute(f"INSERT INTO {d.table} ({d.key}, {d.values}) {d.select(None, '')}")
    RollupState.objects.update_or_create(name=d.state, defaults={"as_of": day, "built_at": now})


def derived_ready(d: _Derived, state: RollupState) -> bool:
    """Whether the derived table holds its roll-up's rows on the roll-up's date (``state``)."""
    own = _rollup(d.state)
    return own is not None and own.as_of == state.as_of


def owed_ranges_ready(name: str, state: RollupState) -> bool:
    """Whether OwedRange holds the roll-up ``name``'s rows on its date (``state``)."""
    return derived_ready(DERIVED[name][0], state)


def ensure_derived(now: datetime.datetime) -> None:
    """Each derived table its roll-up's rows, where it does not hold them yet (a database summarised
    before it; decision 0020)."""
    for name, derived in DERIVED.items():
        state = _rollup(name)
        if state is None or state.as_of is None:
            continue
        for d in derived:
            if not derived_ready(d, state):
                _rebuild_derived(d, state.as_of, now)


def _rebuild_debt(day: datetime.date, now: datetime.datetime) -> None:
    _rebuild_dated(DEBT_STATE, T_DEBT, DEBT_COLUMNS, _debt_select, day, now)


def _update_debt(accounts: str) -> None:
    """AccountDebt rows of the accounts ``accounts`` selects, again (after their bills changed)."""
    _update_dated(DEBT_STATE, T_DEBT, DEBT_COLUMNS, _debt_select, accounts)


# --- AccountOwing: what each account owes on AccountDebt's date, due or not -------------------------


def _owing_select(day: datetime.date, p: _Params, where: str) -> str:
    """AccountOwing rows on ``day`` of the accounts of the open bills ``where`` (alias x) picks: the
    first and last period of their principal bills unpaid on the day, whatever their due date."""
    overdue = _overdue_on(day, p, f"x.kind = 'charge' AND {where}", strict=False, any_due=True)
    return f"""
      SELECT y.account_id, y.building_id, MIN(y.project_id), MIN(y.period_start),
        MAX(y.period_start)
      FROM ({overdue}) y
      GROUP BY y.account_id, y.building_id
    """


OWING_COLUMNS = "account_id, building_id, project_id, first_period, last_period"


def _rebuild_owing(day: datetime.date, now: datetime.datetime) -> None:
    _rebuild_dated(OWING_STATE, T_OWING, OWING_COLUMNS, _owing_select, day, now)


def _update_owing(accounts: str) -> None:
    """AccountOwing rows of the accounts ``accounts`` selects, again (after their bills changed)."""
    _update_dated(OWING_STATE, T_OWING, OWING_COLUMNS, _owing_select, accounts)


# --- MonthOwing: accounts owing at each month's end, per building ------------------------------------


def month_end_sql(column: str) -> str:
    if _pg():
        return f"CAST(date_trunc('month', {column}) + interval '1 month - 1 day' AS date)"
    return f"date({column}, 'start of month', '+1 month', '-1 day')"


def owing_rows(where: str, ma: str, cells: str | None = None) -> str:
    """Rows (mf, bill_id, account_id, project_id, building_id, fee_item_id) of the principal bills
    picked by ``where`` (over alias ``x``, OpenBill's and LateEvent's columns) owing on their report
    day ``ma`` (an expression over ``x``, on or after the month of the bill's period), each under
    its period's month ``mf``, if due by then. ``cells`` (a table of building_id, month, month_end)
    restricts them to those buildings and months, read from them first.

    A regular bill (not in IrregularBill) never owes less than nothing and its entries are
    positive, so it owes on a day iff it owes now or has a late entry dated after the day: its
    account is counted straight from either row. Irregular bills are summed one by one."""
    mf = _month("x.period_start")
    cols = "x.bill_id, x.account_id, x.project_id, x.building_id, x.fee_item_id"
    regular = f"x.bill_id NOT IN (SELECT bill_id FROM {T_IRREG})"
    irregular = f"x.bill_id IN (SELECT bill_id FROM {T_IRREG})"

    def source(table: str) -> str:
        if cells is None:
            return f"{table} x"
        return (
            f"{cells} c JOIN {table} x ON x.building_id = c.building_id"
            f" AND x.period_start >= c.month AND x.period_start <= c.month_end"
        )

    open_rows = f"FROM {source(T_OPEN)} WHERE x.kind = 'charge' AND x.due_date <= {ma} AND {where}"
    late_rows = (
        f"FROM {source(T_LATE)} WHERE x.kind = 'charge' AND x.due_date <= {ma}"
        f" AND x.effective_date > {ma} AND {where}"
    )
    return f"""
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
    """


def month_owing_select(cells: str | None = None) -> str:
    """MonthOwing rows (month, building, project, accounts) of every building and month (of those
    in ``cells``)."""
    rows = owing_rows("1 = 1", month_end_sql("x.period_start"), cells)
    return (
        f"SELECT o.mf, o.building_id, MIN(o.project_id), COUNT(DISTINCT o.account_id)"
        f" FROM ({rows}) o GROUP BY o.mf, o.building_id"
    )


def month_owing_shared(cells: str | None = None, accounts: str | None = None) -> int:
    """(month, account) pairs owing at the month's end in more than one building (among the
    accounts ``accounts`` selects)."""
    where = "1 = 1" if accounts is None else f"x.account_id IN ({accounts})"
    rows = owing_rows(where, month_end_sql("x.period_start"), cells)
    [(n,)] = _fetch(
        f"SELECT COUNT(*) FROM (SELECT o.mf, o.account_id FROM ({rows}) o"
        f" GROUP BY o.mf, o.account_id HAVING COUNT(DISTINCT o.building_id) > 1) z"
    )
    return int(n)


def _rebuild_months(now: datetime.datetime) -> None:
    _execute(f"DELETE FROM {T_MONTHS}")
    _execute(
        f"INSERT INTO {T_MONTHS} (month, building_id, project_id, accounts) {month_owing_select()}"
    )
    RollupState.objects.update_or_create(
        name=MONTHS_STATE, defaults={"built_at": now, "shared_accounts": month_owing_shared()}
    )


def _update_months(bills: str) -> None:
    """MonthOwing cells (building, month) of the principal bills ``bills`` selects, counted again.
    An account can only come to owe in two buildings in a month through a bill naming a room of
    another building than its account's: for those accounts the pairs are counted again; the count
    only grows between rebuilds (reports read the open bills while it is not 0)."""
    state = _rollup(MONTHS_STATE)
    if state is None:
        return
    _execute(f"DROP TABLE IF EXISTS {T_CELLS}")
    _execute(
        f"CREATE TEMPORARY TABLE {T_CELLS} (building_id INTEGER, month DATE, month_end DATE,"
        " PRIMARY KEY (building_id, month))"
    )
    try:
        mf = _month("b.period_start")
        _execute(
            f"INSERT INTO {T_CELLS} (building_id, month, month_end)"
            f" SELECT DISTINCT r.building_id, {mf}, {month_end_sql('b.period_start')}"
            f" FROM {T_BILL} b JOIN {T_ROOM} r ON r.id = b.room_id"
            f" WHERE b.id IN ({bills}) AND b.kind = 'charge'"
        )
        if not _fetch(f"SELECT 1 FROM {T_CELLS} LIMIT 1"):
            return
        if _pg():
            # A new temporary table has no statistics: without them the planner reads every open
            # bill and late entry instead of the cells' index ranges.
            _execute(f"ANALYZE {T_CELLS}")
        _execute(
            f"DELETE FROM {T_MONTHS} WHERE EXISTS (SELECT 1 FROM {T_CELLS} c"
            f" WHERE c.building_id = {T_MONTHS}.building_id AND c.month = {T_MONTHS}.month)"
        )
        _execute(
            f"INSERT INTO {T_MONTHS} (month, building_id, project_id, accounts)"
            f" {month_owing_select(T_CELLS)}"
        )
        # The accounts of these bills that have bills in more than one building: a bill naming
        # another building's room among them, or spans in two buildings already (the touched bill
        # may be the account's own-building one — billed, paid or reversed — while the other
        # building's bill was counted before).
        foreign = (
            f"SELECT b.account_id FROM {T_BILL} b JOIN {T_ROOM} r ON r.id = b.room_id"
            f" JOIN {T_ACCOUNT} a ON a.id = b.account_id JOIN {T_ROOM} ar ON ar.id = a.room_id"
            f" WHERE b.id IN ({bills}) AND b.kind = 'charge' AND r.building_id <> ar.building_id"
            f" UNION SELECT s.account_id FROM {T_SPAN} s WHERE s.account_id IN"
            f" (SELECT b.account_id FROM {T_BILL} b WHERE b.id IN ({bills}) AND b.kind = 'charge')"
            f" GROUP BY s.account_id HAVING COUNT(DISTINCT s.building_id) > 1"
        )
        if _fetch(foreign + " LIMIT 1"):
            shared = month_owing_shared(accounts=foreign)
            if shared > state.shared_accounts:
                state.shared_accounts = shared
                state.save(update_fields=["shared_accounts"])
    finally:
        _execute(f"DROP TABLE IF EXISTS {T_CELLS}")


# --- BilledRange and BilledIrregular: accounts billed per range of months ----------------------------


def span_bills() -> str:
    """``FROM … WHERE …`` (to go on with AND) of the principal bills of the AccountSpan row ``f``:
    its account's and fee item's, naming a room of its building."""
    return (
        f"{T_BILL} b JOIN {T_ROOM} r ON r.id = b.room_id WHERE b.account_id = f.account_id"
        f" AND b.fee_item_id = f.fee_item_id AND b.kind = 'charge'"
        f" AND r.building_id = f.building_id"
    )


def billed_accounts_select(accounts: str | None = None) -> str:
    """Per account (of those ``accounts`` selects) from its AccountSpan rows: (account_id, project_id,
    building_id, first_period, last_period, regular). ``regular`` (1 or 0) when every span is monthly,
    all in one project and building, and together they leave no month out between the first and
    the last: then the account is billed in a window iff that range meets the window's months."""
    only = "1 = 1" if accounts is None else f"s.account_id IN ({accounts})"
    # Spans in order of their first period: a month left out shows as a span starting more than a
    # month after the furthest any span before it reached.
    return f"""
      SELECT account_id, MIN(project_id) AS project_id, MIN(building_id) AS building_id,
        MIN(first_period) AS first_period, MAX(last_period) AS last_period,
        CASE WHEN MIN(project_id) = MAX(project_id) AND MIN(building_id) = MAX(building_id)
          AND MIN(CASE WHEN monthly THEN 1 ELSE 0 END) = 1
          AND MAX(CASE WHEN f > reach + 1 THEN 1 ELSE 0 END) = 0 THEN 1 ELSE 0 END AS regular
      FROM (
        SELECT s.account_id, s.project_id, s.building_id, s.monthly, s.first_period,
          s.last_period, {_ym("s.first_period")} AS f,
          MAX({_ym("s.last_period")}) OVER (PARTITION BY s.account_id
            ORDER BY s.first_period, s.fee_item_id, s.building_id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
          ) AS reach
        FROM {T_SPAN} s WHERE {only}
      ) x
      GROUP BY account_id
    """


def billed_ranges_select(accounts: str | None = None, sign: str = "") -> str:
    """BilledRange rows (project, building, first, last, accounts) of the regular accounts among
    ``accounts`` (all when None); ``sign`` "-" to take them out."""
    return (
        f"SELECT a.project_id, a.building_id, a.first_period, a.last_period, {sign}COUNT(*)"
        f" FROM ({billed_accounts_select(accounts)}) a WHERE a.regular = 1 GROUP BY a.project_id, a.building_id, a.first_period, a.last_period"
    )


def billed_irregular_select(accounts: str | None = None) -> str:
    return f"SELECT a.account_id FROM ({billed_accounts_select(accounts)}) a WHERE a.regular = 0"


RANGE_KEY = "project_id, building_id, first_period, last_period"


def _add_ranges(select: str, params: dict) -> None:
    _upsert_sums(T_RANGES, RANGE_KEY, select, params, sums="accounts")


def rebuild_billed(now: datetime.datetime) -> None:
    """BilledRange and BilledIrregular from every AccountSpan row."""
    _execute(f"DELETE FROM {T_RANGES}")
    _execute(f"DELETE FROM {T_IRREG_BILLED}")
    _execute(f"INSERT INTO {T_RANGES} ({RANGE_KEY}, accounts) {billed_ranges_select()}")
    _execute(f"INSERT INTO {T_IRREG_BILLED} (account_id) {billed_irregular_select()}")
    RollupState.objects.update_or_create(name=BILLED_STATE, defaults={"built_at": now})


def billed_out(accounts: str, params: dict) -> None:
    """Takes the accounts ``accounts`` selects out of BilledRange and BilledIrregular, as their
    AccountSpan rows stand (before those are recomputed)."""
    _add_ranges(billed_ranges_select(accounts, "-"), params)
    _execute(f"DELETE FROM {T_IRREG_BILLED} WHERE account_id IN ({accounts})", params)


def billed_in(accounts: str, params: dict) -> None:
    """Puts the accounts ``accounts`` selects back, from their AccountSpan rows (recomputed)."""
    _add_ranges(billed_ranges_select(accounts), params)
    _execute(
        f"INSERT INTO {T_IRREG_BILLED} (account_id) {billed_irregular_select(accounts)}", params
    )
    _execute(f"DELETE FROM {T_RANGES} WHERE accounts = 0")
