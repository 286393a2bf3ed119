# ruff: noqa: S608 — SQL here is assembled from table/column names and %(name)s placeholders only;
# every value is passed as a query parameter.
"""The proof (``report_summary_check``): every summary row recomputed from the summarised ledger rows, and
the main reports answered both ways (summaries and live), with every difference listed."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from wuye.billing.calc import month_end
from wuye.reports import selectors
from wuye.reports.models import (
    SummaryState,
)
from wuye.reports.sql import (
    T_ALLOC,
    T_BILL,
    ReportScope,
    Window,
    _Params,
)
from wuye.reports.summary_refresh import (
    SPAN_COLUMNS,
    _fact_select,
    _late_select,
    _open_select,
    _span_select,
)
from wuye.reports.summary_rollups import (
    DEBT_COLUMNS,
    DEBT_TOTALS,
    OWED_KEY,
    OWING_COLUMNS,
    TOTAL_KEY,
    TOTAL_VALUES,
    _debt_select,
    _owing_select,
    _rollup,
    _spell_select,
    billed_irregular_select,
    billed_ranges_select,
    derived_ready,
    month_owing_select,
    month_owing_shared,
    owed_ranges_ready,
)
from wuye.reports.summary_tables import (
    BILLED_STATE,
    DEBT_STATE,
    FACT_KEY,
    MONTHS_STATE,
    OWING_STATE,
    SFACT_KEY,
    SOURCES,
    SPELL_STATE,
    STEWARD_STATE,
    T_BSTEWARD,
    T_DEBT,
    T_DEBT_TOTAL,
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
    _fetch,
    _states,
    summarised,
)

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
    # One row per account, fee item and building its bills name (a group counts an account on its
    # own bills): spans filed under one building of two would show here.
    diffs += _diff(
        "AccountSpan",
        _rows(f"SELECT {SPAN_COLUMNS} FROM {T_SPAN}{only_x}", p.values, 3),
        _rows(_span_select(states, None, p, only), p.values, 3),
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
    diffs += _check_owing(project_id)
    diffs += _check_months(project_id)
    diffs += _check_billed(project_id)
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
    return _check_dated("AccountDebt", DEBT_STATE, DEBT_COLUMNS, T_DEBT, _debt_select, project_id)


def _check_owing(project_id: int | None) -> list[Difference]:
    """AccountOwing against the open bills on its date."""
    return _check_dated(
        "AccountOwing", OWING_STATE, OWING_COLUMNS, T_OWING, _owing_select, project_id
    )


def _check_dated(label, state_key, columns, table, select, project_id) -> list[Difference]:
    """A roll-up kept for one date (its state's ``as_of``) against ``select`` recomputing it, and its
    OwedRange rows (when kept for that date) against the recomputed rows counted per range."""
    state = _rollup(state_key)
    if state is None or state.as_of is None:
        return []
    p = _Params()
    where = f"x.project_id = {p.add(project_id)}" if project_id else "1 = 1"
    only = f" WHERE project_id = {p.add(project_id)}" if project_id else ""
    fresh = _rows(select(state.as_of, p, where), p.values, 2)
    diffs = _diff(
        f"{label} {state.as_of}", _rows(f"SELECT {columns} FROM {table}{only}", p.values, 2), fresh
    )
    if owed_ranges_ready(state_key, state):
        # Both roll-ups' columns: account and building (the key), project first, the first and last
        # period owed last.
        counted: dict[tuple, tuple] = {}
        for (_account, building), values in fresh.items():
            if values[-2] is not None:
                key = (state_key, values[0], building, values[-2], values[-1])
                counted[key] = (counted.get(key, (0,))[0] + 1,)
        q = _Params()
        mine = f"rollup = {q.add(state_key)}"
        if project_id:
            mine += f" AND project_id = {q.add(project_id)}"
        stored = _rows(f"SELECT {OWED_KEY}, accounts FROM {T_OWED} WHERE {mine}", q.values, 5)
        diffs += _diff(f"OwedRange {state.as_of}", stored, counted)
    if state_key == DEBT_STATE and derived_ready(DEBT_TOTALS, state):
        diffs += _check_debt_totals(fresh, project_id)
    return diffs


def _check_debt_totals(fresh: dict[tuple, tuple], project_id: int | None) -> list[Difference]:
    """DebtTotal against the recomputed AccountDebt rows (``fresh``: account and building → project,
    developer, the six buckets, principal, …) added up per building and payer type."""
    totals: dict[tuple, tuple] = {}
    for (_account, building), (project, developer, *rest) in fresh.items():
        buckets, principal = rest[:6], rest[6]
        if principal <= 0:
            continue
        row = (*buckets, *(1 if b > 0 else 0 for b in buckets), principal, 1)
        key = (project, building, developer)
        old = totals.get(key, (0,) * len(row))
        totals[key] = tuple(a + b for a, b in zip(old, row, strict=True))
    p = _Params()
    only = f" WHERE project_id = {p.add(project_id)}" if project_id else ""
    stored = _rows(f"SELECT {TOTAL_KEY}, {TOTAL_VALUES} FROM {T_DEBT_TOTAL}{only}", p.values, 3)
    return _diff("DebtTotal", stored, totals)


def _check_months(project_id: int | None) -> list[Difference]:
    """MonthOwing against the open bills and late entries, and its count of accounts owing in two
    buildings in a month (it may be above the true count — reports then read the open bills —,
    never 0 while there is one)."""
    state = _rollup(MONTHS_STATE)
    if state is None:
        return []
    p = _Params()
    only = f" WHERE project_id = {p.add(project_id)}" if project_id else ""
    fresh = _rows(month_owing_select(), {}, 2)
    if project_id:
        fresh = {k: v for k, v in fresh.items() if v[0] == project_id}
    diffs = _diff(
        "MonthOwing",
        _rows(
            f"SELECT month, building_id, project_id, accounts FROM {T_MONTHS}{only}", p.values, 2
        ),
        fresh,
    )
    if not state.shared_accounts:
        shared = month_owing_shared()
        if shared:
            diffs.append(Difference("MonthOwing 跨楼户", ("shared_accounts",), (0,), (shared,)))
    return diffs


def _check_billed(project_id: int | None) -> list[Difference]:
    """BilledRange and BilledIrregular against the AccountSpan rows (themselves checked against the
    bills above)."""
    if _rollup(BILLED_STATE) is None:
        return []
    p = _Params()
    accounts = None
    only = ""
    if project_id:
        accounts = f"SELECT account_id FROM {T_SPAN} WHERE project_id = {p.add(project_id)}"
        only = f" WHERE project_id = {p.add(project_id)}"
    ranges = f"SELECT project_id, building_id, first_period, last_period, accounts FROM {T_RANGES}"
    irregular = f"SELECT account_id FROM {T_IRREG_BILLED}"
    if accounts is not None:
        irregular += f" WHERE account_id IN ({accounts})"
    return _diff(
        "BilledRange",
        _rows(ranges + only, p.values, 4),
        _rows(billed_ranges_select(accounts), p.values, 4),
    ) + _diff(
        "BilledIrregular",
        _rows(irregular, p.values, 1),
        _rows(billed_irregular_select(accounts), p.values, 1),
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
        for group in ("company", "project", "building", "steward", "fee_item"):
            fast = {
                r.key: r.figures() for r in selectors.collection_rates(scope, window, today, group)
            }
            slow = {
                r.key: r.figures()
                for r in selectors.collection_rates(scope, window, today, group, live=True)
            }
            diffs += _diff(f"收缴率 {window.start}~{window.end} {group}", fast, slow)
    fast_aging = {
        (r.key, r.developer): (*r.buckets, *r.counts)
        for r in selectors.aging(scope, today, "building", True)
    }
    slow_aging = {
        (r.key, r.developer): (*r.buckets, *r.counts)
        for r in selectors.aging(scope, today, "building", True, live=True)
    }
    diffs += _diff("账龄 building", fast_aging, slow_aging)
    fast_top = {
        (d.account_id,): (d.outstanding, d.late_fee_outstanding)
        for d in selectors.top_debtors(scope, today)
    }
    slow_top = {
        (d.account_id,): (d.outstanding, d.late_fee_outstanding)
        for d in selectors.top_debtors(scope, today, live=True)
    }
    diffs += _diff("欠费大户", fast_top, slow_top)
    fast_trend = {(m,): r.figures() for m, r in selectors.rate_trend(scope, 12, today)}
    slow_trend = {(m,): r.figures() for m, r in selectors.rate_trend(scope, 12, today, live=True)}
    diffs += _diff("收缴率趋势 (含户数)", fast_trend, slow_trend)
    return diffs
