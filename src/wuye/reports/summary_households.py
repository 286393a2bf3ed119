# ruff: noqa: S608 — SQL here is assembled from table/column names and %(name)s placeholders only;
# every value is passed as a query parameter.
"""The household figures of the collection rates from the summary tables: households billed in a
window (``BilledRange``/``BilledIrregular``, AccountSpan), those behind on its bills (AccountDebt,
OwedRange, or the open bills) and those that have not paid everything (AccountOwing)."""

from __future__ import annotations

import datetime

from wuye.billing.calc import month_end
from wuye.reports.sql import (
    ReportScope,
    Window,
    _Params,
)
from wuye.reports.summary_read import (
    GROUP_EXPR,
    _add,
    _debt_ready,
    _group_join,
    _rollup_ready,
    _scope,
)
from wuye.reports.summary_rollups import _rollup, owed_ranges_ready, span_bills
from wuye.reports.summary_tables import (
    BILLED_STATE,
    DEBT_STATE,
    OWING_STATE,
    T_DEBT,
    T_IRREG_BILLED,
    T_OWED,
    T_OWING,
    T_RANGES,
    T_SPAN,
    _fetch,
    _overdue_on,
    summarised,
)


def _households(out, states, scope, window, as_of, group_by) -> None:
    billed = _billed(states, scope, window, group_by)
    behind = _behind_from_debt(scope, window, as_of, group_by)
    if behind is None:
        behind = _behind_from_open_bills(scope, window, as_of, group_by)
    # Owing anything (due or not) differs from behind only through window bills not yet due that
    # are unpaid on as_of: none (most reports, and every day after the window's last due date) —
    # the same count, no second pass over the open bills.
    owing = behind
    if _owing_not_yet_due(scope, window, as_of):
        owing = _owing_from_rollup(scope, window, as_of, group_by)
        if owing is None:
            owing = _behind_from_open_bills(scope, window, as_of, group_by, any_due=True)
    for g, n in billed.items():
        _add(out, g, {"n": n, "clear": n - behind.get(g, 0), "paid": n - owing.get(g, 0)})


def _billed(states, scope: ReportScope, window: Window, group_by: str) -> dict:
    """Accounts billed principal in the window per group: from BilledRange (a sum over ranges of
    months) plus the spans of BilledIrregular's accounts when it is built and the question has no fee
    items; else a distinct count over every AccountSpan row."""
    p = _Params()
    we = window.end
    # The first month billed on its 1st inside the window: a monthly span is billed in the window
    # iff it reaches from there to the window's end.
    first = window.start
    if first.day != 1:
        first = month_end(first) + datetime.timedelta(days=1)
    count = "COUNT(DISTINCT f.account_id)"
    by_ranges = (
        scope.fee_item_ids is None and group_by != "fee_item" and _rollup(BILLED_STATE) is not None
    )
    if not by_ranges:
        sql = f"""
          SELECT {GROUP_EXPR[group_by]} AS g, {count}
          FROM {T_SPAN} f{_group_join(group_by, scope)}
          WHERE {_scope(scope, p)} AND {_billed_in_window(states, window, first, p)}
          GROUP BY 1
        """
        return dict(_fetch(sql, p.values))
    # A regular account lies in one range row; the others are counted from their spans, one by one.
    odd = f"""
      SELECT {GROUP_EXPR[group_by]} AS g, {count}
      FROM {T_SPAN} f JOIN {T_IRREG_BILLED} i ON i.account_id = f.account_id
        {_group_join(group_by, scope)}
      WHERE {_scope(scope, p)} AND {_billed_in_window(states, window, first, p)}
      GROUP BY 1
    """
    sql = odd
    if first <= we:
        sql += f"""
          UNION ALL
          SELECT {GROUP_EXPR[group_by]} AS g, SUM(f.accounts)
          FROM {T_RANGES} f{_group_join(group_by, scope)}
          WHERE {_scope(scope, p)} AND f.first_period <= {p.add(we, "rwe")}
            AND f.last_period >= {p.add(first, "rfirst")}
          GROUP BY 1
        """
    billed: dict = {}
    for g, n in _fetch(sql, p.values):
        billed[g] = billed.get(g, 0) + int(n or 0)
    return billed


