"""The rules of the dunning workflow as data, and the pure functions that apply them.

Defaults come from SPEC §5 (steps 4–7) and LAW.md §1, §8; a project overrides them with rows of
``FollowUpRule``, ``EscalationRule`` and ``DunningSettings`` (admin: 配置). Nothing here writes: the
functions take plain values and return plain values, so each rule is tested on a fixed calendar.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from wuye.core import guardrails
from wuye.dunning.contact_windows import parse_windows
from wuye.dunning.enums import (
    MESSAGE_CHANNELS,
    VOICE_CHANNELS,
    CaseClass,
    Channel,
    EscalationKind,
    NextAction,
    RefusalReason,
    Stage,
    UnreachedReason,
)
from wuye.dunning.models import DunningSettings, EscalationRule, FollowUpRule

DAY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class FollowUp:
    action: str
    days: int  # class A: relative to the promised date; others: relative to the last contact


@dataclass(frozen=True)
class Escalation:
    kind: str
    days: int
    deadline_days: int = 15


@dataclass(frozen=True)
class StrategyAdjustment:
    """A household's segment strategy laid on top of the class rules, handed to the run by an app
    above dunning (``WUYE_CASE_STRATEGY``, e.g. wuye.credit). Empty fields change nothing. It only
    moves the case's own task dates and the escalation day: contact windows, caps and the
    written-only flag are checked when the contact happens and still bind (LAW.md §8)."""

    segment: str = ""  # shown in the timeline: whose strategy moved the case
    call_cadence_days: int | None = None  # classes B and D: days between follow-up calls
    escalate_after_days: int | None = None  # replaces the "unpaid for" escalation days
    first_action_sms: bool = False  # no class yet: a reminder message first, not a call


# SPEC §5 step 6.
DEFAULT_FOLLOW_UPS: dict[str, FollowUp] = {
    CaseClass.A: FollowUp(NextAction.PROMISE_EVE_CALL, -1),
    CaseClass.B: FollowUp(NextAction.DAILY_CALL, 1),
    CaseClass.C: FollowUp(NextAction.FIND_NUMBER, 3),
    CaseClass.D: FollowUp(NextAction.REMOTE_GUIDE, 1),
    CaseClass.E: FollowUp(NextAction.SUPERVISOR_REVIEW, 1),
}

# SPEC §5 step 7, checked in this order; the first that applies names the reason.
DEFAULT_ESCALATIONS: list[Escalation] = [
    Escalation(EscalationKind.PROMISE_BROKEN, 7),
    Escalation(EscalationKind.NOT_A_WITHIN, 30),
    Escalation(EscalationKind.UNPAID_FOR, 60),
]

# The action a stage asks for before the class rules take over again.
STAGE_ACTIONS = {
    Stage.VISIT: NextAction.VISIT,
    Stage.WRITTEN_DEMAND: NextAction.WRITTEN_DEMAND,
    Stage.LAWYER_LETTER: NextAction.LAWYER_LETTER,
    Stage.LEGAL: NextAction.LEGAL_REVIEW,
}
# Which channels carry out a stage's action.
STAGE_CHANNELS = {
    Stage.VISIT: {Channel.VISIT_HOME, Channel.VISIT_WORK},
    Stage.WRITTEN_DEMAND: {Channel.DOOR_NOTICE, Channel.MAIL},
    Stage.LAWYER_LETTER: {Channel.LAWYER_LETTER},
}

# An owner who asked for written contact only is never phoned or visited (LAW.md §8): each call or
# visit the rules would plan becomes its written stand-in (a message inside its window, a letter,
# a notice delivered to the door).
WRITTEN_ONLY_ACTIONS = {
    NextAction.FIRST_CALL: NextAction.REMINDER_SMS,
    NextAction.PROMISE_EVE_CALL: NextAction.PROMISE_EVE_SMS,
    NextAction.DAILY_CALL: NextAction.WRITTEN_FOLLOW_UP,
    NextAction.REMOTE_GUIDE: NextAction.WRITTEN_FOLLOW_UP,
    NextAction.FIND_NUMBER: NextAction.WRITTEN_FOLLOW_UP,
    NextAction.VISIT: NextAction.WRITTEN_DEMAND,
}
# Actions repeated at a call's cadence: in writing, at the project's written cadence at most.
_CADENCED = frozenset({NextAction.DAILY_CALL, NextAction.REMOTE_GUIDE, NextAction.FIND_NUMBER})


def stage_channels(stage: str, written_only: bool) -> set[str]:
    """The channels that carry out ``stage``'s action; for a written-only owner the visit stage is
    done in writing (a door notice or a letter)."""
    if written_only and stage == Stage.VISIT:
        return {Channel.DOOR_NOTICE, Channel.MAIL}
    return STAGE_CHANNELS.get(stage, set())


def escalation_stage(written_only: bool) -> str:
    """Where the automatic escalation sends a case: a door visit, or for an owner who asked for
    written contact only the written demand (no one knocks on that door)."""
    return Stage.WRITTEN_DEMAND if written_only else Stage.VISIT


# --- loading the rules of a project ---------------------------------------------------------------


def dunning_settings(project_id: int) -> DunningSettings:
    """The project's settings row, or an unsaved one holding the defaults."""
    found = DunningSettings.objects.filter(project_id=project_id).first()
    return found or DunningSettings(project_id=project_id)


