"""Reads of the dunning workflow: what is overdue (from the ledger, set-based), today's list, a case
file, the supervisor's list and daily check. Every page query starts from the user's projects."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    When,
)

from wuye.billing.models import Bill
from wuye.core import hooks, roles
from wuye.core.models import Membership, User
from wuye.core.money import money
from wuye.core.scope import role_in
from wuye.dunning import holds
from wuye.dunning.enums import (
    CaseClass,
    CaseState,
    Channel,
    NextAction,
    Stage,
    UnreachedReason,
)
from wuye.dunning.models import (
    ArrearsCase,
    CaseEvent,
    CaseIssueLink,
    ContactAttachment,
    ContactRecord,
)
from wuye.ledger.selectors.outstanding import bill_outstanding, overdue_per_account
from wuye.registry.enums import DEAD_PHONE_MARKS, OPEN_ISSUE_STATES, PhoneValidity
from wuye.registry.models import LegacyIssue, LegacyIssueEvent, Occupancy, Phone, ServiceTicket

DAY = datetime.timedelta(days=1)
OPEN_TICKET_STATES = ("open", "processing")
# A contact entered this long after it happened is a back-dated entry: the daily check flags it.
BACKDATED_AFTER = datetime.timedelta(hours=1)


@dataclass(frozen=True)
class Overdue:
    amount: Decimal
    bills: int
    oldest_due_date: datetime.date


def overdue_by_account(
    project_id: int, on: datetime.date, account_ids: list[int] | None = None
) -> dict[int, Overdue]:
    """Per payer account of the project: Σ outstanding of bills due before ``on`` (as the ledger saw
    them on ``on``), their count and the oldest due date. One grouped query for the whole project —
    the same outstanding expression as ``ledger.selectors.account_position``."""
    bills = Bill.objects.filter(project_id=project_id, due_date__lt=on)
    if account_ids is None:
        # The whole project (the daily run): grouped sums joined, not two probes per bill.
        return {
            account_id: Overdue(total, n, oldest)
            for account_id, total, n, oldest in overdue_per_account(bills, on)
            if total > 0
        }
    bills = bills.filter(account_id__in=account_ids)
    rows = (
        bill_outstanding(bills, on)
        .filter(outstanding__gt=0)
        .order_by()
        .values("account_id")
        .annotate(total=Sum("outstanding"), n=Count("id"), oldest=Min("due_date"))
        .values_list("account_id", "total", "n", "oldest")
    )
    return {
        account_id: Overdue(money(total), n, oldest)
        for account_id, total, n, oldest in rows
        if money(total) > 0
    }


# --- pages ------------------------------------------------------------------------------------------


def _phones_prefetch() -> Prefetch:
    # Numbers known to be dead go last, so the first one offered is worth dialling.
    dead = Case(When(validity__in=list(DEAD_PHONE_MARKS), then=1), default=0)
    return Prefetch(
        "account__payer__phones",
        queryset=Phone.objects.order_by(dead, "-is_primary", "id"),
    )


def cases_in(project_ids: list[int]) -> QuerySet[ArrearsCase]:
    return ArrearsCase.objects.filter(project_id__in=project_ids)


def _task_rows(rows: QuerySet[ArrearsCase], on: datetime.date) -> list[ArrearsCase]:
    tomorrow = on + DAY
    cases = list(
        rows.select_related("room", "account__payer")
        .prefetch_related(_phones_prefetch())
        .annotate(
            open_issues=Count(
                "room__legacy_issues",
                filter=Q(room__legacy_issues__state__in=OPEN_ISSUE_STATES),
                distinct=True,
            )
        )
    )
    last = last_contacts([c.pk for c in cases])
    held: dict[int, str] = {}
    for project_id in {c.project_id for c in cases}:
        held |= holds.chase_holds(
            project_id, [c.account_id for c in cases if c.project_id == project_id]
        )
    bank_notes = holds.latest_bank_notes(
        [c.pk for c in cases], on - datetime.timedelta(days=holds.BANK_NOTE_DAYS)
    )
    # Labels translated once per page, not once per card: Django's get_FOO_display() re-evaluates the
    # lazy choices on every call, which costs more than the queries for a list of hundreds of cases.
    labels = _labels()
    for case in cases:
        case.class_label = labels["class"].get(case.case_class, "未分类")
        case.stage_label = labels["stage"][case.stage]
        case.next_label = labels["next"].get(case.next_action, "")
        for phone in case.account.payer.phones.all():
            phone.validity_label = labels["validity"].get(phone.validity, phone.validity)
        case.last_contact = last.get(case.pk)
        if case.last_contact is not None:
            case.last_contact.channel_label = labels["channel"][case.last_contact.channel]
            case.last_contact.unreached_label = labels["unreached"].get(
                case.last_contact.unreached_reason, "未联系上"
            )
        _mark_order(case, on, tomorrow)
        case.bank_hold = held.get(case.account_id, "")
        case.bank_note = bank_notes.get(case.pk, "")
    return cases


def _labels() -> dict[str, dict[str, str]]:
    def plain(choices) -> dict[str, str]:
        return {value: str(label) for value, label in choices}

    return {
        "class": plain(CaseClass.choices),
        "stage": plain(Stage.choices),
        "next": plain(NextAction.choices),
        "channel": plain(Channel.choices),
        "unreached": plain(UnreachedReason.choices),
        "validity": plain(PhoneValidity.choices),
    }


@dataclass
class TodayPage:
    """One page of 我的今日催缴: the cards shown, with the whole list's counts."""

    tasks: list[ArrearsCase]
    total: int
    overdue_count: int
    next_page: int | None


