# ruff: noqa: S608 — SQL here is assembled from table/column names and %(name)s placeholders only;
# every value is passed as a query parameter.
"""Report figures: collection rates, aging, top debtors, arrears breakdowns and staff figures.

Every figure follows GLOSSARY.md "Rates" exactly, computed in SQL over the ledger (one or a few
statements with conditional aggregation; never a Python loop over bills). For a bill and a date D:

    billed_net(D)  = amount − Σ BillAdjustment.amount   (effective_date ≤ D)
    received(D)    = Σ Allocation.amount                 (effective_date ≤ D; a reversal's negative rows cancel)
    outstanding(D) = billed_net(D) − received(D)

Principal only means bills of kind "charge"; late-fee bills are reported apart. "Not handed over" means
the bill's account is paid by the developer (``Person.is_developer``). The steward of a bill is its room's
building's steward (as today); a team is every active ``CollectionTeam`` whose leader, deputy or members
include that steward (a steward in two teams counts in both).

Unlike the household ledger (``wuye.ledger.selectors.visible_on``), a report does not hide bills created
after the report date: a report shows the ledger as known now, with every entry counted from its own
effective date (docs/decisions/0004-report-summaries.md).

Money is added up in fen (integers on SQLite, whose decimals are binary floats; numeric on PostgreSQL),
so totals are exact to the fen on both. Where the summary tables (``wuye.reports.summary``) answer a
question exactly, the functions here use them; otherwise they run the live SQL below. Both give the same
answers (``python -m wuye report_summary_check`` proves it for the stored summaries).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from wuye.billing.models import Account, Bill, BillAdjustment, FeeItem
from wuye.core.models import Project, User
from wuye.core.money import ZERO, money
from wuye.dunning import promise_kept
from wuye.dunning.enums import CaseClass, RefusalReason, Stage
from wuye.dunning.models import ArrearsCase, CollectionTeam, ContactRecord
from wuye.ledger.models import Allocation, Payment, PaymentReversal
from wuye.registry.models import Building, Person, Room

GROUPS = ("company", "project", "building", "steward", "team", "fee_item")
BUCKET_LABELS = ("3个月内", "3–6个月", "6–12个月", "1–2年", "2–3年", "3年以上")
# Upper bound (days past due, inclusive) of each bucket but the last.
BUCKET_DAYS = (90, 180, 365, 730, 1095)
FIGURES = ("current_unpaid", "recovery_unpaid", "not_clear", "aging", "class", "reason", "top")
RATE_PLACES = Decimal("0.0001")
NO_REASON = ""
NO_REASON_LABEL = "未说明拒缴理由"
NO_CLASS_LABEL = "未分类"


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


# --- the answers -----------------------------------------------------------------------------------


@dataclass
class RateRow:
    key: int | None
    label: str
    current_billed: Decimal = ZERO
    current_received: Decimal = ZERO
    current_rate: Decimal | None = None
    opening_arrears: Decimal = ZERO
    recovered: Decimal = ZERO
    recovery_rate: Decimal | None = None
    overall_rate: Decimal | None = None
    households_billed: int = 0
    households_clear: int = 0  # nothing overdue on the window's bills (GLOSSARY: 户数收缴率)
    household_rate: Decimal | None = None
    late_fee_billed: Decimal = ZERO
    late_fee_received: Decimal = ZERO
    # Owe nothing at all on the window's bills, due or not (None: not computed, e.g. the trend).
    households_paid: int | None = None

    def figures(self) -> tuple:
        """Every number of the row (for comparing two computations)."""
        return (
            self.current_billed,
            self.current_received,
            self.opening_arrears,
            self.recovered,
            self.households_billed,
            self.households_clear,
            self.households_paid,
            self.late_fee_billed,
            self.late_fee_received,
        )

    @property
    def paid_rate(self) -> Decimal | None:
        if self.households_paid is None:
            return None
        return _rate(self.households_paid, self.households_billed)

    @property
    def household_not_due(self) -> bool:
        """Nobody is behind only because nothing owed is due yet: the household rate would read
        100% early in a month, so the pages show 未到期 and the share that has paid everything."""
        return (
            self.households_paid is not None
            and self.households_billed > 0
            and self.households_clear == self.households_billed
            and self.households_paid < self.households_billed
        )

    @property
    def window_open(self) -> bool:
        """Some households with nothing overdue still owe bills not yet due: both figures differ and
        are shown side by side."""
        return (
            self.households_paid is not None
            and self.households_paid < self.households_clear
            and not self.household_not_due
        )


@dataclass
class AgingRow:
    key: int | None
    label: str
    developer: bool | None
    buckets: list[Decimal] = field(default_factory=lambda: [ZERO] * 6)
    counts: list[int] = field(default_factory=lambda: [0] * 6)  # accounts with money in the bucket
    total: Decimal = ZERO
    accounts: int = 0  # accounts with any overdue money (one account may sit in several buckets)


@dataclass
class DebtorRow:
    account_id: int
    room_id: int
    room_code: str
    payer_id: int
    payer_name: str  # the view masks it per role
    project_id: int
    project_name: str
    building_name: str
    developer: bool
    outstanding: Decimal
    oldest_due_date: datetime.date | None
    late_fee_outstanding: Decimal
    case_id: int | None = None
    case_class: str = ""
    case_class_label: str = ""
    stage: str = ""
    stage_label: str = ""


@dataclass
class BreakdownRow:
    key: str  # case class letter or refusal reason code; "" for none
    label: str
    cases: int
    amount: Decimal  # overdue principal of those cases' accounts as of the report date


@dataclass
class PromiseRow:
    key: int
    label: str
    promises: int
    kept: int
    rate: Decimal | None


@dataclass
class StaffRow:
    key: int | None
    label: str
    current_billed: Decimal
    current_received: Decimal
    recovered: Decimal
    received: Decimal  # current_received + recovered
    current_rate: Decimal | None
    contacts: int
    promises: int
    promises_kept: int
    promise_rate: Decimal | None


@dataclass
class AccountRow:
    """One household behind a figure (for click-through)."""

    account_id: int
    room_id: int
    room_code: str
    payer_id: int
    payer_name: str
    project_id: int
    project_name: str
    building_name: str
    developer: bool
    amount: Decimal
    oldest_due_date: datetime.date | None
    bills: int
    case_id: int | None = None
    case_class: str = ""
    stage: str = ""


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
    with connection.cursor() as cursor:
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


# --- labels ----------------------------------------------------------------------------------------


def group_labels(group_by: str, keys: Iterable[int | None]) -> dict[int | None, str]:
    keys = [k for k in keys if k]
    if group_by == "company":
        return {None: "全公司"}
    if group_by == "project":
        return dict(Project.objects.filter(pk__in=keys).values_list("pk", "name"))
    if group_by == "building":
        return {
            pk: f"{project} {name}"
            for pk, project, name in Building.objects.filter(pk__in=keys).values_list(
                "pk", "project__name", "name"
            )
        }
    if group_by == "steward":
        labels = {
            pk: display or username
            for pk, display, username in User.objects.filter(pk__in=keys).values_list(
                "pk", "display_name", "username"
            )
        }
        labels[None] = "（未指定楼管）"
        return labels
    if group_by == "team":
        return dict(CollectionTeam.objects.filter(pk__in=keys).values_list("pk", "name"))
    if group_by == "fee_item":
        rows = list(FeeItem.objects.filter(pk__in=keys).values_list("pk", "name", "project__name"))
        several = len({r[2] for r in rows}) > 1
        return {pk: f"{name}（{project}）" if several else name for pk, name, project in rows}
    raise ValueError(f"unknown group {group_by!r}")


def _key(group_by: str, value: Any) -> int | None:
    if group_by == "company" or not value:
        return None
    return int(value)


def _sorted(rows: list, group_by: str) -> list:
    if group_by == "company":
        return rows
    return sorted(rows, key=lambda r: (r.key is None, r.label, r.key or 0))


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


def rate_row(key: int | None, label: str, sums: dict[str, Any] | None) -> RateRow:
    """A RateRow from sums in fen (``cb`` current billed, ``cr`` current received, ``oa`` opening
    arrears, ``rec`` recovered, ``lb``/``lr`` late fees, ``n``/``clear`` households)."""
    s = sums or {}
    row = RateRow(
        key=key,
        label=label,
        current_billed=_fen_to_money(s.get("cb")),
        current_received=_fen_to_money(s.get("cr")),
        opening_arrears=_fen_to_money(s.get("oa")),
        recovered=_fen_to_money(s.get("rec")),
        households_billed=int(s.get("n") or 0),
        households_clear=int(s.get("clear") or 0),
        late_fee_billed=_fen_to_money(s.get("lb")),
        late_fee_received=_fen_to_money(s.get("lr")),
    )
    row.current_rate = _rate(row.current_received, row.current_billed)
    row.recovery_rate = _rate(row.recovered, row.opening_arrears)
    row.overall_rate = _rate(
        row.current_received + row.recovered, row.current_billed + row.opening_arrears
    )
    row.household_rate = _rate(row.households_clear, row.households_billed)
    if row.households_billed and s.get("paid") is not None:
        row.households_paid = int(s["paid"])
    return row


def collection_rates(
    scope: ReportScope,
    window: Window,
    as_of: datetime.date,
    group_by: str = "company",
    *,
    live: bool = False,
) -> list[RateRow]:
    """当期收缴率, 清欠率, 综合收缴率, 户数收缴率 and late fees per group (GLOSSARY.md "Rates").

    ``live=True`` skips the summary tables (the check command compares both)."""
    return collection_rates_many(scope, window, as_of, {group_by: True}, live=live)[group_by]


def collection_rates_many(
    scope: ReportScope,
    window: Window,
    as_of: datetime.date,
    wanted: dict[str, bool],
    *,
    live: bool = False,
) -> dict[str, list[RateRow]]:
    """``collection_rates`` for several groups (``wanted``: group → with the household figures;
    without them n and clear are 0 and the household rate None). From the summaries the groups share
    one pass over the facts (``summary.rates_many``)."""
    for group_by in wanted:
        if group_by not in GROUPS:
            raise ValueError(f"unknown group {group_by!r}")
    many = None
    if not live:
        from wuye.reports import summary

        many = summary.rates_many(scope, window, as_of, wanted)
    if many is None:
        many = {g: _rates_live(scope, window, as_of, g) for g in wanted}
    out = {}
    for group_by, sums in many.items():
        if group_by == "company":
            out[group_by] = [rate_row(None, "全公司", sums.get(0))]
            continue
        labels = group_labels(group_by, sums.keys())
        rows = [
            rate_row(_key(group_by, g), labels.get(_key(group_by, g), str(g)), s)
            for g, s in sums.items()
        ]
        out[group_by] = _sorted(rows, group_by)
    return out


def month_end(day: datetime.date) -> datetime.date:
    following = (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return following - datetime.timedelta(days=1)


def _months_back(day: datetime.date, n: int) -> datetime.date:
    year, month = divmod(day.year * 12 + day.month - 1 - n, 12)
    return datetime.date(year, month + 1, 1)


def rate_trend(
    scope: ReportScope,
    months: int,
    as_of: datetime.date,
    *,
    live: bool = False,
    households: bool = True,
) -> list[tuple[datetime.date, RateRow]]:
    """One company row per calendar month, the last being as_of's month: window = that month,
    report date = min(month end, as_of).

    ``households=False`` leaves the household figures out (0 billed, 0 clear, no household rate):
    counting the households of every month is most of the trend's cost and a chart that draws only
    the money rates (the dashboard's) does not need them. Every other figure is the same."""
    if not live:
        from wuye.reports import summary

        months_sums = summary.trend(scope, months, as_of, households=households)
        if months_sums is not None:
            return [(first, rate_row(None, "全公司", sums)) for first, sums in months_sums]
    out = []
    for back in range(months - 1, -1, -1):
        first = _months_back(as_of, back)
        last = month_end(first)
        row = collection_rates(scope, Window(first, last), min(last, as_of), live=live)[0]
        if not households:  # same contract as the summary path
            row.households_billed = row.households_clear = 0
            row.household_rate = None
        row.households_paid = None  # the trend draws the household rate only (both paths)
        out.append((first, row))
    return out


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


def aging(
    scope: ReportScope,
    as_of: datetime.date,
    group_by: str = "company",
    split_developer: bool = False,
    *,
    live: bool = False,
) -> list[AgingRow]:
    """账龄 as of ``as_of``: every principal bill due before it with money outstanding, by days past
    due (≤90, 91–180, 181–365, 366–730, 731–1095, >1095); ``counts`` are accounts per bucket."""
    if group_by not in GROUPS:
        raise ValueError(f"unknown group {group_by!r}")
    raw = None
    if not live:
        from wuye.reports import summary

        raw = summary.aging(scope, as_of, group_by, split_developer)
    if raw is None:
        raw = _aging_live(scope, as_of, group_by, split_developer)
    labels = group_labels(group_by, {r[0] for r in raw})
    rows: dict[tuple, AgingRow] = {}
    for g, dev, bucket, fen, accounts in raw:
        key = _key(group_by, g)
        developer = None if dev is None else bool(dev)
        row = rows.get((key, developer))
        if row is None:
            row = rows[(key, developer)] = AgingRow(
                key=key, label=labels.get(key, str(key)), developer=developer
            )
        if bucket == -1:
            row.total, row.accounts = _fen_to_money(fen), int(accounts)
        else:
            row.buckets[bucket], row.counts[bucket] = _fen_to_money(fen), int(accounts)
    if group_by == "company" and not rows:
        return [AgingRow(key=None, label="全公司", developer=None)]
    return sorted(
        rows.values(),
        key=lambda r: (
            r.key is None and group_by != "company",
            r.label,
            r.key or 0,
            bool(r.developer),
        ),
    )


# --- households: top debtors and the accounts behind a figure -------------------------------------


def _household_columns(account_id: int, d: dict[str, Any]) -> dict[str, Any]:
    """The household columns a debtor row and a click-through row share, from ``_account_details``."""
    case = d.get("case") or {}
    return {
        "account_id": account_id,
        "room_id": d["room_id"],
        "room_code": d["room__code"],
        "payer_id": d["payer_id"],
        "payer_name": d["payer__name"],
        "project_id": d["project_id"],
        "project_name": d["project__name"],
        "building_name": d["room__building__name"],
        "developer": d["payer__is_developer"],
        "case_id": case.get("pk"),
        "case_class": case.get("case_class", ""),
        "stage": case.get("stage", ""),
    }


def _account_details(account_ids: Sequence[int], as_of: datetime.date) -> dict[int, dict]:
    """Room, payer, project, building and the case open on ``as_of`` of each account (2 queries)."""
    details = {
        a["pk"]: a
        for a in Account.objects.filter(pk__in=account_ids).values(
            "pk",
            "room_id",
            "room__code",
            "payer_id",
            "payer__name",
            "payer__is_developer",
            "project_id",
            "project__name",
            "room__building__name",
        )
    }
    cases = (
        ArrearsCase.objects.filter(account_id__in=account_ids, opened_on__lte=as_of)
        .exclude(closed_on__lte=as_of)
        .order_by("account_id", "-opened_on", "-id")
        .values("account_id", "pk", "case_class", "stage")
    )
    for case in cases:
        d = details.get(case["account_id"])
        if d is not None and "case" not in d:
            d["case"] = case
    return details


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


def _as_date(value: Any) -> datetime.date | None:
    if value is None or isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value)[:10])