def follow_up_rules(project_id: int) -> dict[str, FollowUp]:
    rules = dict(DEFAULT_FOLLOW_UPS)
    for row in FollowUpRule.objects.filter(project_id=project_id):
        rules[row.case_class] = FollowUp(row.action, row.days)
    return rules


def escalation_rules(project_id: int) -> list[Escalation]:
    rows = {r.kind: r for r in EscalationRule.objects.filter(project_id=project_id)}
    rules = []
    for default in DEFAULT_ESCALATIONS:
        row = rows.get(default.kind)
        if row is None:
            rules.append(default)
        elif row.is_active:
            rules.append(Escalation(row.kind, row.days, row.deadline_days))
    return rules


# --- next task --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    action: str
    on: datetime.date  # shown on today's list from this day
    due: datetime.date  # overdue after this day


def next_task(
    *,
    opened_on: datetime.date,
    case_class: str,
    stage: str,
    stage_since: datetime.date,
    stage_deadline: datetime.date | None,
    stage_action_done_on: datetime.date | None,
    promise_date: datetime.date | None,
    last_contact_on: datetime.date | None,
    follow_ups: dict[str, FollowUp],
    first_call_days: int,
    strategy: StrategyAdjustment | None = None,
    written_only: bool = False,
    written_follow_up_days: int = 7,
) -> Task:
    """What the assignee does next and when, from the case's own state only (not from today), so a
    rerun of the daily run computes the same task. ``strategy`` (the household's segment) may make
    the first action a reminder message and set the days between calls of classes B and D.
    ``written_only``: the owner asked for written contact only — every call or visit becomes its
    written stand-in (``WRITTEN_ONLY_ACTIONS``), repeated every ``written_follow_up_days`` at most."""
    task = _next_task(
        opened_on=opened_on,
        case_class=case_class,
        stage=stage,
        stage_since=stage_since,
        stage_deadline=stage_deadline,
        stage_action_done_on=stage_action_done_on,
        promise_date=promise_date,
        last_contact_on=last_contact_on,
        follow_ups=follow_ups,
        first_call_days=first_call_days,
        strategy=strategy,
    )
    if not written_only or task.action not in WRITTEN_ONLY_ACTIONS:
        return task
    action = WRITTEN_ONLY_ACTIONS[task.action]
    if (
        task.action in _CADENCED
        and case_class != CaseClass.A  # the one look the day after a promise stays where it is
        and last_contact_on is not None
    ):
        # A follow-up after a contact: not daily in writing, but at the written cadence.
        when = max(task.on, last_contact_on + max(written_follow_up_days, 1) * DAY)
        return Task(action, when, when)
    return Task(action, task.on, task.due)