# What ordering the list needs of every case; the cards' details are read for the page shown only.
_ORDER_FIELDS = (
    "id",
    "project_id",
    "account_id",
    "case_class",
    "promise_date",
    "next_action_due",
    "overdue_amount",
    "aging_days",
)


def today_order(*, user: User, project_id: int, on: datetime.date) -> list[ArrearsCase]:
    """我的今日催缴 in order, as light rows (the fields the order needs, and the ranker's ``rank_*``):
    the user's open cases whose next task is due on or before ``on`` — promises due tomorrow first (a
    reminder the day before), then by the ranker's ``rank_key`` (``WUYE_CASE_RANKER``: expected money
    recovered per contact), or without a ranker by amount × aging (the biggest, oldest debts first);
    overdue tasks are flagged, not reordered."""
    # 主管研判 (a class E defence, LAW.md §10) is the supervisor's task, never the steward's.
    mine = Q(assignee=user) & ~Q(next_action=NextAction.SUPERVISOR_REVIEW)
    if role_in(user, project_id) in roles.CASE_SUPERVISOR_ROLES:
        mine |= Q(next_action=NextAction.SUPERVISOR_REVIEW)
    cases = list(
        ArrearsCase.objects.filter(
            mine, project_id=project_id, state=CaseState.OPEN, next_action_on__lte=on
        ).only(*_ORDER_FIELDS)
    )
    tomorrow = on + DAY
    for case in cases:
        _mark_order(case, on, tomorrow)
        case.rank_key = float(case.weight)
    # A ranker lives in an app above dunning (wuye.scoring): called by name, never imported.
    hooks.call_each("WUYE_CASE_RANKER", cases, project_id=project_id, on=on)
    cases.sort(key=lambda c: (not c.promise_tomorrow, -c.rank_key, c.pk))
    return cases


def _mark_order(case: ArrearsCase, on: datetime.date, tomorrow: datetime.date) -> None:
    case.promise_tomorrow = case.case_class == CaseClass.A and case.promise_date == tomorrow
    case.promise_broken = case.promise_date is not None and case.promise_date < on
    case.task_overdue = case.next_action_due is not None and case.next_action_due < on
    case.weight = case.overdue_amount * max(case.aging_days, 1)


def _cards(order: list[ArrearsCase], on: datetime.date) -> list[ArrearsCase]:
    """The full cards of ``order``'s cases, in its order, with the ranker's attributes carried over."""
    full = {
        c.pk: c for c in _task_rows(ArrearsCase.objects.filter(pk__in=[c.pk for c in order]), on)
    }
    cards = []
    for light in order:
        card = full.get(light.pk)
        if card is None:
            continue  # closed between the two reads
        for name, value in vars(light).items():
            if name.startswith("rank_"):
                setattr(card, name, value)
        cards.append(card)
    return cards


def today_tasks(*, user: User, project_id: int, on: datetime.date) -> list[ArrearsCase]:
    """Every card of 我的今日催缴, in order (``today_order``); the page reads one page (``today_page``)."""
    return _cards(today_order(user=user, project_id=project_id, on=on), on)


def today_page(
    *, user: User, project_id: int, on: datetime.date, number: int, size: int
) -> TodayPage:
    """Page ``number`` (from 1) of 我的今日催缴: the whole list is ordered from light rows, and only the
    ``size`` cards shown are read in full — a steward's list of hundreds costs one page of cards."""
    order = today_order(user=user, project_id=project_id, on=on)
    shown = order[(number - 1) * size : number * size]
    return TodayPage(
        tasks=_cards(shown, on),
        total=len(order),
        overdue_count=sum(1 for c in order if c.task_overdue),
        next_page=number + 1 if number * size < len(order) else None,
    )