def top_debtors(
    scope: ReportScope, as_of: datetime.date, limit: int = 50, *, live: bool = False
) -> list[DebtorRow]:
    """欠费大户: accounts by overdue principal (outstanding on bills due before ``as_of``), with their
    oldest unpaid due date, unpaid late-fee bills and the case open on that date."""
    raw = None
    if not live:
        from wuye.reports import summary

        raw = summary.debtors(scope, as_of, limit)
    if raw is None:
        raw = _debtors_live(scope, as_of, limit)
    details = _account_details([r[0] for r in raw], as_of)
    class_labels, stage_labels = dict(CaseClass.choices), dict(Stage.choices)
    rows = []
    for acc, fen, oldest, late, _n in raw:
        household = _household_columns(acc, details[acc])
        rows.append(
            DebtorRow(
                **household,
                outstanding=_fen_to_money(fen),
                oldest_due_date=_as_date(oldest),
                late_fee_outstanding=_fen_to_money(late),
                case_class_label=str(class_labels.get(household["case_class"], "")),
                stage_label=str(stage_labels.get(household["stage"], "")),
            )
        )
    return rows


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


def _case_breakdown(
    scope: ReportScope, as_of: datetime.date, by_reason: bool, live: bool
) -> list[tuple]:
    p = _Params()
    cases = _open_cases_sql(scope, as_of, p)
    bills = None
    if not live:
        from wuye.reports import summary

        bills = summary.overdue_bills_sql(scope, as_of, p)
    if bills is None:
        bills = _overdue_bills_sql(scope, as_of, p, "company", False)
    if by_reason:
        key_sql = "COALESCE(lr.reason, '')"
        join = f" LEFT JOIN ({_latest_reason_sql(p, as_of)}) lr ON lr.case_id = oc.case_id"
    else:
        key_sql, join = "oc.cls", ""
    sql = f"""
    WITH oc AS ({cases}), ob AS ({bills}),
    debt AS (SELECT acc, SUM(o) AS o FROM ob WHERE acc IN (SELECT acc FROM oc) GROUP BY acc)
    SELECT {key_sql}, COUNT(*), SUM(COALESCE(debt.o, 0))
    FROM oc LEFT JOIN debt ON debt.acc = oc.acc{join}
    GROUP BY {key_sql}
    """
    return _fetch(sql, p)


