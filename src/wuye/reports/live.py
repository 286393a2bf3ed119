# ruff: noqa: S608 — SQL here is assembled from table/column names and %(name)s placeholders only;
# every value is passed as a query parameter.
"""The live report queries: every figure straight from the ledger, the reference the summaries must equal.

For a bill and a date D (GLOSSARY.md "Rates"):

    billed_net(D)  = amount − Σ BillAdjustment.amount   (effective_date ≤ D)
    received(D)    = Σ Allocation.amount                 (effective_date ≤ D; a reversal's negative rows cancel)
    outstanding(D) = billed_net(D) − received(D)

Right for any scope and date but it reads the whole ledger; ``selectors`` calls it when the summary
tables cannot answer.
"""

from __future__ import annotations

import datetime
from typing import Any

from wuye.reports.sql import (
    BILL_FROM,
    GROUP_EXPR,
    T_ADJ,
    T_ALLOC,
    T_BUILDING,
    T_CASE,
    T_CONTACT,
    T_ROOM,
    Behind,
    ReportScope,
    Window,
    _bills_where,
    _cents,
    _day_start,
    _developer_expr,
    _fetch,
    _group_join,
    _Params,
    _sums_join,
    behind_conditions,
    bucket_case,
    scope_sql,
)

# --- collection rates ------------------------------------------------------------------------------


def _rates_live(
    scope: ReportScope, window: Window, as_of: datetime.date, group_by: str
) -> dict[Any, dict[str, Any]]:
    """Per group: the sums behind a RateRow, in fen, straight from the ledger."""
    p = _Params()
    ws, we, asof = p.add(window.start, "ws"), p.add(window.end, "we"), p.add(as_of, "asof")
    rec_end = p.add(min(window.end, as_of), "rec_end")
    adj = _sums_join(
        T_ADJ, "adj", {"asof": f"effective_date <= {asof}", "opening": f"effective_date < {ws}"}
    )
    alloc = _sums_join(
        T_ALLOC,
        "al",
        {
            "asof": f"effective_date <= {asof}",
            "opening": f"effective_date < {ws}",
            "win": f"effective_date >= {ws} AND effective_date <= {rec_end}",
        },
    )
    where = scope_sql(scope, p)
    sql = f"""
    WITH pb AS (
      SELECT {GROUP_EXPR[group_by]} AS g, b.account_id AS acc, b.kind AS kind, b.due_date AS due,
        CASE WHEN b.period_start >= {ws} AND b.period_start <= {we} THEN 1 ELSE 0 END AS cur,
        CASE WHEN b.due_date < {ws} THEN 1 ELSE 0 END AS old,
        {_cents("b.amount")} AS amt,
        COALESCE(adj.asof, 0) AS adj_asof, COALESCE(adj.opening, 0) AS adj_open,
        COALESCE(al.asof, 0) AS al_asof, COALESCE(al.opening, 0) AS al_open,
        COALESCE(al.win, 0) AS al_win
      FROM {BILL_FROM}{_group_join(group_by)}{adj}{alloc}
      WHERE {where} AND ((b.period_start >= {ws} AND b.period_start <= {we}) OR b.due_date < {ws})
    ),
    m AS (
      SELECT g,
        SUM(CASE WHEN kind = 'charge' AND cur = 1 THEN amt - adj_asof ELSE 0 END) AS cb,
        SUM(CASE WHEN kind = 'charge' AND cur = 1 THEN al_asof ELSE 0 END) AS cr,
        SUM(CASE WHEN kind = 'charge' AND old = 1 AND amt - adj_open - al_open > 0
                 THEN amt - adj_open - al_open ELSE 0 END) AS oa,
        SUM(CASE WHEN kind = 'charge' AND old = 1 THEN al_win ELSE 0 END) AS rec,
        SUM(CASE WHEN kind = 'late_fee' AND cur = 1 THEN amt - adj_asof ELSE 0 END) AS lb,
        SUM(CASE WHEN kind = 'late_fee' AND cur = 1 THEN al_asof ELSE 0 END) AS lr
      FROM pb GROUP BY g
    ),
    h AS (
      SELECT g, COUNT(*) AS n, SUM(1 - bad) AS clear, SUM(1 - owing) AS paid FROM (
        SELECT g, acc, MAX(CASE WHEN due <= {asof} AND amt - adj_asof - al_asof > 0
                                THEN 1 ELSE 0 END) AS bad,
               MAX(CASE WHEN amt - adj_asof - al_asof > 0 THEN 1 ELSE 0 END) AS owing
        FROM pb WHERE kind = 'charge' AND cur = 1 GROUP BY g, acc
      ) x GROUP BY g
    )
    SELECT m.g, m.cb, m.cr, m.oa, m.rec, m.lb, m.lr, h.n, h.clear, h.paid
    FROM m LEFT JOIN h ON h.g = m.g
    """
    keys = ("cb", "cr", "oa", "rec", "lb", "lr", "n", "clear", "paid")
    return {row[0]: dict(zip(keys, row[1:], strict=True)) for row in _fetch(sql, p)}


