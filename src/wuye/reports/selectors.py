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
so totals are exact to the fen on both. This module decides, per question, whether the summary tables
(``summary_rates``, ``summary_arrears``) can answer exactly, or the live SQL (``live``) must; views,
exports and figures call only this module. Both give the same
answers (``python -m wuye report_summary_check`` proves it for the stored summaries).

Each question that may use the summaries runs in ``summary_refresh.reading()`` (``@_one_snapshot``):
caught up on the primary, then read in one snapshot where the router reads — the read replica on a
report page (docs/operations/replica.md).
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from wuye.billing.calc import add_months, month_end
from wuye.billing.models import Account
from wuye.core.sorting import natural_key
from wuye.dunning import promise_kept
from wuye.dunning.enums import CaseClass, RefusalReason, Stage
from wuye.dunning.models import ArrearsCase
from wuye.reports import summary_arrears, summary_rates, summary_refresh
from wuye.reports.answers import (
    NO_CLASS_LABEL,
    NO_REASON,
    NO_REASON_LABEL,
    AccountRow,
    AgingRow,
    BreakdownRow,
    DebtorRow,
    PromiseRow,
    RateRow,
    StaffRow,
    _key,
    _sorted,
    _user_labels,
    group_labels,
    rate_row,
)
from wuye.reports.live import (
    _aging_live,
    _behind_live,
    _debtors_live,
    _latest_reason_sql,
    _open_cases_sql,
    _overdue_bills_sql,
    _rates_live,
)
from wuye.reports.sql import (
    GROUPS,
    T_BUILDING,
    T_CASE,
    T_CONTACT,
    T_ROOM,
    Behind,
    ReportScope,
    Window,
    _as_date,
    _day_start,
    _fen_to_money,
    _fetch,
    _Params,
    _rate,
    scope_sql,
)


def _one_snapshot(selector):
    """Runs a report question in ``summary_refresh.reading()`` unless it is asked live (the live SQL
    reads only the ledger: each statement is consistent by itself, and nothing is caught up)."""

    @functools.wraps(selector)
    def wrapped(*args, **kwargs):
        if kwargs.get("live"):
            return selector(*args, **kwargs)
        with summary_refresh.reading():
            return selector(*args, **kwargs)

    return wrapped


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