def arrears_by_class(
    scope: ReportScope, as_of: datetime.date, *, live: bool = False
) -> list[BreakdownRow]:
    """Open cases by class (A–E, then unclassified) with the overdue principal of their accounts."""
    labels = {c.value: str(c.label) for c in CaseClass}
    order = [c.value for c in CaseClass] + [""]
    rows = {
        key: BreakdownRow(key, labels.get(key, NO_CLASS_LABEL), int(n), _fen_to_money(fen))
        for key, n, fen in _case_breakdown(scope, as_of, by_reason=False, live=live)
    }
    return [rows[k] for k in order if k in rows]


def arrears_by_reason(
    scope: ReportScope, as_of: datetime.date, *, live: bool = False
) -> list[BreakdownRow]:
    """Open cases by the latest refusal reason on their contact records (none: "未说明拒缴理由")."""
    labels = {c.value: str(c.label) for c in RefusalReason}
    order = [c.value for c in RefusalReason] + [NO_REASON]
    rows = {
        key: BreakdownRow(key, labels.get(key, NO_REASON_LABEL), int(n), _fen_to_money(fen))
        for key, n, fen in _case_breakdown(scope, as_of, by_reason=True, live=live)
    }
    return [rows[k] for k in order if k in rows]


# --- promises and staff ----------------------------------------------------------------------------