def _overdue_bills_sql(
    scope: ReportScope, as_of: datetime.date, p: _Params, group_by: str, split_developer: bool
) -> str:
    """Charge bills due before ``as_of`` with outstanding(as_of) > 0: g, dev, acc, bucket, o, due."""
    asof = p.add(as_of, "asof")
    where = scope_sql(scope, p)
    restrict = _bills_where(f"{where} AND b.kind = 'charge' AND b.due_date < {asof}")
    adj = _sums_join(T_ADJ, "adj", {"asof": f"effective_date <= {asof}"}, restrict)
    alloc = _sums_join(T_ALLOC, "al", {"asof": f"effective_date <= {asof}"}, restrict)
    return f"""
      SELECT g, dev, acc, bucket, o, due FROM (
        SELECT {GROUP_EXPR[group_by]} AS g, {_developer_expr(split_developer)} AS dev,
          b.account_id AS acc, b.due_date AS due, {bucket_case("b.due_date", p, as_of)} AS bucket,
          {_cents("b.amount")} - COALESCE(adj.asof, 0) - COALESCE(al.asof, 0) AS o
        FROM {BILL_FROM}{_group_join(group_by)}{adj}{alloc}
        WHERE {where} AND b.kind = 'charge' AND b.due_date < {asof}
      ) ob WHERE o > 0
    """


def _aging_live(
    scope: ReportScope, as_of: datetime.date, group_by: str, split_developer: bool
) -> list[tuple]:
    """Rows (g, dev, bucket, fen, accounts); bucket −1 is the group's total."""
    p = _Params()
    bills = _overdue_bills_sql(scope, as_of, p, group_by, split_developer)
    sql = f"""
    WITH ob AS MATERIALIZED ({bills})
    SELECT g, dev, bucket, SUM(o), COUNT(DISTINCT acc) FROM ob GROUP BY g, dev, bucket
    UNION ALL
    SELECT g, dev, -1, SUM(o), COUNT(DISTINCT acc) FROM ob GROUP BY g, dev
    """
    return _fetch(sql, p)


def _debtors_live(scope: ReportScope, as_of: datetime.date, limit: int | None) -> list[tuple]:
    p = _Params()
    bills = _overdue_bills_sql(scope, as_of, p, "company", False)
    asof = p.add(as_of, "asof")
    adj = _sums_join(T_ADJ, "adj", {"asof": f"effective_date <= {asof}"})
    alloc = _sums_join(T_ALLOC, "al", {"asof": f"effective_date <= {asof}"})
    where = scope_sql(scope, p)
    limit_sql = f" LIMIT {int(limit)}" if limit else ""
    sql = f"""
    WITH ob AS ({bills}),
    debt AS (SELECT acc, SUM(o) AS o, MIN(due) AS oldest, COUNT(*) AS n FROM ob GROUP BY acc),
    lf AS (
      SELECT acc, SUM(o) AS o FROM (
        SELECT b.account_id AS acc,
          {_cents("b.amount")} - COALESCE(adj.asof, 0) - COALESCE(al.asof, 0) AS o
        FROM {BILL_FROM}{adj}{alloc}
        WHERE {where} AND b.kind = 'late_fee' AND b.due_date <= {asof}
          AND b.account_id IN (SELECT acc FROM debt)
      ) x WHERE o > 0 GROUP BY acc
    )
    SELECT debt.acc, debt.o, debt.oldest, COALESCE(lf.o, 0), debt.n
    FROM debt LEFT JOIN lf ON lf.acc = debt.acc
    ORDER BY debt.o DESC, debt.oldest, debt.acc{limit_sql}
    """
    return _fetch(sql, p)


# --- arrears cases: by class and by refusal reason -------------------------------------------------


