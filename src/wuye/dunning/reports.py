"""催缴日报表: what each steward did in a day, week or month, and how far each team is from its target.

Every figure is one grouped query over the period (no query per steward or per case):

* contacts, reached, promises and the amount promised come from the contact records the steward made
  (a correction is not a second contact, so corrections are left out);
* the amount collected comes from the ledger: payments (not reversed) made in the period by a household
  whose case — open at some time in the period — is assigned to the steward. A payment that closes the
  case still counts for the steward who chased it.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, DecimalField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from wuye.billing import calc
from wuye.core import hooks, xlsx
from wuye.core.models import User
from wuye.core.money import money
from wuye.dunning.models import ArrearsCase, CollectionTeam, ContactRecord
from wuye.ledger.models import Payment

DAY = datetime.timedelta(days=1)
PERIODS = {"day": "日报", "week": "周报", "month": "月报"}
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Period:
    kind: str  # day / week / month
    start: datetime.date
    end: datetime.date  # inclusive

    @property
    def label(self) -> str:
        if self.kind == "day":
            return f"{self.start:%Y-%m-%d}"
        if self.kind == "month":
            return f"{self.start:%Y年%m月}"
        return f"{self.start:%Y-%m-%d} 至 {self.end:%Y-%m-%d}"


def period_of(kind: str, on: datetime.date) -> Period:
    """The day, the week (Monday to Sunday) or the calendar month that contains ``on``."""
    if kind == "week":
        start = on - on.weekday() * DAY
        return Period(kind, start, start + 6 * DAY)
    if kind == "month":
        start = calc.month_start(on)
        return Period(kind, start, calc.add_months(start, 1) - DAY)
    return Period("day", on, on)


@dataclass
class StewardRow:
    user: User
    contacts: int = 0
    reached: int = 0
    promises: int = 0
    promised_amount: Decimal = ZERO
    collected: Decimal = ZERO
    paying_households: int = 0


@dataclass
class TeamRow:
    team: CollectionTeam
    target: Decimal
    collected: Decimal
    start: datetime.date
    end: datetime.date

    @property
    def percent(self) -> int:
        return int(self.collected * 100 / self.target) if self.target else 0


@dataclass(frozen=True)
class ReportSection:
    """A block an upper app adds to the report (``WUYE_DAILY_REPORT_SECTIONS``): rendered with
    ``template``, which reads ``section.context``."""

    title: str
    template: str
    context: dict


@dataclass
class Report:
    period: Period
    rows: list[StewardRow]
    teams: list[TeamRow] = field(default_factory=list)
    sections: list[ReportSection] = field(default_factory=list)

    @property
    def total(self) -> StewardRow:
        total = StewardRow(user=None)  # type: ignore[arg-type]
        for row in self.rows:
            total.contacts += row.contacts
            total.reached += row.reached
            total.promises += row.promises
            total.promised_amount += row.promised_amount
            total.collected += row.collected
            total.paying_households += row.paying_households
        return total


def _bounds(
    start: datetime.date, end: datetime.date
) -> tuple[datetime.datetime, datetime.datetime]:
    tz = timezone.get_current_timezone()
    return (
        datetime.datetime.combine(start, datetime.time.min, tzinfo=tz),
        datetime.datetime.combine(end + DAY, datetime.time.min, tzinfo=tz),
    )


def _cases_open_during(project_ids: Iterable[int], start: datetime.date, end: datetime.date):
    return ArrearsCase.objects.filter(project_id__in=list(project_ids), opened_on__lte=end).filter(
        Q(closed_on__isnull=True) | Q(closed_on__gte=start)
    )


def collected_by_assignee(
    project_ids: Iterable[int], start: datetime.date, end: datetime.date
) -> dict[int, tuple[Decimal, int]]:
    """assignee id → (Σ payments in [start, end] by households of their cases, households paying)."""
    project_ids = list(project_ids)
    # The latest case of the account that was open in the period decides whose work the payment was
    # (an account can have a closed and a reopened case: counting both would count the money twice).
    steward = Subquery(
        _cases_open_during(project_ids, start, end)
        .filter(account_id=OuterRef("account_id"))
        .order_by("-opened_on", "-id")
        .values("assignee_id")[:1]
    )
    rows = (
        Payment.objects.filter(
            project_id__in=project_ids,
            business_date__gte=start,
            business_date__lte=end,
            reversal__isnull=True,
        )
        .annotate(steward=steward)
        .filter(steward__isnull=False)
        .values("steward")
        .annotate(total=Sum("amount"), households=Count("account_id", distinct=True))
    )
    return {r["steward"]: (money(r["total"]), r["households"]) for r in rows}


def steward_report(*, project_ids: Iterable[int], period: Period) -> Report:
    """催缴日报表 (or 周报/月报) over ``project_ids``: one row per steward who made a contact or whose
    households paid in the period, sorted by name."""
    project_ids = list(project_ids)
    lo, hi = _bounds(period.start, period.end)
    contact_rows = (
        ContactRecord.objects.filter(
            project_id__in=project_ids, at__gte=lo, at__lt=hi, corrects__isnull=True
        )
        .values("by")
        .annotate(
            contacts=Count("id"),
            reached=Count("id", filter=Q(reached=True)),
            promises=Count("id", filter=Q(promise_date__isnull=False)),
            promised=Coalesce(
                Sum("promise_amount"), Value(ZERO), output_field=DecimalField(decimal_places=2)
            ),
        )
    )
    contacts = {r["by"]: r for r in contact_rows}
    collected = collected_by_assignee(project_ids, period.start, period.end)
    users = {u.pk: u for u in User.objects.filter(pk__in=set(contacts) | set(collected))}
    rows = []
    for user_id, user in users.items():
        c = contacts.get(user_id, {})
        amount, households = collected.get(user_id, (ZERO, 0))
        rows.append(
            StewardRow(
                user=user,
                contacts=c.get("contacts", 0),
                reached=c.get("reached", 0),
                promises=c.get("promises", 0),
                promised_amount=money(c.get("promised", ZERO)),
                collected=amount,
                paying_households=households,
            )
        )
    rows.sort(key=lambda r: (str(r.user), r.user.pk))
    return Report(
        period=period,
        rows=rows,
        teams=team_progress(project_ids=project_ids, on=period.end),
        sections=report_sections(project_ids=project_ids, period=period),
    )


def report_sections(*, project_ids: list[int], period: Period) -> list[ReportSection]:
    """Blocks of upper apps (the early warnings of wuye.alerts), listed in
    ``settings.WUYE_DAILY_REPORT_SECTIONS`` as dotted paths of ``f(project_ids=, period=)`` returning
    a ``ReportSection`` or ``None``: dunning cannot import them itself."""
    sections = hooks.call_each("WUYE_DAILY_REPORT_SECTIONS", project_ids=project_ids, period=period)
    return [section for section in sections if section is not None]


def team_progress(*, project_ids: Iterable[int], on: datetime.date) -> list[TeamRow]:
    """Each active team's collections against its target, from the team's start date (or the start of
    the month of ``on``) to its end date or ``on``, whichever comes first. Collections count payments
    by households whose cases are assigned to the leader, the deputy or a member."""
    teams = list(
        CollectionTeam.objects.filter(project_id__in=list(project_ids), is_active=True)
        .select_related("leader", "deputy")
        .prefetch_related("members")
        .order_by("project_id", "name")
    )
    result = []
    for team in teams:
        start = team.starts_on or calc.month_start(on)
        end = min(team.ends_on, on) if team.ends_on else on
        people = {team.leader_id, team.deputy_id, *(m.pk for m in team.members.all())} - {None}
        # One grouped query per team: a company runs a handful of campaign teams at a time.
        by_person = collected_by_assignee([team.project_id], start, end) if end >= start else {}
        total = sum((by_person[p][0] for p in people if p in by_person), ZERO)
        result.append(
            TeamRow(
                team=team, target=team.target_amount, collected=money(total), start=start, end=end
            )
        )
    return result


def report_xlsx(report: Report, *, project_names: str) -> bytes:
    """The report as an Excel workbook: the filters in the header rows, money as numbers."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = xlsx.workbook(write_only=False)
    ws = wb.active
    ws.title = "催缴" + PERIODS[report.period.kind]
    ws.append([f"催缴{PERIODS[report.period.kind]}表"])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(["项目", project_names, "期间", report.period.label])
    ws.append(["导出时间", f"{timezone.localtime():%Y-%m-%d %H:%M}"])
    ws.append([])
    header = [
        "责任人",
        "联系次数",
        "联系上",
        "承诺户次",
        "承诺金额（元）",
        "回款户数",
        "回款金额（元）",
    ]
    ws.append(header)
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    for row in [*report.rows, report.total]:
        ws.append(
            [
                str(row.user) if row.user else "合计",
                row.contacts,
                row.reached,
                row.promises,
                row.promised_amount,
                row.paying_households,
                row.collected,
            ],
        )
        for col in (5, 7):
            ws.cell(ws.max_row, col).number_format = "#,##0.00"
    if report.teams:
        ws.append([])
        ws.append(["催收小组", "组长", "期间", "任务金额（元）", "已回款（元）", "完成率"])
        for cell in ws[ws.max_row]:
            cell.font = Font(bold=True)
        for t in report.teams:
            ws.append(
                [
                    t.team.name,
                    str(t.team.leader),
                    f"{t.start:%Y-%m-%d} 至 {t.end:%Y-%m-%d}",
                    t.target,
                    t.collected,
                    f"{t.percent}%",
                ],
            )
            for col in (4, 5):
                ws.cell(ws.max_row, col).number_format = "#,##0.00"
    for i, width in enumerate([16, 12, 22, 14, 14, 12, 14], start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    return xlsx.save(wb)