def _promises_sql(scope: ReportScope, window: Window, p: _Params) -> str:
    """Each promise made in the window (promise date ≤ window end), by whom, and whether it was kept
    by dunning's one rule (``wuye.dunning.promise_kept``)."""
    start = p.add(_day_start(window.start), "w_from")
    before = p.add(_day_start(window.end + datetime.timedelta(days=1)), "w_before")
    end = p.add(window.end, "w_end")
    where = scope_sql(scope, p, project="c.project_id", fee_item=None)
    return f"""
      SELECT cr.by_id AS who, {promise_kept.kept_sql("cr", "c.account_id")} AS kept
      FROM {T_CONTACT} cr JOIN {T_CASE} c ON c.id = cr.case_id
        JOIN {T_ROOM} r ON r.id = c.room_id JOIN {T_BUILDING} bd ON bd.id = r.building_id
      WHERE {where} AND cr.promise_date <= {end}
        AND cr.at >= {start} AND cr.at < {before} AND {promise_kept.standing_sql("cr")}
    """


def _user_labels(ids: Iterable[int | None]) -> dict[int | None, str]:
    return group_labels("steward", ids)


def promise_kept_by_steward(scope: ReportScope, window: Window) -> list[PromiseRow]:
    """承诺兑现率 per member of staff who took the promises (contact records of the window)."""
    p = _Params()
    sql = (
        f"SELECT who, COUNT(*), SUM(kept) FROM ({_promises_sql(scope, window, p)}) pr GROUP BY who"
    )
    raw = _fetch(sql, p)
    labels = _user_labels(r[0] for r in raw)
    rows = [
        PromiseRow(who, labels.get(who, str(who)), int(n), int(kept or 0), _rate(kept or 0, n))
        for who, n, kept in raw
    ]
    return sorted(rows, key=lambda r: (r.label, r.key))


