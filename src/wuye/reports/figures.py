"""Page-ready shapes of the report figures: the dashboard's cards and chart data, the plan sheet and
plan progress. No SQL of its own beyond loading plan lines and names: every figure comes from
``selectors``, which compute it in the database.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlencode

from django.db.models import Count, Sum
from django.urls import reverse

from wuye.billing import calc
from wuye.core.models import User
from wuye.core.money import ZERO, allocate
from wuye.core.roles import Role
from wuye.dunning.models import CollectionTeam
from wuye.reports import answers, selectors, summary_refresh
from wuye.reports.access import Access
from wuye.reports.models import CollectionPlan, PlanSplit, PlanTarget
from wuye.reports.services import (
    TargetLine,
    period_count,
    period_label,
    period_window,
)
from wuye.reports.sql import ReportScope, Window

AGING_LABELS = ["3个月内", "3–6个月", "6–12个月", "1–2年", "2–3年", "3年以上"]
DAY = datetime.timedelta(days=1)


def percent(rate: Decimal | None) -> float | None:
    """A rate fraction as a chart number (93.12); None stays None (no denominator)."""
    return None if rate is None else float(round(rate * 100, 2))


def households_url(filters: dict, **params) -> str:
    """The click-through link for one figure: the page's filters plus what names the figure."""
    query = {
        "as_of": filters["as_of"].isoformat(),
        "window": "custom",
        "start": filters["start"].isoformat(),
        "end": filters["end"].isoformat(),
    }
    if filters.get("project"):
        query["project"] = filters["project"]
    query.update({k: v for k, v in params.items() if v is not None})
    return reverse("reports:households") + "?" + urlencode(query)


# --- dashboard -----------------------------------------------------------------------------------


@dataclass
class Board:
    head: answers.RateRow | None
    owed: Decimal
    owed_accounts: int
    trend: dict
    aging: dict
    aging_rows: list
    classes: list
    reasons: list
    leaders: list
    links: dict = field(default_factory=dict)

    def chart_data(self) -> dict:
        return {
            "trend": self.trend,
            "aging": self.aging,
            "classes": [
                {"name": r.label, "value": float(r.amount), "url": r.url} for r in self.classes
            ],
            "reasons": [
                {"name": r.label, "value": float(r.amount), "url": r.url} for r in self.reasons
            ],
        }


def dashboard(access: Access, f: dict) -> Board:
    # One catch-up and one snapshot for all of the page's questions (each would otherwise catch up
    # and open its own).
    with summary_refresh.reading():
        return _dashboard(access, f)