def _next_task(
    *,
    opened_on: datetime.date,
    case_class: str,
    stage: str,
    stage_since: datetime.date,
    stage_deadline: datetime.date | None,
    stage_action_done_on: datetime.date | None,
    promise_date: datetime.date | None,
    last_contact_on: datetime.date | None,
    follow_ups: dict[str, FollowUp],
    first_call_days: int,
    strategy: StrategyAdjustment | None,
) -> Task:
    last = last_contact_on or opened_on
    # SPEC §5 step 6: a promise still to come sets the next task — the day before it — whatever
    # the stage (an owner who promised on the visit stage is reminded, not visited, until then).
    if case_class == CaseClass.A and promise_date is not None and promise_date >= last:
        rule = follow_ups[case_class]
        eve = promise_date + rule.days * DAY
        if eve > last:
            return Task(rule.action, eve, eve)
        # Reminded already: look again the day after the promise (the case closes if it was paid).
        after = promise_date + DAY
        return Task(NextAction.DAILY_CALL, after, after)
    # A promise that held a task back: nothing is planned before the day after it.
    not_before = promise_date + DAY if promise_date is not None else None
    if stage != Stage.REMINDER and stage_action_done_on is None:
        start = max(stage_since, not_before) if not_before else stage_since
        # Never already overdue on the day it is planned.
        return Task(STAGE_ACTIONS[stage], start, max(stage_deadline or start, start))
    if not case_class:
        first = NextAction.FIRST_CALL
        if strategy is not None and strategy.first_action_sms and last_contact_on is None:
            first = NextAction.REMINDER_SMS
        return Task(first, opened_on, opened_on + first_call_days * DAY)
    rule = follow_ups[case_class]
    if case_class == CaseClass.A and promise_date is not None:
        after = max(promise_date, last) + DAY
        return Task(NextAction.DAILY_CALL, after, after)
    days = rule.days
    if (
        strategy is not None
        and strategy.call_cadence_days
        and case_class in (CaseClass.B, CaseClass.D)
    ):
        days = strategy.call_cadence_days
    when = last + max(days, 1) * DAY
    if not_before is not None:
        when = max(when, not_before)
    return Task(rule.action, when, when)


def with_strategy(
    escalations: list[Escalation], strategy: StrategyAdjustment | None
) -> list[Escalation]:
    """The project's escalation rules with the segment's "unpaid for" days in place of the class
    default (an inactive rule stays inactive: a strategy never adds a trigger the project removed)."""
    if strategy is None or not strategy.escalate_after_days:
        return escalations
    return [
        Escalation(e.kind, strategy.escalate_after_days, e.deadline_days)
        if e.kind == EscalationKind.UNPAID_FOR
        else e
        for e in escalations
    ]


# --- escalation ------------------------------------------------------------------------------------


def escalation_due(
    *,
    on: datetime.date,
    stage: str,
    case_class: str,
    opened_on: datetime.date,
    promise_date: datetime.date | None,
    oldest_due_date: datetime.date | None,
    rules: list[Escalation],
    contacted: bool,
    first_call_days: int,
) -> tuple[Escalation, str] | None:
    """The first escalation rule a case in the reminder stage meets on ``on``, with the reason in
    Chinese for the timeline; ``None`` when it stays. Only reminder → visit is automatic: later stages
    are decided by people (written demand, lawyer letter, legal). A class E case (an owner's defence,
    LAW.md §10) never escalates by age: only a supervisor's recorded decision moves it.

    The first call comes first (SPEC §5 step 4): a case nobody has contacted yet waits for its first
    call, however old the debt, until the first call's deadline has passed unanswered."""
    if stage != Stage.REMINDER or case_class == CaseClass.E:
        return None
    if not contacted and on <= opened_on + first_call_days * DAY:
        return None
    for rule in rules:
        days = rule.days * DAY
        if (
            rule.kind == EscalationKind.PROMISE_BROKEN
            and promise_date is not None
            and promise_date + days <= on
        ):
            return rule, f"承诺缴费日 {promise_date:%Y-%m-%d} 已过 {rule.days} 天仍未缴清"
        if (
            rule.kind == EscalationKind.NOT_A_WITHIN
            and case_class != CaseClass.A
            # A case that had a date is measured by its broken promise, not by this rule.
            and promise_date is None
            and opened_on + days <= on
        ):
            return rule, f"立案 {rule.days} 天仍未转为 A 类（近期交纳）"
        if (
            rule.kind == EscalationKind.UNPAID_FOR
            and oldest_due_date is not None
            and oldest_due_date + days <= on
        ):
            return rule, f"最早一笔欠费 {oldest_due_date:%Y-%m-%d} 到期，已逾 {rule.days} 天未缴"
    return None


