# ruff: noqa: S608 — SQL here is assembled from table/column names and %(name)s placeholders only;
# every value is passed as a query parameter.
"""The SQL the live report queries and the summary tables share: the question (scope, window, date),
the table names, parameters, the scope's WHERE, group expressions, sums of adjustments and allocations,
aging buckets, and which bills a figure's households owe on (``behind_conditions``).

The bottom of reports: it imports no other reports module. Above it ``live`` (queries straight from the
ledger) and the summary modules (``summary_refresh``, ``summary_read``, ``summary_rates``,
``summary_arrears``); on top ``selectors`` decides per question which one answers.

Money is added up in fen (integers on SQLite, whose decimals are binary floats; numeric on PostgreSQL),
so totals are exact to the fen on both.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from wuye.billing.models import Account, Bill, BillAdjustment
from wuye.core import db_router
from wuye.core.money import ZERO, money
from wuye.dunning.models import ArrearsCase, CollectionTeam, ContactRecord
from wuye.ledger.models import Allocation, Payment, PaymentReversal
from wuye.registry.models import Building, Person, Room

GROUPS = ("company", "project", "building", "steward", "team", "fee_item")
BUCKET_LABELS = ("3个月内", "3–6个月", "6–12个月", "1–2年", "2–3年", "3年以上")
# Upper bound (days past due, inclusive) of each bucket but the last.
BUCKET_DAYS = (90, 180, 365, 730, 1095)
RATE_PLACES = Decimal("0.0001")


# --- the question ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportScope:
    """What a report covers; built by views from the user's visible projects (wuye.core.scope)."""

    project_ids: tuple[int, ...]
    building_ids: tuple[int, ...] | None = None
    steward_id: int | None = None
    team_id: int | None = None
    fee_item_ids: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Window:
    """Inclusive dates."""

    start: datetime.date
    end: datetime.date


# --- helpers ---------------------------------------------------------------------------------------


def _rate(numerator: Decimal | int, denominator: Decimal | int) -> Decimal | None:
    """A fraction rounded to 4 places; None when there is nothing to divide by (never 100%)."""
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(RATE_PLACES, ROUND_HALF_UP)


def _fen_to_money(value: Any) -> Decimal:
    if value is None:
        return ZERO
    if isinstance(value, float):  # SQLite integer sums come back as int; guard anyway
        value = round(value)
    return money(Decimal(value) / 100)


def _cents(column: str) -> str:
    """The column in fen: exact integers on SQLite, numeric on PostgreSQL."""
    if connection.vendor == "sqlite":
        return f"CAST(ROUND(({column}) * 100) AS INTEGER)"
    return f"(({column}) * 100)"


T_BILL = Bill._meta.db_table
T_ADJ = BillAdjustment._meta.db_table
T_ALLOC = Allocation._meta.db_table
T_ROOM = Room._meta.db_table
T_BUILDING = Building._meta.db_table
T_ACCOUNT = Account._meta.db_table
T_PERSON = Person._meta.db_table
T_TEAM = CollectionTeam._meta.db_table
T_TEAM_MEMBERS = CollectionTeam.members.through._meta.db_table
T_CASE = ArrearsCase._meta.db_table
T_CONTACT = ContactRecord._meta.db_table
T_PAYMENT = Payment._meta.db_table
T_PAYMENT_REVERSAL = PaymentReversal._meta.db_table


def team_members_sql(active_only: bool = True) -> str:
    """(team_id, user_id) of every team's leader, deputy and members."""
    active = " AND t.is_active" if active_only else ""
    return (
        f"SELECT t.id AS team_id, t.leader_id AS user_id FROM {T_TEAM} t WHERE 1=1{active}"
        f" UNION SELECT t.id, t.deputy_id FROM {T_TEAM} t WHERE t.deputy_id IS NOT NULL{active}"
        f" UNION SELECT m.collectionteam_id, m.user_id FROM {T_TEAM_MEMBERS} m"
        f" JOIN {T_TEAM} t ON t.id = m.collectionteam_id WHERE 1=1{active}"
    )