def today_card(case_id: int, on: datetime.date) -> ArrearsCase:
    """One case as today's list shows it (after recording an outcome)."""
    return _task_rows(ArrearsCase.objects.filter(pk=case_id), on)[0]


def last_contacts(case_ids: list[int]) -> dict[int, ContactRecord]:
    """The latest contact record of each case (one query)."""
    if not case_ids:
        return {}
    latest = ContactRecord.objects.filter(case_id=OuterRef("case_id"), at__gt=OuterRef("at"))
    rows = (
        ContactRecord.objects.filter(case_id__in=case_ids)
        .exclude(Exists(latest))
        .select_related("by")
        .order_by("case_id", "-id")
    )
    found: dict[int, ContactRecord] = {}
    for row in rows:
        found.setdefault(row.case_id, row)
    return found


@dataclass
class CaseFile:
    case: ArrearsCase
    people: list[Occupancy]
    contacts: list[ContactRecord]
    events: list[CaseEvent]
    legacy_issues: list[LegacyIssue]
    tickets: list[ServiceTicket]
    linked_issues: list[CaseIssueLink]


def case_file(case_id: int, project_ids: list[int]) -> CaseFile | None:
    """Everything on the case page, in a fixed number of queries."""
    case = (
        cases_in(project_ids)
        .filter(pk=case_id)
        .select_related(
            "project", "room__building", "account__payer", "assignee", "team", "class_set_by"
        )
        .prefetch_related(_phones_prefetch())
        .first()
    )
    if case is None:
        return None
    people = list(
        Occupancy.objects.filter(room_id=case.room_id, end_date__isnull=True)
        .select_related("person")
        .prefetch_related("person__phones")
        .order_by("role", "id")
    )
    contacts = list(
        ContactRecord.objects.filter(case=case)
        .select_related("by", "phone", "corrects")
        .prefetch_related(
            Prefetch("attachments", queryset=ContactAttachment.objects.order_by("id"))
        )
        .order_by("-at", "-id")
    )
    events = list(CaseEvent.objects.filter(case=case).select_related("by").order_by("-at", "-id"))
    issues = list(
        LegacyIssue.objects.filter(room_id=case.room_id, state__in=OPEN_ISSUE_STATES).order_by(
            "-reported_on"
        )
    )
    tickets = list(
        ServiceTicket.objects.filter(room_id=case.room_id, state__in=OPEN_TICKET_STATES).order_by(
            "-opened_at"
        )
    )
    return CaseFile(case, people, contacts, events, issues, tickets, linked_issues(case.pk))


def linked_issues(case_id: int) -> list[CaseIssueLink]:
    """The legacy issues linked to a case, whatever their state now, with their history (for the
    case page and the evidence pack)."""
    return list(
        CaseIssueLink.objects.filter(case_id=case_id)
        .select_related("issue", "by", "contact")
        .prefetch_related(
            Prefetch("issue__events", queryset=LegacyIssueEvent.objects.select_related("user"))
        )
        .order_by("at", "id")
    )


@dataclass
class HouseholdDunning:
    """The 催缴记录 card of a household file: its cases (open and closed) and their contacts."""

    cases: list[ArrearsCase]
    contacts: list[ContactRecord]
    hidden_cases: int  # cases of the room the viewer may not open (another steward's)


HOUSEHOLD_CONTACTS = 30


def household_dunning(
    room_id: int, project_ids: list[int], *, only_assignee: int | None = None
) -> HouseholdDunning:
    """Every arrears case of a room, newest first, with the latest contacts across them. With
    ``only_assignee`` (a steward), only that person's cases and their contacts. Three queries."""
    rows = list(
        cases_in(project_ids)
        .filter(room_id=room_id)
        .select_related("assignee")
        .order_by("-opened_on", "-id")
    )
    visible = [c for c in rows if only_assignee is None or c.assignee_id == only_assignee]
    contacts = list(
        ContactRecord.objects.filter(case_id__in=[c.pk for c in visible])
        .select_related("by")
        .order_by("-at", "-id")[:HOUSEHOLD_CONTACTS]
    )
    return HouseholdDunning(visible, contacts, len(rows) - len(visible))