@_one_snapshot
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
    one pass over the facts (``summary_rates.rates_many``)."""
    for group_by in wanted:
        if group_by not in GROUPS:
            raise ValueError(f"unknown group {group_by!r}")
    many = None
    if not live:
        many = summary_rates.rates_many(scope, window, as_of, wanted)
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


@_one_snapshot
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
        months_sums = summary_rates.trend(scope, months, as_of, households=households)
        if months_sums is not None:
            return [(first, rate_row(None, "全公司", sums)) for first, sums in months_sums]
    out = []
    for back in range(months - 1, -1, -1):
        first = add_months(as_of, -back)
        last = month_end(first)
        row = collection_rates(scope, Window(first, last), min(last, as_of), live=live)[0]
        if not households:  # same contract as the summary path
            row.households_billed = row.households_clear = 0
            row.household_rate = None
        row.households_paid = None  # the trend draws the household rate only (both paths)
        out.append((first, row))
    return out


@_one_snapshot
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
        raw = summary_arrears.aging(scope, as_of, group_by, split_developer)
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
            natural_key(r.label),
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


@_one_snapshot
def top_debtors(
    scope: ReportScope, as_of: datetime.date, limit: int = 50, *, live: bool = False
) -> list[DebtorRow]:
    """欠费大户: accounts by overdue principal (outstanding on bills due before ``as_of``), with their
    oldest unpaid due date, unpaid late-fee bills and the case open on that date."""
    raw = None
    if not live:
        raw = summary_arrears.debtors(scope, as_of, limit)
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


def _case_debt_cte(scope: ReportScope, as_of: datetime.date, p: _Params, live: bool) -> str:
    """``WITH oc`` (the open cases), ``ob`` (overdue bills), ``debt`` (the cases' accounts' overdue
    principal)."""
    bills = None
    if not live:
        bills = summary_arrears.overdue_bills_sql(scope, as_of, p)
    if bills is None:
        bills = _overdue_bills_sql(scope, as_of, p, "company", False)
    # The cases are written out again in ``debt`` rather than read from ``oc``: PostgreSQL cannot
    # estimate a CTE's rows, guessed 200 accounts and looked each of the 58,820 up in AccountDebt
    # one by one (0.14 s at 1,000,000 rooms); from the table it hashes them and reads AccountDebt
    # once.
    return f"""
    WITH oc AS ({_open_cases_sql(scope, as_of, p)}), ob AS ({bills}),
    debt AS (
      SELECT acc, SUM(o) AS o FROM ob
      WHERE acc IN (SELECT oc2.acc FROM ({_open_cases_sql(scope, as_of, p)}) oc2)
      GROUP BY acc
    )"""


def _case_breakdown(
    scope: ReportScope, as_of: datetime.date, by_reason: bool, live: bool
) -> list[tuple]:
    p = _Params()
    ctes = _case_debt_cte(scope, as_of, p, live)
    if by_reason:
        key_sql = "COALESCE(lr.reason, '')"
        join = f" LEFT JOIN ({_latest_reason_sql(p, as_of)}) lr ON lr.case_id = oc.case_id"
    else:
        key_sql, join = "oc.cls", ""
    sql = f"""
    {ctes}
    SELECT {key_sql}, COUNT(*), SUM(COALESCE(debt.o, 0))
    FROM oc LEFT JOIN debt ON debt.acc = oc.acc{join}
    GROUP BY {key_sql}
    """
    return _fetch(sql, p)


def _class_rows(raw: list[tuple]) -> list[BreakdownRow]:
    labels = {c.value: str(c.label) for c in CaseClass}
    order = [c.value for c in CaseClass] + [""]
    rows = {
        key: BreakdownRow(key, labels.get(key, NO_CLASS_LABEL), int(n), _fen_to_money(fen))
        for key, n, fen in raw
    }
    return [rows[k] for k in order if k in rows]


def _reason_rows(raw: list[tuple]) -> list[BreakdownRow]:
    labels = {c.value: str(c.label) for c in RefusalReason}
    order = [c.value for c in RefusalReason] + [NO_REASON]
    rows = {
        key: BreakdownRow(key, labels.get(key, NO_REASON_LABEL), int(n), _fen_to_money(fen))
        for key, n, fen in raw
    }
    return [rows[k] for k in order if k in rows]


@_one_snapshot
def arrears_by_class(
    scope: ReportScope, as_of: datetime.date, *, live: bool = False
) -> list[BreakdownRow]:
    """Open cases by class (A–E, then unclassified) with the overdue principal of their accounts."""
    return _class_rows(_case_breakdown(scope, as_of, by_reason=False, live=live))


@_one_snapshot
def arrears_by_reason(
    scope: ReportScope, as_of: datetime.date, *, live: bool = False
) -> list[BreakdownRow]:
    """Open cases by the latest refusal reason on their contact records (none: "未说明拒缴理由")."""
    return _reason_rows(_case_breakdown(scope, as_of, by_reason=True, live=live))


@_one_snapshot
def arrears_breakdowns(
    scope: ReportScope, as_of: datetime.date, *, live: bool = False
) -> tuple[list[BreakdownRow], list[BreakdownRow]]:
    """``arrears_by_class`` and ``arrears_by_reason`` from one statement (the dashboard shows both:
    the open cases and their accounts' overdue principal are read once)."""
    p = _Params()
    # One pass grouped by class and reason; each breakdown adds its groups up here (no second pass,
    # no stored intermediate rows).
    sql = f"""
    {_case_debt_cte(scope, as_of, p, live)}
    SELECT oc.cls, COALESCE(lr.reason, ''), COUNT(*), SUM(COALESCE(debt.o, 0))
    FROM oc LEFT JOIN debt ON debt.acc = oc.acc
      LEFT JOIN ({_latest_reason_sql(p, as_of)}) lr ON lr.case_id = oc.case_id
    GROUP BY 1, 2
    """
    by_class: dict[str, list] = {}
    by_reason: dict[str, list] = {}
    for cls, reason, n, fen in _fetch(sql, p):
        for target, key in ((by_class, cls), (by_reason, reason)):
            row = target.setdefault(key, [0, 0])
            row[0] += int(n)
            row[1] += int(fen or 0)
    return (
        _class_rows([(k, n, fen) for k, (n, fen) in by_class.items()]),
        _reason_rows([(k, n, fen) for k, (n, fen) in by_reason.items()]),
    )


# --- promises and staff (always live: no summary holds contact records) --------------------------


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


def _behind_query(scope: ReportScope, q: Behind, live: bool) -> tuple[str, _Params]:
    if q.group_by not in GROUPS:
        raise ValueError(f"unknown group {q.group_by!r}")
    if not live:
        query = summary_arrears.behind(scope, q)
        if query is not None:
            return query
    return _behind_live(scope, q)


BEHIND_ORDER = " ORDER BY fen DESC, oldest, acc"


@_one_snapshot
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


@_one_snapshot
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