def promise_broken(
    *, case_class: str, promise_date: datetime.date | None, on: datetime.date
) -> bool:
    """A class A promise whose date has passed with the case still open (SPEC §5 steps 5–7): the
    owner no longer has a date, so the case is B again, and the broken promise is flagged."""
    return case_class == CaseClass.A and promise_date is not None and promise_date < on


# --- classification --------------------------------------------------------------------------------

_UNREACHED_CLASS = {
    UnreachedReason.NO_ANSWER: CaseClass.B,
    UnreachedReason.POWERED_OFF: CaseClass.B,
    UnreachedReason.NO_SIGNAL: CaseClass.B,
    UnreachedReason.DISCONNECTED: CaseClass.C,
    UnreachedReason.WRONG_NUMBER: CaseClass.C,
}


_DEAD_NUMBER = frozenset({UnreachedReason.DISCONNECTED, UnreachedReason.WRONG_NUMBER})
_SET_BY_CONVERSATION = frozenset({CaseClass.A, CaseClass.B, CaseClass.D, CaseClass.E})


def class_from_outcome(
    *,
    reached: bool,
    unreached_reason: str = "",
    promise_date: datetime.date | None = None,
    refusal_reason: str = "",
    lives_elsewhere: bool = False,
    current: str = "",
) -> str:
    """SPEC §5 step 5: a refusal is E, a concrete date is A, living elsewhere is D, a dead number C,
    anything else (no date yet, not reachable for now) B.

    An outcome that says nothing new — no answer, powered off, no signal, a notice sent — keeps the
    class an earlier conversation set (``current``): an owner who disputes the fee (E), promised a
    date (A) or lives elsewhere (D) is still that owner when the phone rings out. Only a number
    found dead (C) or a new conversation changes it."""
    if (
        not reached
        and not refusal_reason
        and not lives_elsewhere
        and unreached_reason not in _DEAD_NUMBER
        and current in _SET_BY_CONVERSATION
    ):
        return current
    if refusal_reason:
        return CaseClass.E
    if reached and promise_date is not None:
        return CaseClass.A
    if lives_elsewhere:
        return CaseClass.D
    if not reached:
        return _UNREACHED_CLASS.get(unreached_reason, CaseClass.B)
    return CaseClass.B


# Refusals that are an owner defence (LAW.md §10): the case needs a supervisor's decision.
DEFENCE_REFUSALS = frozenset(
    {
        RefusalReason.LEAK,
        RefusalReason.LIFT,
        RefusalReason.DEVELOPER_DEFECT,
        RefusalReason.SERVICE_QUALITY,
        RefusalReason.DISPUTED_AMOUNT,
    }
)


# --- guardrails (LAW.md) ---------------------------------------------------------------------------

# LAW.md §1–3: the forbidden-measure guard lives in core (every app checks its free text with it):
# the phrase list is data (core/forbidden_phrases.toml), texts are normalised before checking.
FORBIDDEN_MESSAGE = guardrails.FORBIDDEN_MESSAGE
forbidden_measure = guardrails.forbidden_measure


# LAW.md §8: the limits no project setting may go beyond (the defaults sit inside them).
LAW_MAX_CALLS_PER_DAY = 6  # attempts a day to one number (banking collection norm, by analogy)
LAW_MAX_CALLS_PER_WEEK = 6 * 7
LAW_VOICE_WINDOW = (datetime.time(8, 0), datetime.time(22, 0))  # never 22:00–08:00
LAW_MESSAGE_WINDOW = (datetime.time(8, 0), datetime.time(21, 0))  # SMS only 08:00–21:00