def case_list(
    *,
    project_id: int,
    on: datetime.date,
    case_class: str = "",
    stage: str = "",
    assignee_id: int | None = None,
    overdue_only: bool = False,
    state: str = CaseState.OPEN,
) -> QuerySet[ArrearsCase]:
    """The supervisor's list of cases, filtered; biggest debts first."""
    rows = ArrearsCase.objects.filter(project_id=project_id)
    if state:
        rows = rows.filter(state=state)
    if case_class == "-":
        rows = rows.filter(case_class="")
    elif case_class:
        rows = rows.filter(case_class=case_class)
    if stage:
        rows = rows.filter(stage=stage)
    if assignee_id == 0:
        rows = rows.filter(assignee__isnull=True)
    elif assignee_id:
        rows = rows.filter(assignee_id=assignee_id)
    if overdue_only:
        rows = rows.filter(next_action_due__lt=on)
    return rows.select_related("room", "account__payer", "assignee").order_by(
        F("overdue_amount").desc(), "id"
    )


@dataclass
class StewardDay:
    user: User
    contacts: list[ContactRecord]
    reached: int
    promises: int
    promised_amount: Decimal
    open_cases: int
    due_today: int
    overdue_tasks: list[ArrearsCase]
    broken_promises: list[ArrearsCase]
    backdated: int = 0


def daily_check(*, project_id: int, on: datetime.date) -> list[StewardDay]:
    """主管每日检查: per assignee, the contacts recorded on ``on`` and the tasks left overdue."""
    start = datetime.datetime.combine(on, datetime.time.min)
    from django.utils import timezone

    start = timezone.make_aware(start)
    end = start + DAY
    # The contacts that happened on ``on`` and those entered on ``on`` for an earlier time: a
    # back-dated entry shows on the day it was typed in, flagged, with both times.
    contacts = list(
        ContactRecord.objects.filter(project_id=project_id)
        .filter(Q(at__gte=start, at__lt=end) | Q(recorded_at__gte=start, recorded_at__lt=end))
        .select_related("by", "case__room")
        .order_by("by_id", "at")
    )
    for c in contacts:
        c.backdated = c.recorded_at - c.at > BACKDATED_AFTER
    counts = {
        row["assignee"]: row
        for row in ArrearsCase.objects.filter(
            project_id=project_id, state=CaseState.OPEN, assignee__isnull=False
        )
        .values("assignee")
        .annotate(n=Count("id"), due=Count("id", filter=Q(next_action_on__lte=on)))
    }
    overdue = list(
        ArrearsCase.objects.filter(
            project_id=project_id, state=CaseState.OPEN, next_action_due__lt=on
        )
        .select_related("room")
        .order_by("next_action_due", "id")
    )
    # Promises whose date has passed on an open case (SPEC §5 step 7): the owner broke them.
    broken = list(
        ArrearsCase.objects.filter(project_id=project_id, state=CaseState.OPEN, promise_date__lt=on)
        .select_related("room")
        .order_by("promise_date", "id")
    )
    user_ids = (
        set(counts)
        | {c.by_id for c in contacts}
        | {c.assignee_id for c in overdue}
        | {c.assignee_id for c in broken}
    )
    users = {u.pk: u for u in User.objects.filter(pk__in=[i for i in user_ids if i])}
    days = []
    for user_id in sorted(users, key=lambda i: str(users[i])):
        mine = [c for c in contacts if c.by_id == user_id]
        days.append(
            StewardDay(
                user=users[user_id],
                contacts=mine,
                reached=sum(1 for c in mine if c.reached),
                promises=sum(1 for c in mine if c.promise_date),
                promised_amount=money(sum((c.promise_amount or 0 for c in mine), Decimal(0))),
                open_cases=counts.get(user_id, {}).get("n", 0),
                due_today=counts.get(user_id, {}).get("due", 0),
                overdue_tasks=[c for c in overdue if c.assignee_id == user_id],
                broken_promises=[c for c in broken if c.assignee_id == user_id],
                backdated=sum(1 for c in mine if c.backdated),
            )
        )
    return days


def workers_of(project_id: int) -> list[User]:
    """Staff of the project who may be given cases: their role in the project (a company-wide role
    wins over a membership, as in ``role_in``) is one that works cases."""
    ids = Membership.objects.filter(
        project_id=project_id, role__in=list(roles.CASE_WORKER_ROLES)
    ).values("user_id")
    return list(
        User.objects.filter(pk__in=ids, is_active=True)
        .exclude(company_role__in=list(roles.COMPANY_ROLES_NOT_WORKING_CASES), is_superuser=False)
        .order_by("username")
    )