def _open_cases_sql(scope: ReportScope, as_of: datetime.date, p: _Params) -> str:
    """Cases open on ``as_of`` in scope, with the class they carry now."""
    asof = p.add(as_of, "asof")
    where = scope_sql(scope, p, project="c.project_id", fee_item=None)
    # The room and building only when the scope names buildings or stewards (a company's cases
    # would otherwise read every room).
    narrow = scope.building_ids is not None or scope.steward_id is not None
    join = (
        f" JOIN {T_ROOM} r ON r.id = c.room_id JOIN {T_BUILDING} bd ON bd.id = r.building_id"
        if narrow or scope.team_id is not None
        else ""
    )
    return f"""
      SELECT c.id AS case_id, c.account_id AS acc, c.case_class AS cls
      FROM {T_CASE} c{join}
      WHERE {where} AND c.opened_on <= {asof} AND (c.closed_on IS NULL OR c.closed_on > {asof})
    """


def _latest_reason_sql(p: _Params, as_of: datetime.date) -> str:
    """The latest refusal reason recorded on each case up to the end of ``as_of`` (corrected records
    give way to their corrections)."""
    before = p.add(_day_start(as_of + datetime.timedelta(days=1)), "reason_before")
    return f"""
      SELECT case_id, reason FROM (
        SELECT cr.case_id, cr.refusal_reason AS reason,
          ROW_NUMBER() OVER (PARTITION BY cr.case_id ORDER BY cr.at DESC, cr.id DESC) AS n
        FROM {T_CONTACT} cr
        WHERE cr.refusal_reason <> '' AND cr.at < {before}
          AND NOT EXISTS (SELECT 1 FROM {T_CONTACT} fix WHERE fix.corrects_id = cr.id)
      ) lr WHERE n = 1
    """


# --- promises and staff ----------------------------------------------------------------------------


def _behind_live(scope: ReportScope, q: Behind) -> tuple[str, _Params]:
    """SQL of rows (acc, fen, oldest, n) — account, what it owes for the figure, oldest due date,
    bills — of the accounts behind a figure, straight from the ledger."""
    figure, as_of, key, group_by, developer = q.figure, q.as_of, q.key, q.group_by, q.developer
    p = _Params()
    asof = p.add(as_of, "asof")
    conds = [scope_sql(scope, p), "b.kind = 'charge'"]
    group_cond = None
    conds += behind_conditions(q, p, "b")
    if key is not None and figure in ("current_unpaid", "recovery_unpaid", "not_clear", "aging"):
        group_cond = f"{GROUP_EXPR[group_by]} = {p.add(key, 'gkey')}"
        conds.append(group_cond)
    if developer is not None:
        conds.append(f"{_developer_expr(True)} = {p.add(1 if developer else 0, 'dev')}")
    if figure in ("class", "reason"):
        conds.append(f"b.account_id IN ({behind_cases(scope, as_of, figure, key, p)})")
    # The id subquery has no team join: it leaves the team key to the outer query.
    plain = [c for c in conds if not (group_by == "team" and c == group_cond)]
    restrict = _bills_where(" AND ".join(plain))
    adj = _sums_join(T_ADJ, "adj", {"asof": f"effective_date <= {asof}"}, restrict)
    alloc = _sums_join(T_ALLOC, "al", {"asof": f"effective_date <= {asof}"}, restrict)
    sql = f"""
    SELECT acc, SUM(o) AS fen, MIN(due) AS oldest, COUNT(*) AS n FROM (
      SELECT b.account_id AS acc, b.due_date AS due,
        {_cents("b.amount")} - COALESCE(adj.asof, 0) - COALESCE(al.asof, 0) AS o
      FROM {BILL_FROM}{_group_join(group_by)}{adj}{alloc}
      WHERE {" AND ".join(conds)}
    ) x WHERE o > 0 GROUP BY acc
    """
    return sql, p


def behind_cases(
    scope: ReportScope, as_of: datetime.date, figure: str, key: Any, p: _Params
) -> str:
    """SELECT of the accounts of the open cases with the class (``figure`` "class") or latest
    refusal reason ("reason") ``key``."""
    cases = _open_cases_sql(scope, as_of, p)
    if figure == "class":
        return f"SELECT acc FROM ({cases}) oc WHERE oc.cls = {p.add(key or '', 'cls')}"
    reasons = _latest_reason_sql(p, as_of)
    return (
        f"SELECT oc.acc FROM ({cases}) oc LEFT JOIN ({reasons}) lr ON lr.case_id = oc.case_id"
        f" WHERE COALESCE(lr.reason, '') = {p.add(key or '', 'reason')}"
    )