def _dashboard(access: Access, f: dict) -> Board:
    scope = access.scope(f.get("project"))
    window = Window(f["start"], f["end"])
    as_of = f["as_of"]
    # The company's rates and the leaderboard's per steward from one pass over the summaries; the
    # leaderboard shows no household figure, so the stewards' households are not counted.
    rates = selectors.collection_rates_many(
        scope, window, as_of, {"company": True, "steward": False}
    )
    head_rows = rates["company"]
    head = head_rows[0] if head_rows else None
    aging_rows = selectors.aging(scope, as_of, "company", split_developer=True)
    buckets = {True: [ZERO] * 6, False: [ZERO] * 6}
    counts = {True: [0] * 6, False: [0] * 6}
    for row in aging_rows:
        dev = bool(row.developer)
        buckets[dev] = [a + b for a, b in zip(buckets[dev], row.buckets, strict=True)]
        counts[dev] = [a + b for a, b in zip(counts[dev], row.counts, strict=True)]
    owed = sum((sum(b, ZERO) for b in buckets.values()), ZERO)
    # Accounts with any overdue money: developer and owner accounts are different accounts, so the
    # two rows add up (the per-bucket counts do not: one account can sit in several buckets).
    owed_accounts = sum(row.accounts for row in aging_rows)
    bucket_urls = [households_url(f, figure="aging", bucket=i) for i in range(6)]
    aging = {
        "labels": AGING_LABELS,
        "handed": [float(v) for v in buckets[False]],
        "developer": [float(v) for v in buckets[True]],
        "urls": bucket_urls,
        "totals": [str(buckets[False][i] + buckets[True][i]) for i in range(6)],
        "accounts": [counts[False][i] + counts[True][i] for i in range(6)],
    }
    classes, reasons = selectors.arrears_breakdowns(scope, as_of)
    for row in classes:
        row.url = households_url(f, figure="class", key=row.key)
    for row in reasons:
        row.url = households_url(f, figure="reason", key=row.key)
    leaders = selectors.staff_leaderboard(scope, window, as_of, rates["steward"])
    for row in leaders:
        row.url = households_url(f, figure="current_unpaid", group="steward", key=row.key)
    return Board(
        head=head,
        owed=owed,
        owed_accounts=owed_accounts,
        trend=trend(scope, access, f),
        aging=aging,
        aging_rows=[
            {
                "label": AGING_LABELS[i],
                "amount": buckets[False][i] + buckets[True][i],
                "developer": buckets[True][i],
                "accounts": aging["accounts"][i],
                "url": bucket_urls[i],
            }
            for i in range(6)
        ],
        classes=classes,
        reasons=reasons,
        leaders=leaders,
        links={
            "current": households_url(f, figure="current_unpaid"),
            "recovery": households_url(f, figure="recovery_unpaid"),
            "not_clear": households_url(f, figure="not_clear"),
            "top": households_url(f, figure="top"),
            "owed": households_url(f, figure="aging"),
            "debtors": reverse("reports:debtors")
            + "?"
            + urlencode(
                {
                    "as_of": as_of.isoformat(),
                    **({"project": f["project"]} if f.get("project") else {}),
                }
            ),
        },
    )


def trend(scope: ReportScope, access: Access, f: dict) -> dict:
    """12 months of rates with the plan's target: its rate as a line and its monthly amount beside
    what came in (current received + recovered)."""
    # The chart draws money rates only: skip the households of every month (most of the cost).
    months = selectors.rate_trend(scope, 12, f["as_of"], households=False)
    targets = monthly_targets(scope.project_ids, [m for m, _ in months], scope.steward_id)
    data: dict[str, list] = defaultdict(list)
    for month, row in months:
        data["months"].append(f"{month:%Y-%m}")
        data["current"].append(percent(row.current_rate))
        data["overall"].append(percent(row.overall_rate))
        data["received"].append(float(row.current_received + row.recovered))
        amount, rate = targets.get((month.year, month.month), (None, None))
        data["target"].append(None if amount is None else float(amount))
        data["target_rate"].append(None if rate is None else float(rate))
        start = calc.month_start(month)
        data["urls"].append(
            households_url(
                {**f, "start": start, "end": calc.month_end(month)}, figure="current_unpaid"
            )
        )
    return dict(data)