class _Params:
    """Named SQL parameters, with IN-lists expanded."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def add(self, value: Any, name: str | None = None) -> str:
        name = name or f"p{len(self.values)}"
        self.values[name] = value
        return f"%({name})s"

    def in_list(self, values: Iterable[Any]) -> str:
        return "(" + ", ".join(self.add(v) for v in values) + ")"


def scope_sql(
    scope: ReportScope,
    params: _Params,
    *,
    project: str = "b.project_id",
    building: str = "r.building_id",
    steward: str = "bd.steward_id",
    fee_item: str | None = "b.fee_item_id",
) -> str:
    """The WHERE conditions of a scope, over the given columns. A scope without projects sees nothing."""
    if not scope.project_ids:
        return "1 = 0"
    parts = [f"{project} IN {params.in_list(scope.project_ids)}"]
    if scope.building_ids is not None:
        parts.append(
            f"{building} IN {params.in_list(scope.building_ids)}" if scope.building_ids else "1 = 0"
        )
    if scope.steward_id is not None:
        parts.append(f"{steward} = {params.add(scope.steward_id)}")
    if scope.team_id is not None:
        parts.append(
            f"{steward} IN (SELECT tm.user_id FROM ({team_members_sql(False)}) tm"
            f" WHERE tm.team_id = {params.add(scope.team_id)})"
        )
    if scope.fee_item_ids is not None and fee_item is not None:
        parts.append(
            f"{fee_item} IN {params.in_list(scope.fee_item_ids)}" if scope.fee_item_ids else "1 = 0"
        )
    return " AND ".join(parts)


# Group key of a bill row (0 stands for "none": ids start at 1).
GROUP_EXPR = {
    "company": "0",
    "project": "b.project_id",
    "building": "r.building_id",
    "steward": "COALESCE(bd.steward_id, 0)",
    "team": "tm.team_id",
    "fee_item": "b.fee_item_id",
}


def _group_join(group_by: str) -> str:
    if group_by not in GROUPS:
        raise ValueError(f"unknown group {group_by!r}")
    if group_by == "team":
        return f" JOIN ({team_members_sql()}) tm ON tm.user_id = bd.steward_id"
    return ""


BILL_FROM = (
    f"{T_BILL} b JOIN {T_ROOM} r ON r.id = b.room_id JOIN {T_BUILDING} bd ON bd.id = r.building_id"
    f" JOIN {T_ACCOUNT} a ON a.id = b.account_id JOIN {T_PERSON} p ON p.id = a.payer_id"
)


def _sums_join(table: str, alias: str, sums: dict[str, str], restrict: str | None = None) -> str:
    """LEFT JOIN of per-bill conditional sums (in fen) over adjustments or allocations; ``restrict``
    (a SELECT of bill ids) keeps the sums to the bills asked about (index lookups for a narrow scope
    instead of summing the whole table)."""
    cols = ", ".join(
        f"SUM(CASE WHEN {cond} THEN {_cents('amount')} ELSE 0 END) AS {name}"
        for name, cond in sums.items()
    )
    where = f" WHERE bill_id IN ({restrict})" if restrict else ""
    return (
        f" LEFT JOIN (SELECT bill_id, {cols} FROM {table}{where} GROUP BY bill_id) {alias}"
        f" ON {alias}.bill_id = b.id"
    )


def _bills_where(where: str) -> str:
    """The ids of the bills a WHERE over BILL_FROM picks (for ``_sums_join``)."""
    return f"SELECT b.id FROM {BILL_FROM} WHERE {where}"


def _fetch(sql: str, params: _Params) -> list[tuple]:
    """Rows of a report query, read where the router reads (the replica for a report page, unless the
    user has just written: docs/operations/replica.md)."""
    with db_router.read_connection().cursor() as cursor:
        cursor.execute(sql, params.values)
        return cursor.fetchall()


def _local_date(column: str, p: _Params) -> str:
    """The local calendar date of a timestamp column (settings.TIME_ZONE). SQLite keeps timestamps in
    UTC text and has no zone database: the zone's offset today is used (China has no summer time)."""
    if connection.vendor == "sqlite":
        offset = timezone.localtime().utcoffset() or datetime.timedelta(0)
        minutes = int(offset.total_seconds() // 60)
        return f"date({column}, {p.add(f'{minutes:+d} minutes', 'tz_shift')})"
    return f"CAST(({column} AT TIME ZONE {p.add(settings.TIME_ZONE, 'tz_name')}) AS date)"


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


# --- aging -----------------------------------------------------------------------------------------


def bucket_starts(as_of: datetime.date) -> list[datetime.date]:
    """The earliest due date of buckets 0..4 (bucket 5 is everything older)."""
    return [as_of - datetime.timedelta(days=d) for d in BUCKET_DAYS]


def bucket_case(column: str, p: _Params, as_of: datetime.date) -> str:
    whens = " ".join(
        f"WHEN {column} >= {p.add(start, f'bk{n}')} THEN {n}"
        for n, start in enumerate(bucket_starts(as_of))
    )
    return f"CASE {whens} ELSE 5 END"


def _developer_expr(split: bool) -> str:
    return "CASE WHEN p.is_developer THEN 1 ELSE 0 END" if split else "NULL"


def _as_date(value: Any) -> datetime.date | None:
    if value is None or isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value)[:10])


# --- the households behind a number ----------------------------------------------------------------


@dataclass(frozen=True)
class Behind:
    """Which households a figure stands for (see ``accounts_behind``)."""

    figure: str
    window: Window | None
    as_of: datetime.date
    key: Any = None
    bucket: int | None = None
    group_by: str = "company"
    developer: bool | None = None


def behind_conditions(q: Behind, p: _Params, alias: str) -> list[str]:
    """Which bills (over ``alias``: period, due date) a figure's households owe on."""
    figure, window, as_of, bucket = q.figure, q.window, q.as_of, q.bucket
    asof = p.add(as_of, "asof")
    if figure in ("current_unpaid", "not_clear", "recovery_unpaid"):
        if window is None:
            raise ValueError("这个数字需要统计区间")
        ws, we = p.add(window.start, "ws"), p.add(window.end, "we")
        if figure == "recovery_unpaid":
            return [f"{alias}.due_date < {ws}"]
        conds = [f"{alias}.period_start >= {ws} AND {alias}.period_start <= {we}"]
        if figure == "not_clear":
            conds.append(f"{alias}.due_date <= {asof}")
        return conds
    if figure in ("aging", "class", "reason", "top"):
        conds = [f"{alias}.due_date < {asof}"]
        if figure == "aging" and bucket is not None:
            bucket_of = bucket_case(f"{alias}.due_date", p, as_of)
            conds.append(f"{bucket_of} = {p.add(int(bucket), 'bucket')}")
        return conds
    raise ValueError(f"unknown figure {figure!r}")
