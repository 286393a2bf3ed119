# ruff: noqa: S608 — SQL here is assembled from table/column names and %(name)s placeholders only;
# every value is passed as a query parameter.
"""What the report queries over the summaries share: the scope and group of a fact row, which fact table
answers (per building or per steward), whether ``AccountDebt`` is for the report's date."""

from __future__ import annotations

import datetime
from typing import Any

from wuye.reports.models import (
    RollupState,
)
from wuye.reports.sql import (
    T_BUILDING,
    ReportScope,
    _Params,
    scope_sql,
    team_members_sql,
)
from wuye.reports.summary_rollups import _rollup
from wuye.reports.summary_tables import DEBT_STATE, STEWARD_STATE, T_FACT, T_SFACT

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
    return _rollup_ready(DEBT_STATE, scope, as_of, group_by)


def _rollup_ready(
    name: str, scope: ReportScope, as_of: datetime.date, group_by: str = "company"
) -> RollupState | None:
    """The state of a roll-up by account for one date (AccountDebt, AccountOwing) when it answers
    for this date and question (it has no fee items); else None."""
    if scope.fee_item_ids is not None or group_by == "fee_item":
        return None
    state = _rollup(name)
    return state if state is not None and state.as_of == as_of else None


def _month_first(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def _add(target: dict, key: Any, values: dict) -> None:
    row = target.setdefault(key, {})
    for name, value in values.items():
        row[name] = (row.get(name) or 0) + (value or 0)