def _billed_in_window(states, window: Window, first: datetime.date, p: _Params) -> str:
    """Whether the AccountSpan row ``f`` has a principal bill in the window: a monthly span when it
    reaches the window's months (``first``, its first month billed on the 1st, to its end), any
    other when one of its bills (naming a room of its building) has its period in the window."""
    ws, we = window.start, window.end
    pws, pwe, pfirst = p.add(ws, "ws"), p.add(we, "we"), p.add(first, "first")
    monthly = f"(f.first_period <= {pwe} AND f.last_period >= {pfirst} AND {pfirst} <= {pwe})"
    other = (
        f"EXISTS (SELECT 1 FROM {span_bills()} AND b.period_start >= {pws}"
        f" AND b.period_start <= {pwe} AND {summarised('b', states['bill'], p)})"
    )
    return (
        f"f.first_period <= {pwe} AND f.last_period >= {pws}"
        f" AND ((f.monthly AND {monthly}) OR (NOT f.monthly AND {other}))"
    )


def _behind_from_debt(scope, window, as_of, group_by) -> dict | None:
    """Accounts with principal overdue on the window's bills, from AccountDebt: an account owes on a
    bill of the window iff the first or the last period it owes on lies in the window — unless it
    owes on periods both before and after the window; with such an account in scope (a bill billed
    ahead of its period), None: the open bills answer."""
    state = _debt_ready(scope, as_of, group_by)
    if state is None:
        return None
    return _count_owing_in_window(DEBT_STATE, T_DEBT, state, scope, window, group_by)


def _count_owing_in_window(
    name: str, table: str, state, scope: ReportScope, window: Window, group_by: str
) -> dict | None:
    """Accounts per group whose rows in the dated roll-up ``name`` (``table``: first and last period
    owed) overlap the window; None when one owes on both sides of it (it may owe on no bill inside:
    the open bills answer). One pass: a row owing on both sides overlaps the window, so the
    overlapping rows show it."""
    p = _Params()
    ws, we = p.add(window.start, "ws"), p.add(window.end, "we")
    if not state.shared_accounts and owed_ranges_ready(name, state):
        # One row per account (no account in two buildings): the rows counted per range add up.
        source, weight = f"{T_OWED} f", "f.accounts"
        where = f"{_scope(scope, p)} AND f.rollup = {p.add(name, 'rollup')}"
        count = f"SUM({weight})"
    else:
        source, weight = f"{table} f", "1"
        where = f"{_scope(scope, p)} AND f.first_period IS NOT NULL"
        # One row per account and building: without accounts in two buildings, one per account.
        count = "COUNT(DISTINCT f.account_id)" if state.shared_accounts else "COUNT(*)"
    sql = f"""
      SELECT {GROUP_EXPR[group_by]} AS g, {count},
        SUM(CASE WHEN f.first_period < {ws} AND f.last_period > {we} THEN {weight} ELSE 0 END)
      FROM {source}{_group_join(group_by, scope)}
      WHERE {where} AND f.last_period >= {ws} AND f.first_period <= {we}
      GROUP BY 1
    """
    rows = _fetch(sql, p.values)
    if any(straddle for _, _, straddle in rows):
        return None
    return {g: int(n) for g, n, _ in rows}


def _owing_from_rollup(scope, window, as_of, group_by) -> dict | None:
    """Accounts owing anything on the window's bills on ``as_of`` (due or not), from AccountOwing
    (on its date): as ``_behind_from_debt`` with the periods owed whatever their due date; None
    when it does not answer."""
    state = _rollup_ready(OWING_STATE, scope, as_of, group_by)
    if state is None:
        return None
    return _count_owing_in_window(OWING_STATE, T_OWING, state, scope, window, group_by)


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