def _contacts_by(scope: ReportScope, window: Window) -> dict[int, int]:
    p = _Params()
    start = p.add(_day_start(window.start), "w_from")
    before = p.add(_day_start(window.end + datetime.timedelta(days=1)), "w_before")
    where = scope_sql(scope, p, project="c.project_id", fee_item=None)
    sql = f"""
      SELECT cr.by_id, COUNT(*) FROM {T_CONTACT} cr JOIN {T_CASE} c ON c.id = cr.case_id
        JOIN {T_ROOM} r ON r.id = c.room_id JOIN {T_BUILDING} bd ON bd.id = r.building_id
      WHERE {where} AND cr.at >= {start} AND cr.at < {before} AND cr.corrects_id IS NULL
      GROUP BY cr.by_id
    """
    return dict(_fetch(sql, p))


def staff_leaderboard(
    scope: ReportScope,
    window: Window,
    as_of: datetime.date,
    steward_rates: list[RateRow] | None = None,
) -> list[StaffRow]:
    """Per steward: money received on their buildings (current + recovered), current rate, contacts
    made and promises kept in the window. Best first.

    ``steward_rates``: the window's steward rows when the caller has them already (the dashboard
    gets them with the company's from one pass; no household figure is used here)."""
    if steward_rates is None:
        steward_rates = collection_rates(scope, window, as_of, "steward")
    rates = {r.key: r for r in steward_rates}
    contacts = _contacts_by(scope, window)
    promises = {r.key: r for r in promise_kept_by_steward(scope, window)}
    keys = set(rates) | set(contacts) | set(promises)
    labels = _user_labels(keys)
    rows = []
    for key in keys:
        r = rates.get(key) or RateRow(key, "")
        pr = promises.get(key)
        rows.append(
            StaffRow(
                key=key,
                label=labels.get(key, str(key)),
                current_billed=r.current_billed,
                current_received=r.current_received,
                recovered=r.recovered,
                received=r.current_received + r.recovered,
                current_rate=r.current_rate,
                contacts=int(contacts.get(key, 0)),
                promises=pr.promises if pr else 0,
                promises_kept=pr.kept if pr else 0,
                promise_rate=pr.rate if pr else None,
            )
        )
    return sorted(rows, key=lambda r: (-r.received, r.key is None, r.label))


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