def monthly_targets(
    project_ids: tuple[int, ...], months: list[datetime.date], steward_id: int | None = None
) -> dict[tuple[int, int], tuple[Decimal, Decimal | None]]:
    """(year, month) → (Σ project-line targets of that month, target rate) over the plans of
    ``project_ids``. A quarter's figure is spread over its three months by largest remainder. With
    several projects the rate is their plans' rates weighted by annual target (the share of the money
    each plan stands for). With ``steward_id`` (a steward's own dashboard) the amounts are that
    steward's lines, to match the figures beside them."""
    years = sorted({m.year for m in months})
    owner = {"steward_id": steward_id} if steward_id else {"steward__isnull": True}
    lines = PlanTarget.objects.filter(
        plan__project_id__in=project_ids,
        plan__year__in=years,
        team__isnull=True,
        **owner,
    ).values_list("plan__year", "plan__split", "period_no", "amount")
    amounts: dict[tuple[int, int], Decimal] = defaultdict(lambda: ZERO)
    for year, split, period_no, amount in lines:
        if split == PlanSplit.MONTH:
            amounts[(year, period_no)] += amount
        else:
            for i, share in enumerate(allocate(amount, [Decimal(1)] * 3)):
                amounts[(year, 3 * (period_no - 1) + 1 + i)] += share
    rates: dict[int, Decimal | None] = {}
    plans = CollectionPlan.objects.filter(
        project_id__in=project_ids, year__in=years, target_rate__isnull=False
    ).values_list("year", "target_rate", "target_amount")
    weighted: dict[int, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for year, rate, amount in plans:
        weight = amount or Decimal(1)
        weighted[year][0] += rate * weight
        weighted[year][1] += weight
    for year, (num, den) in weighted.items():
        rates[year] = round(num / den, 2) if den else None
    return {(m.year, m.month): (amounts.get((m.year, m.month)), rates.get(m.year)) for m in months}


# --- collection plans ----------------------------------------------------------------------------


def plan_list(project_ids: list[int]) -> list[dict]:
    plans = (
        CollectionPlan.objects.filter(project_id__in=project_ids)
        .select_related("project")
        .annotate(lines=Count("targets"))
        .order_by("-year", "project__name")
    )
    sums = dict(
        PlanTarget.objects.filter(
            plan__project_id__in=project_ids, steward__isnull=True, team__isnull=True
        )
        .values("plan_id")
        .annotate(s=Sum("amount"))
        .values_list("plan_id", "s")
    )
    return [
        {
            "plan": p,
            "lines": p.lines,
            "split_total": sums.get(p.pk),
            "adds_up": sums.get(p.pk) == p.target_amount,
        }
        for p in plans
    ]


def _owner_key(steward_id: int | None, team_id: int | None) -> str:
    if steward_id:
        return f"s{steward_id}"
    if team_id:
        return f"t{team_id}"
    return "p"


def owner_choices(plan: CollectionPlan) -> dict:
    """The stewards and teams a plan line may name: staff of the project and its teams."""
    stewards = (
        User.objects.filter(
            memberships__project_id=plan.project_id,
            memberships__role__in=[Role.STEWARD, Role.SUPERVISOR, Role.OTHER_STAFF],
        )
        .distinct()
        .order_by("display_name", "id")
    )
    teams = CollectionTeam.objects.filter(project_id=plan.project_id).order_by("name")
    return {"stewards": list(stewards), "teams": list(teams)}


def plan_sheet(plan: CollectionPlan) -> dict:
    """The plan as a grid: a row for the project and one per steward or team with lines, a column per
    month or quarter."""
    n = period_count(plan.split)
    periods = [(i, period_label(plan.split, i)) for i in range(1, n + 1)]
    targets = list(plan.targets.select_related("steward", "team"))
    rows: dict[str, dict] = {"p": {"key": "p", "label": "项目合计", "kind": "project", "cells": {}}}
    for t in targets:
        key = _owner_key(t.steward_id, t.team_id)
        if key not in rows:
            label = str(t.steward) if t.steward_id else f"小组：{t.team}"
            rows[key] = {
                "key": key,
                "label": label,
                "kind": "steward" if t.steward_id else "team",
                "cells": {},
            }
        rows[key]["cells"][t.period_no] = t
    out = []
    for row in rows.values():
        cells = [row["cells"].get(i) for i in range(1, n + 1)]
        out.append(
            {
                **row,
                "cells": [
                    {
                        "n": i,
                        "amount": c.amount if c else None,
                        "households": c.households if c else None,
                    }
                    for i, c in zip(range(1, n + 1), cells, strict=True)
                ],
                "total": sum((c.amount for c in cells if c), ZERO),
            }
        )
    return {"periods": periods, "rows": out}


def _owner_of_key(plan: CollectionPlan, key: str) -> tuple[int | None, int | None]:
    if key == "p":
        return None, None
    if key[:1] in ("s", "t") and key[1:].isdigit():
        ident = int(key[1:])
        return (ident, None) if key[0] == "s" else (None, ident)
    raise ValueError("责任人：无法识别")


def sheet_lines(plan: CollectionPlan, post) -> list[TargetLine]:
    """The plan sheet posted back: fields ``a_<owner>_<period>`` (amount) and ``h_<owner>_<period>``
    (households). A blank amount is no line. Raises ValueError naming the cell at fault."""
    from wuye.reports.forms import parse_amount, parse_count

    n = period_count(plan.split)
    owners = {"p"} | {
        name.split("_")[1]
        for name in post
        if name.startswith(("a_", "h_")) and name.count("_") == 2
    }
    labels = {f"s{u.pk}": str(u) for u in owner_choices(plan)["stewards"]} | {
        f"t{t.pk}": f"小组 {t.name}" for t in owner_choices(plan)["teams"]
    }
    lines = []
    for key in sorted(owners):
        steward_id, team_id = _owner_of_key(plan, key)
        who = "项目" if key == "p" else labels.get(key, "责任人")
        for i in range(1, n + 1):
            where = f"{who} {period_label(plan.split, i)}"
            try:
                amount = parse_amount(post.get(f"a_{key}_{i}", ""))
            except ValueError as exc:
                raise ValueError(f"{where} 实收目标：{exc}") from exc
            try:
                households = parse_count(post.get(f"h_{key}_{i}", ""))
            except ValueError as exc:
                raise ValueError(f"{where} 目标缴清户数：{exc}") from exc
            if amount is None:
                if households is not None:
                    raise ValueError(f"{where}：填了目标户数就要填实收目标（可填 0）")
                continue
            lines.append(TargetLine(i, amount, households, steward_id, team_id))
    return lines


def owner_from_post(plan: CollectionPlan, post) -> dict:
    """The owner and figures of an even split (平均分配) posted from the plan page."""
    from wuye.reports.forms import parse_amount, parse_count

    steward_id, team_id = _owner_of_key(plan, post.get("owner", "p"))
    try:
        total = parse_amount(post.get("total", ""))
    except ValueError as exc:
        raise ValueError(f"年度金额：{exc}") from exc
    try:
        households = parse_count(post.get("households", ""))
    except ValueError as exc:
        raise ValueError(f"全年目标户数：{exc}") from exc
    return {"steward_id": steward_id, "team_id": team_id, "total": total, "households": households}


@dataclass
class ProgressRow:
    label: str
    target: Decimal | None
    actual: Decimal | None
    target_households: int | None
    households_billed: int | None
    households_clear: int | None
    expected: Decimal | None = None
    status: str = "future"  # future / ok / warn / behind / none

    @property
    def gap(self) -> Decimal | None:
        if self.target is None or self.actual is None:
            return None
        return self.target - self.actual

    @property
    def households_gap(self) -> int | None:
        if self.target_households is None or self.households_clear is None:
            return None
        return self.target_households - self.households_clear

    @property
    def unpaid_households(self) -> int | None:
        if self.households_billed is None:
            return None
        return self.households_billed - (self.households_clear or 0)

    @property
    def percent(self) -> Decimal | None:
        if not self.target or self.actual is None:
            return None
        return round(self.actual * 100 / self.target, 1)


def _status(target: Decimal | None, actual: Decimal, expected: Decimal | None) -> str:
    """On track when what came in reaches the share of the target due by now (the whole target for
    a finished period, a pro-rata share for the running one); within 10% of it is a warning."""
    if target is None or expected is None:
        return "none"
    if actual >= expected:
        return "ok"
    if actual >= expected * Decimal("0.9"):
        return "warn"
    return "behind"


def _added(rows: list[answers.RateRow]) -> answers.RateRow:
    total = answers.RateRow(None, "项目合计")
    for r in rows:
        total.current_received += r.current_received
        total.recovered += r.recovered
        total.households_billed += r.households_billed
        total.households_clear += r.households_clear
    return total


def _progress_row(
    label: str, t: PlanTarget | None, rate_row, started: bool, fraction: Decimal
) -> ProgressRow:
    target = t.amount if t else None
    households = t.households if t else None
    if not started:
        return ProgressRow(label, target, None, households, None, None)
    actual = (rate_row.current_received + rate_row.recovered) if rate_row else ZERO
    expected = None if target is None else (target * fraction).quantize(Decimal("0.01"))
    return ProgressRow(
        label,
        target,
        actual,
        households,
        rate_row.households_billed if rate_row else 0,
        rate_row.households_clear if rate_row else 0,
        expected,
        _status(target, actual, expected),
    )


@dataclass
class PeriodProgress:
    n: int
    label: str
    start: datetime.date
    end: datetime.date
    project: ProgressRow
    owners: list[ProgressRow]


def plan_progress(plan: CollectionPlan, as_of: datetime.date) -> dict:
    """Each period of the plan up to ``as_of``: target against actual received (current received +
    recovered in the period's window, as of ``as_of``) for the project and each steward or team with a
    line, with the gap in money and in households."""
    n = period_count(plan.split)
    targets = list(plan.targets.select_related("steward", "team"))
    by_owner: dict[tuple[str, int | None], dict[int, PlanTarget]] = defaultdict(dict)
    for t in targets:
        kind = "steward" if t.steward_id else "team" if t.team_id else "project"
        by_owner[(kind, t.steward_id or t.team_id)][t.period_no] = t
    names = {("steward", t.steward_id): str(t.steward) for t in targets if t.steward_id} | {
        ("team", t.team_id): f"小组：{t.team}" for t in targets if t.team_id
    }
    owner_keys = sorted(
        (k for k in by_owner if k[0] != "project"), key=lambda k: (k[0] != "steward", names[k])
    )
    scope = ReportScope(project_ids=(plan.project_id,))
    want_stewards = any(k[0] == "steward" for k in owner_keys)
    want_teams = any(k[0] == "team" for k in owner_keys)
    periods = []
    totals = {"target": ZERO, "actual": ZERO, "expected": ZERO}
    for i in range(1, n + 1):
        start, end = period_window(plan.year, plan.split, i)
        started = start <= as_of
        project_t = by_owner[("project", None)].get(i)
        if started:
            window = Window(start, end)
            fraction = Decimal((min(end, as_of) - start).days + 1) / Decimal((end - start).days + 1)
            if want_stewards:
                # Every account's bills sit in one room, hence one building and one steward (or the
                # "no steward" group), so the steward rows add up to the project's — money and
                # households alike — and one query serves both.
                rows = {"steward": selectors.collection_rates(scope, window, as_of, "steward")}
                rows[("project", None)] = [_added(rows["steward"])]
            else:
                rows = {
                    ("project", None): selectors.collection_rates(scope, window, as_of, "company")
                }
            if want_teams:
                rows["team"] = selectors.collection_rates(scope, window, as_of, "team")
        else:
            fraction = Decimal(0)
            rows = {}

        head = rows.get(("project", None)) or []
        project_row = _progress_row(
            "项目合计", project_t, head[0] if head else None, started, fraction
        )
        owners = []
        for key in owner_keys:
            t = by_owner[key].get(i)
            group = {r.key: r for r in rows.get(key[0], [])}
            owners.append(_progress_row(names[key], t, group.get(key[1]), started, fraction))
        if started and project_row.target is not None:
            totals["target"] += project_row.target
            totals["expected"] += project_row.expected or ZERO
        if started:
            totals["actual"] += project_row.actual or ZERO
        periods.append(
            PeriodProgress(i, period_label(plan.split, i), start, end, project_row, owners)
        )
    ytd_status = _status(totals["target"] or None, totals["actual"], totals["expected"] or None)
    return {
        "periods": periods,
        "ytd": totals,
        "ytd_gap": totals["target"] - totals["actual"],
        "ytd_status": ytd_status,
        "annual_gap": plan.target_amount - totals["actual"],
    }
