# ruff: noqa: S608 — SQL here is assembled from table/column names and %(name)s placeholders only;
# every value is passed as a query parameter.
"""Aging, top debtors and the households behind a figure from the summary tables (``AccountDebt`` on its
date, otherwise the open bills and late entries); ``None`` when the summaries cannot answer."""

from __future__ import annotations

import datetime

from wuye.reports import live
from wuye.reports import sql as shared
from wuye.reports.sql import (
    T_ADJ,
    T_ALLOC,
    ReportScope,
    _Params,
    bucket_case,
)
from wuye.reports.summary_read import GROUP_EXPR, _debt_ready, _group_join, _scope
from wuye.reports.summary_refresh import catch_up
from wuye.reports.summary_rollups import DEBT_TOTALS, derived_ready
from wuye.reports.summary_tables import T_DEBT, T_DEBT_TOTAL, T_OPEN, _fetch, _overdue_on


def aging(
    scope: ReportScope, as_of: datetime.date, group_by: str, split_developer: bool
) -> list[tuple] | None:
    """Rows (g, dev, bucket, fen, accounts) as ``selectors._aging_live``, from the summaries."""
    if catch_up() is None:
        return None
    debt = _debt_ready(scope, as_of, group_by)
    if debt is not None:
        if not debt.shared_accounts and derived_ready(DEBT_TOTALS, debt):
            return _aging_from_totals(scope, group_by, split_developer)
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
    return _aging_rows(_fetch(sql, p.values))


def _aging_from_totals(scope: ReportScope, group_by: str, split_developer: bool) -> list[tuple]:
    """``aging`` from DebtTotal (AccountDebt added up per building and payer type): while no account
    has rows in two buildings, an account is one AccountDebt row, so its group's sums and counts are
    the sums of its buildings'."""
    p = _Params()
    dev = "CASE WHEN f.developer THEN 1 ELSE 0 END" if split_developer else "NULL"
    per_group = ", ".join(f"SUM(f.b{n}_fen), SUM(f.n{n})" for n in range(6))
    sql = f"""
      SELECT {GROUP_EXPR[group_by]} AS g, {dev} AS dev, {per_group}, SUM(f.principal_fen),
        SUM(f.accounts)
      FROM {T_DEBT_TOTAL} f{_group_join(group_by, scope)}
      WHERE {_scope(scope, p)}
      GROUP BY 1, 2
    """
    return _aging_rows(_fetch(sql, p.values))


def _aging_rows(raw: list[tuple]) -> list[tuple]:
    """Rows (g, dev, bucket, fen, accounts) — bucket −1 the total — from rows of (g, dev, then fen and
    accounts of each bucket, then the total's)."""
    rows = []
    for g, dev, *figures in raw:
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


def behind(scope: ReportScope, q: shared.Behind) -> tuple[str, _Params] | None:
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
    conds += shared.behind_conditions(q, p, "f")
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