def _behind_query(scope: ReportScope, q: Behind, live: bool) -> tuple[str, _Params]:
    if q.group_by not in GROUPS:
        raise ValueError(f"unknown group {q.group_by!r}")
    if not live:
        from wuye.reports import summary

        query = summary.behind(scope, q)
        if query is not None:
            return query
    return _behind_live(scope, q)


BEHIND_ORDER = " ORDER BY fen DESC, oldest, acc"


def behind_totals(
    scope: ReportScope, *, limit: int | None = None, live: bool = False, **question: Any
) -> tuple[int, Decimal]:
    """How many households ``accounts_behind`` lists (at most ``limit``) and what they owe in all,
    without reading their rows (``question``: the figure, window, as_of … of ``Behind``)."""
    sql, p = _behind_query(scope, Behind(**question), live)
    if limit:
        sql = f"SELECT fen FROM ({sql}) q{BEHIND_ORDER} LIMIT {int(limit)}"
    [(n, fen)] = _fetch(f"SELECT COUNT(*), SUM(fen) FROM ({sql}) t", p)
    return int(n), _fen_to_money(fen)


def accounts_behind(
    scope: ReportScope,
    *,
    figure: str,
    window: Window | None,
    as_of: datetime.date,
    key: Any = None,
    bucket: int | None = None,
    group_by: str = "company",
    developer: bool | None = None,
    limit: int | None = None,
    offset: int = 0,
    live: bool = False,
) -> list[AccountRow]:
    """The households behind a number, largest first, with what they owe for it:

    - ``current_unpaid``: window bills (period in the window) with outstanding(as_of) > 0;
    - ``recovery_unpaid``: bills due before the window still outstanding on ``as_of``;
    - ``not_clear``: accounts billed in the window with a window bill due by ``as_of`` unpaid;
    - ``aging``: overdue bills, of ``bucket`` (0–5) when given, of ``developer`` accounts when given;
    - ``class`` / ``reason``: accounts of open cases with that class / latest refusal reason (``key``);
    - ``top``: the top debtors (``limit``, default 50).

    ``key`` with ``group_by`` narrows rate and aging figures to one group's row. ``limit`` and
    ``offset`` pick a page of the list in the database (a company's list runs to 100,000s)."""
    if figure == "top":
        debtors = top_debtors(scope, as_of, limit or 50, live=live)
        return [
            AccountRow(
                account_id=d.account_id,
                room_id=d.room_id,
                room_code=d.room_code,
                payer_id=d.payer_id,
                payer_name=d.payer_name,
                project_id=d.project_id,
                project_name=d.project_name,
                building_name=d.building_name,
                developer=d.developer,
                amount=d.outstanding,
                oldest_due_date=d.oldest_due_date,
                bills=0,
                case_id=d.case_id,
                case_class=d.case_class,
                stage=d.stage,
            )
            for d in debtors
        ][offset:]
    question = Behind(figure, window, as_of, key, bucket, group_by, developer)
    sql, p = _behind_query(scope, question, live)
    page = ""
    if limit:
        page = f" LIMIT {int(limit)}" + (f" OFFSET {int(offset)}" if offset else "")
    raw = _fetch(f"SELECT acc, fen, oldest, n FROM ({sql}) q{BEHIND_ORDER}{page}", p)
    details = _account_details([r[0] for r in raw], as_of)
    rows = []
    for acc, fen, oldest, n in raw:
        rows.append(
            AccountRow(
                **_household_columns(acc, details[acc]),
                amount=_fen_to_money(fen),
                oldest_due_date=_as_date(oldest),
                bills=int(n),
            )
        )
    return rows


def sum_rows(rows: Sequence[RateRow]) -> dict[str, Decimal]:
    """Money totals of rate rows (households are not additive across groups)."""
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for r in rows:
        for name in ("current_billed", "current_received", "opening_arrears", "recovered"):
            totals[name] += getattr(r, name)
    return dict(totals)
