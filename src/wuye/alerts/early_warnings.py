"""预警: the daily run that raises early warnings for managers, set-based and idempotent.

Five kinds, each found by a fixed number of grouped queries over the whole project:

* **large sum newly overdue** — an account whose bills that fell due in the last
  ``large_overdue_days`` days (and are unpaid) add up to ``large_overdue_amount`` or more; key: the
  latest of those due dates (a new large bill later raises a new warning);
* **a reliable payer who suddenly stops** — the credit file (``credit.CreditFile``) shows at least
  ``reliable_min_bills`` settled bills, ``reliable_on_time_ratio`` of them paid on time, yet the
  ledger now shows money overdue past the dunning grace period; key: the oldest overdue due date;
* **repeated complaints, now in arrears** — an open arrears case on a room with at least
  ``complaints_count`` repair/complaint tickets still open or opened in the last ``complaints_days``
  days; key: the case;
* **promises broken twice** — an open case whose credit file counts ``broken_promises`` broken
  promises or more; key: the case;
* **limitation deadline close** — an open case with a bill whose three-year limitation ends within
  ``limitation_days`` days, or has ended (``dunning.limitation``'s own computation); key: the bill and
  the alert level (90, 30, expired), so the 30-day warning follows the 90-day one.

A warning is unique per (kind, account, key) in the database, so a rerun, or tomorrow's run, raises
nothing twice; an acknowledged warning stays acknowledged.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, F, Max, Q, Sum

from wuye.alerts import WarningKind
from wuye.alerts.models import AlertSettings, Warning
from wuye.billing.models import Account, Bill
from wuye.core.audit import audit_record
from wuye.core.models import Project, User
from wuye.core.money import money, to_decimal
from wuye.credit.models import CreditFile
from wuye.dunning import limitation
from wuye.dunning.enums import CaseState
from wuye.dunning.models import ArrearsCase
from wuye.dunning.rules import dunning_settings
from wuye.dunning.selectors import overdue_by_account
from wuye.ledger.selectors.outstanding import bill_outstanding
from wuye.registry.models import ServiceTicket

DAY = datetime.timedelta(days=1)
COMPLAINT_CATEGORIES = ("repair", "complaint")
OPEN_TICKET_STATES = ("open", "processing")


@dataclass(frozen=True)
class Candidate:
    kind: str
    account_id: int
    key: str
    amount: Decimal
    detail: str
    case_id: int | None = None


@dataclass
class WarningsResult:
    on: datetime.date
    raised: dict[str, int] = field(default_factory=dict)
    already: int = 0  # found again, raised on an earlier run

    @property
    def total(self) -> int:
        return sum(self.raised.values())

    def as_dict(self) -> dict[str, object]:
        return {"on": self.on.isoformat(), "raised": self.raised, "already": self.already}


def settings_for(project_id: int) -> AlertSettings:
    return AlertSettings.objects.filter(project_id=project_id).first() or AlertSettings(
        project_id=project_id
    )


def _open_cases(project_id: int) -> dict[int, ArrearsCase]:
    rows = ArrearsCase.objects.filter(project_id=project_id, state=CaseState.OPEN).only(
        "id", "account_id", "room_id", "overdue_amount", "oldest_due_date"
    )
    return {c.account_id: c for c in rows}


def large_overdue(
    project_id: int, on: datetime.date, s: AlertSettings, cases: dict[int, ArrearsCase]
) -> list[Candidate]:
    since = on - s.large_overdue_days * DAY
    bills = Bill.objects.filter(project_id=project_id, due_date__lt=on, due_date__gte=since)
    rows = (
        bill_outstanding(bills, on)
        .filter(outstanding__gt=0)
        .order_by()
        .values("account_id")
        .annotate(total=Sum("outstanding"), n=Count("id"), latest=Max("due_date"))
        .values_list("account_id", "total", "n", "latest")
    )
    found = []
    for account_id, total, n, latest in rows:
        total = money(total)
        if total < to_decimal(s.large_overdue_amount):
            continue
        case = cases.get(account_id)
        found.append(
            Candidate(
                WarningKind.LARGE_OVERDUE,
                account_id,
                f"due-{latest.isoformat()}",
                total,
                f"近 {s.large_overdue_days} 天新到期未缴 ¥{total}（{n} 笔，最近到期 {latest:%Y-%m-%d}），"
                f"达到大额预警线 ¥{money(s.large_overdue_amount)}",
                case.pk if case else None,
            )
        )
    return found


def reliable_stopped(
    project_id: int, on: datetime.date, s: AlertSettings, cases: dict[int, ArrearsCase]
) -> list[Candidate]:
    # In whole ten-thousandths (the ratio has four places): integer arithmetic on both databases.
    ratio = int(to_decimal(s.reliable_on_time_ratio) * 10000)
    files = {
        f.account_id: f
        for f in CreditFile.objects.filter(project_id=project_id)
        .annotate(settled=F("bills_count") - F("unpaid_count"))
        .filter(settled__gte=max(s.reliable_min_bills, 1))
        .annotate(on_time_scaled=F("on_time_count") * 10000, needed=F("settled") * ratio)
        .filter(on_time_scaled__gte=F("needed"))
        .only("account_id", "on_time_count", "bills_count", "unpaid_count")
    }
    if not files:
        return []
    # Past the grace period, as the dunning run sees it: a transfer in transit is not "stopping".
    cutoff = on - dunning_settings(project_id).grace_days * DAY
    overdue = overdue_by_account(project_id, on, list(files))
    found = []
    for account_id, owed in overdue.items():
        if owed.oldest_due_date >= cutoff:
            continue
        f = files[account_id]
        percent = round(100 * f.on_time_count / f.settled)
        case = cases.get(account_id)
        found.append(
            Candidate(
                WarningKind.RELIABLE_STOPPED,
                account_id,
                f"since-{owed.oldest_due_date.isoformat()}",
                owed.amount,
                f"一向按时缴费（{f.settled} 笔中 {percent}% 按时），自 {owed.oldest_due_date:%Y-%m-%d} "
                f"起欠费 ¥{owed.amount}：先了解原因（是否有困难或对服务有意见）",
                case.pk if case else None,
            )
        )
    return found


def complaints_in_arrears(
    project_id: int, on: datetime.date, s: AlertSettings, cases: dict[int, ArrearsCase]
) -> list[Candidate]:
    if not cases:
        return []
    since = on - s.complaints_days * DAY
    rows = (
        ServiceTicket.objects.filter(project_id=project_id, category__in=COMPLAINT_CATEGORIES)
        .filter(Q(state__in=OPEN_TICKET_STATES) | Q(opened_at__date__gte=since))
        .filter(opened_at__date__lte=on)
        .order_by()
        .values("room_id")
        .annotate(n=Count("id"), open=Count("id", filter=Q(state__in=OPEN_TICKET_STATES)))
        .filter(n__gte=s.complaints_count)
        .values_list("room_id", "n", "open")
    )
    by_room = {room_id: (n, still_open) for room_id, n, still_open in rows}
    return [
        Candidate(
            WarningKind.COMPLAINTS,
            case.account_id,
            f"case-{case.pk}",
            case.overdue_amount,
            f"近 {s.complaints_days} 天报修/投诉 {by_room[case.room_id][0]} 次"
            f"（未完成 {by_room[case.room_id][1]} 件），现欠费 ¥{case.overdue_amount}："
            "先处理问题再谈缴费，升级前须主管研判（业主抗辩可能成立：《民法典》第九百四十二条）",
            case.pk,
        )
        for case in cases.values()
        if case.room_id in by_room
    ]


def promises_broken(
    project_id: int, on: datetime.date, s: AlertSettings, cases: dict[int, ArrearsCase]
) -> list[Candidate]:
    if not cases:
        return []
    rows = CreditFile.objects.filter(
        project_id=project_id, promises_broken__gte=s.broken_promises, account_id__in=list(cases)
    ).values_list("account_id", "promises_broken", "promises_made")
    found = []
    for account_id, broken, made in rows:
        case = cases[account_id]
        found.append(
            Candidate(
                WarningKind.PROMISES_BROKEN,
                account_id,
                f"case-{case.pk}",
                case.overdue_amount,
                f"承诺缴费 {made} 次，失约 {broken} 次，现欠费 ¥{case.overdue_amount}："
                "请主管研判下一步（上门或书面催告）",
                case.pk,
            )
        )
    return found


def limitation_close(
    project_id: int, on: datetime.date, s: AlertSettings, cases: dict[int, ArrearsCase]
) -> list[Candidate]:
    found = []
    for near in limitation.cases_near_deadline([project_id], on, s.limitation_days):
        earliest = near.clock.earliest
        level = earliest.level or str(s.limitation_days)
        close = [b for b in near.clock.bills if b.days_left <= s.limitation_days]
        amount = money(sum(b.outstanding for b in close))
        when = (
            f"已于 {earliest.deadline:%Y-%m-%d} 届满"
            if earliest.days_left < 0
            else f"将于 {earliest.deadline:%Y-%m-%d} 届满（剩 {earliest.days_left} 天）"
        )
        found.append(
            Candidate(
                WarningKind.LIMITATION,
                near.case.account_id,
                f"bill-{earliest.bill_id}-{level}",
                amount,
                f"{earliest.label} 的诉讼时效{when}，{len(close)} 笔共 ¥{amount}："
                f"送达书面催告或取得书面确认以中断时效（{limitation.LAW_7}）",
                near.case.pk,
            )
        )
    return found


FINDERS = (
    large_overdue,
    reliable_stopped,
    complaints_in_arrears,
    promises_broken,
    limitation_close,
)


def warnings_run(
    *, project: Project, on: datetime.date, user: User | None = None
) -> WarningsResult:
    """Raises the project's warnings for ``on``. Finding is read-only; the new warnings are one bulk
    insert in one transaction, and the unique constraint keeps a concurrent run from doubling any."""
    s = settings_for(project.pk)
    cases = _open_cases(project.pk)
    candidates = [c for finder in FINDERS for c in finder(project.pk, on, s, cases)]
    result = WarningsResult(on=on, raised={k: 0 for k in WarningKind.values})
    if not candidates:
        return result
    existing = set(
        Warning.objects.filter(
            project_id=project.pk, account_id__in={c.account_id for c in candidates}
        ).values_list("kind", "account_id", "key")
    )
    rooms = dict(
        Account.objects.filter(pk__in={c.account_id for c in candidates}).values_list(
            "id", "room_id"
        )
    )
    new = []
    for c in candidates:
        if (c.kind, c.account_id, c.key) in existing:
            result.already += 1
            continue
        existing.add((c.kind, c.account_id, c.key))
        result.raised[c.kind] += 1
        new.append(
            Warning(
                project_id=project.pk,
                account_id=c.account_id,
                room_id=rooms[c.account_id],
                case_id=c.case_id,
                kind=c.kind,
                key=c.key,
                amount=c.amount,
                detail=c.detail[:300],
                raised_on=on,
            )
        )
    with transaction.atomic():
        Warning.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
        audit_record(
            user=user, action="预警日跑批", obj=project, project=project, changes=result.as_dict()
        )
    return result


def warnings_run_projects(
    projects: Iterable[Project], on: datetime.date, user: User | None = None
) -> dict[int, WarningsResult]:
    return {p.pk: warnings_run(project=p, on=on, user=user) for p in projects}