def call_caps(settings: DunningSettings) -> tuple[int, int]:
    """The project's daily and weekly call caps, clamped to the legal limits (a row written around the
    database constraints, or before them, still cannot widen them)."""
    return (
        min(settings.max_calls_per_day, LAW_MAX_CALLS_PER_DAY),
        min(settings.max_calls_per_week, LAW_MAX_CALLS_PER_WEEK),
    )


LAW_MIN_DEMAND_DAYS = 15  # LAW.md §4: a written demand's deadline, days after delivery (the floor)


def demand_min_days(settings: DunningSettings) -> int:
    return max(settings.demand_min_days, LAW_MIN_DEMAND_DAYS)


def _fmt(windows: list[tuple[datetime.time, datetime.time]]) -> str:
    return "、".join(f"{a:%H:%M}–{b:%H:%M}" for a, b in windows)


def clamp_windows(
    windows: list[tuple[datetime.time, datetime.time]],
    bounds: tuple[datetime.time, datetime.time],
) -> list[tuple[datetime.time, datetime.time]]:
    """The project's windows cut to the legal bounds: a settings row that slipped past the database
    (an old row, a raw write) can narrow the hours, never widen them."""
    lo, hi = bounds
    cut = [(max(a, lo), min(b, hi)) for a, b in windows]
    return [(a, b) for a, b in cut if a < b]


def voice_windows(settings: DunningSettings, on: datetime.date):
    return clamp_windows(settings.voice_windows(on), LAW_VOICE_WINDOW)


def message_windows(settings: DunningSettings):
    return clamp_windows(_windows(settings.message_windows), LAW_MESSAGE_WINDOW)


def contact_time_refusal(
    *, channel: str, at: datetime.datetime, settings: DunningSettings
) -> str | None:
    """Why a contact at ``at`` by ``channel`` is not allowed (LAW.md §8), or ``None``. Calls and visits
    only in the project's working windows (summer/winter), messages only in the message window, both
    clamped to the legal bounds; paper notices and talks at the window any time."""
    local = timezone.localtime(at)
    moment = local.time()
    if channel in VOICE_CHANNELS:
        windows = voice_windows(settings, local.date())
        season = "夏季" if settings.is_summer(local.date()) else "冬季"
        rule = (
            f"电话和上门只能在工作时段进行（本项目{season}：{_fmt(windows)}；"
            "本公司联系规范：任何时候不得在 22:00–08:00 联系，深夜来电属骚扰，"
            "《民法典》第一千零三十三条）"
        )
    elif channel in MESSAGE_CHANNELS:
        windows = message_windows(settings)
        rule = f"短信、微信只能在 {_fmt(windows)} 发送（本公司联系规范：不在休息时间打扰业主）"
    else:
        return None
    if any(start <= moment < end for start, end in windows):
        return None
    later = next_allowed_time(channel=channel, at=at, settings=settings)
    return (
        f"{local:%m-%d %H:%M} 不在可联系时段：{rule}。下一个可联系时段从 {later:%m-%d %H:%M} 开始。"
    )


def next_allowed_time(
    *, channel: str, at: datetime.datetime, settings: DunningSettings
) -> datetime.datetime:
    """The first moment from ``at`` on when ``channel`` may be used (the task moves there)."""
    local = timezone.localtime(at)
    for offset in range(0, 3):
        day = local.date() + offset * DAY
        windows = (
            voice_windows(settings, day) if channel in VOICE_CHANNELS else message_windows(settings)
        )
        for start, end in windows:
            begin = datetime.datetime.combine(day, start, tzinfo=local.tzinfo)
            finish = datetime.datetime.combine(day, end, tzinfo=local.tzinfo)
            if local < finish:
                return max(begin, local)
    return local


def _windows(text: str) -> list[tuple[datetime.time, datetime.time]]:
    return parse_windows(text)
