"""The supervisor's rebalancing of open cases over the project's stewards, and recovery orders
(清欠任务单) handing cases with arrears older than a year to the company's task force (issue 4 item 2).

Each case weighs ``overdue amount × class factor`` (an E case with a dispute takes far more work than
an A case that promised to pay). A steward's load is the sum of two shares, each 1.0 when the steward
has exactly the average: ``count / average count + weight / average weight``. Starting from who holds
each case now (an unassigned case goes to its building's steward), the plan repeatedly moves one case
from the most loaded steward to the least loaded one, choosing first cases outside the giver's own
buildings and, among those, the move that evens the loads most. It stops when the loads are within
``TOLERANCE`` of each other or no move helps, so running it again on its own result moves nothing.

The plan is a pure function of the cases; ``rebalance_apply`` recomputes it, refuses if it differs
from the preview the supervisor saw (someone changed the cases meanwhile), and applies it through
``services.cases_reassign`` with the supervisor's reason.
"""

from __future__ import annotations

import datetime
import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from wuye.core import roles
from wuye.core.audit import audit_record
from wuye.core.errors import ValidationFailed, text_within
from wuye.core.models import Membership, Project, User
from wuye.core.roles import Role
from wuye.core.scope import role_in
from wuye.dunning import rules
from wuye.dunning.casework import _event, _open_or_refuse, _reason, _supervisor
from wuye.dunning.enums import CaseClass, CaseState, EventKind
from wuye.dunning.limitation import add_years
from wuye.dunning.models import ArrearsCase, CollectionTeam, RecoveryOrder, RecoveryState

LIVE_RECOVERY_STATES = (RecoveryState.OPEN, RecoveryState.WORKING)

# How much harder a case of each class is to collect than a B case of the same amount.
CLASS_FACTOR: dict[str, Decimal] = {
    CaseClass.A: Decimal("0.5"),
    CaseClass.B: Decimal("1.0"),
    CaseClass.C: Decimal("1.5"),
    CaseClass.D: Decimal("1.2"),
    CaseClass.E: Decimal("2.0"),
    "": Decimal("1.0"),
}
# Loads (2.0 = average) closer than this count as balanced: one more case of average size is ~0.1–0.3.
TOLERANCE = 0.3


def case_weight(case: ArrearsCase) -> Decimal:
    return case.overdue_amount * CLASS_FACTOR.get(case.case_class, Decimal("1.0"))


def load_label(score: float) -> str:
    """A steward's load in words: the score is 2.0 for exactly the average (cases and difficulty)."""
    if score < 1.6:
        return "偏轻"
    if score > 2.4:
        return "偏重"
    return "适中"


@dataclass
class Move:
    case: ArrearsCase
    giver: User | None
    taker: User
    weight: Decimal
    average_weight: Decimal = Decimal("0")

    @property
    def difficulty(self) -> str:
        """How hard this case is next to the project's average open case (amount × class factor)."""
        if not self.average_weight or self.weight >= 2 * self.average_weight:
            return "很难" if self.average_weight else "—"
        return "较难" if self.weight >= self.average_weight else "一般"


@dataclass
class Load:
    steward: User
    count_before: int = 0
    weight_before: Decimal = Decimal("0")
    count: int = 0
    weight: Decimal = Decimal("0")
    score_before: float = 0.0
    score: float = 0.0
    amount_before: Decimal = Decimal("0")  # Σ overdue of the cases held, before and after the plan
    amount: Decimal = Decimal("0")

    @property
    def label_before(self) -> str:
        return load_label(self.score_before)

    @property
    def label(self) -> str:
        return load_label(self.score)


@dataclass
class Plan:
    loads: list[Load]
    moves: list[Move] = field(default_factory=list)

    @property
    def fingerprint(self) -> str:
        text = ";".join(f"{m.case.pk}:{m.taker.pk}" for m in self.moves)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def spread(self) -> float:
        scores = [x.score for x in self.loads]
        return max(scores) - min(scores) if scores else 0.0


def stewards_of(project_id: int) -> list[User]:
    ids = Membership.objects.filter(project_id=project_id, role=Role.STEWARD).values("user_id")
    return list(User.objects.filter(pk__in=ids, is_active=True).order_by("username", "id"))


def rebalance_plan(project_id: int) -> Plan:
    stewards = stewards_of(project_id)
    if not stewards:
        raise ValidationFailed("本项目没有楼管，无法均衡分案", field="project")
    by_id = {u.pk: u for u in stewards}
    cases = list(
        ArrearsCase.objects.filter(project_id=project_id, state=CaseState.OPEN)
        .select_related("room__building", "assignee")
        .order_by("id")
    )
    home = {c.pk: c.room.building.steward_id for c in cases}
    weight = {c.pk: case_weight(c) for c in cases}
    holder: dict[int, int | None] = {}
    held: dict[int, list[ArrearsCase]] = defaultdict(list)
    pool: list[ArrearsCase] = []
    for c in cases:
        owner = c.assignee_id if c.assignee_id in by_id else home[c.pk]
        if owner in by_id:
            held[owner].append(c)
        else:
            pool.append(c)
        holder[c.pk] = c.assignee_id
    loads = {u.pk: Load(u) for u in stewards}
    for uid, rows in held.items():
        loads[uid].count_before = sum(1 for c in rows if c.assignee_id == uid)
        loads[uid].weight_before = sum(
            (weight[c.pk] for c in rows if c.assignee_id == uid), Decimal("0")
        )
        loads[uid].amount_before = sum(
            (c.overdue_amount for c in rows if c.assignee_id == uid), Decimal("0")
        )
    total_w = sum(weight.values(), Decimal("0"))
    avg_n = len(cases) / len(stewards) or 1.0
    avg_w = float(total_w) / len(stewards) or 1.0

    def score(n: int, w: Decimal) -> float:
        return n / avg_n + float(w) / avg_w

    count = {u: len(held[u]) for u in by_id}
    wsum = {u: sum((weight[c.pk] for c in held[u]), Decimal("0")) for u in by_id}
    # Cases nobody (of the stewards) holds: the heaviest first, each to the least loaded steward.
    for c in sorted(pool, key=lambda c: (-weight[c.pk], c.pk)):
        taker = min(by_id, key=lambda u: (score(count[u], wsum[u]), u))
        held[taker].append(c)
        count[taker] += 1
        wsum[taker] += weight[c.pk]

    for _ in range(len(cases) * 2):
        scores = {u: score(count[u], wsum[u]) for u in by_id}
        giver = max(by_id, key=lambda u: (scores[u], -u))
        taker = min(by_id, key=lambda u: (scores[u], u))
        if scores[giver] - scores[taker] <= TOLERANCE:
            break
        before = scores[giver] ** 2 + scores[taker] ** 2
        best = None
        for c in held[giver]:
            g = score(count[giver] - 1, wsum[giver] - weight[c.pk])
            t = score(count[taker] + 1, wsum[taker] + weight[c.pk])
            gain = before - (g * g + t * t)
            if gain <= 1e-9:
                continue
            # Keep stewards on their own buildings where possible.
            rank = (home[c.pk] == giver, home[c.pk] != taker, -gain, c.pk)
            if best is None or rank < best[0]:
                best = (rank, c)
        if best is None:
            break
        c = best[1]
        held[giver].remove(c)
        held[taker].append(c)
        count[giver] -= 1
        count[taker] += 1
        wsum[giver] -= weight[c.pk]
        wsum[taker] += weight[c.pk]

    plan = Plan(loads=[loads[u.pk] for u in stewards])
    for load in plan.loads:
        uid = load.steward.pk
        load.count, load.weight = count[uid], wsum[uid]
        load.score_before = score(load.count_before, load.weight_before)
        load.score = score(count[uid], wsum[uid])
        load.amount = sum((c.overdue_amount for c in held[uid]), Decimal("0"))
        average_weight = total_w / len(cases) if cases else Decimal("0")
        for c in sorted(held[uid], key=lambda c: c.pk):
            if holder[c.pk] != uid:
                plan.moves.append(Move(c, c.assignee, load.steward, weight[c.pk], average_weight))
    plan.moves.sort(key=lambda m: m.case.pk)
    return plan


def rebalance_apply(*, user: User, project_id: int, reason: str, fingerprint: str) -> int:
    """Applies the plan the supervisor previewed; returns how many cases changed hands."""
    _supervisor(user, project_id, "均衡分案")
    with transaction.atomic():
        plan = rebalance_plan(project_id)
        if plan.fingerprint != fingerprint:
            raise ValidationFailed("案件情况已变化，请重新预览后再确认", field="fingerprint")
        if not plan.moves:
            return 0
        by_taker: dict[int, list[ArrearsCase]] = defaultdict(list)
        takers = {}
        for m in plan.moves:
            by_taker[m.taker.pk].append(m.case)
            takers[m.taker.pk] = m.taker
        return sum(
            cases_reassign(user=user, cases=rows, assignee=takers[uid], reason=reason)
            for uid, rows in by_taker.items()
        )


# --- recovery orders (清欠任务单) for the company's task force --------------------------------------

RECOVERY_AGE_YEARS = 1
# Who works recovery orders: the task force, and the supervisors who created them.
_NEXT_STATES = {
    RecoveryState.OPEN: {RecoveryState.WORKING, RecoveryState.CANCELLED},
    RecoveryState.WORKING: {RecoveryState.DONE, RecoveryState.CANCELLED},
}


def recovery_eligible(case: ArrearsCase, on: datetime.date) -> bool:
    """Arrears older than one year: the oldest overdue bill was due a year ago or earlier."""
    return (
        case.is_open
        and case.oldest_due_date is not None
        and case.oldest_due_date <= add_years(on, -RECOVERY_AGE_YEARS)
    )


def task_force_of(project_id: int) -> list[User]:
    project = Project.objects.get(pk=project_id)
    return list(
        User.objects.filter(is_active=True)
        .filter(
            Q(company_id=project.company_id, company_role=Role.TASK_FORCE)
            | Q(memberships__project_id=project_id, memberships__role=Role.TASK_FORCE)
        )
        .distinct()
        .order_by("username")
    )


def recovery_order_create(
    *,
    user: User,
    case: ArrearsCase,
    assignee: User | None = None,
    team: CollectionTeam | None = None,
    notes: str = "",
    on: datetime.date | None = None,
) -> RecoveryOrder:
    """A supervisor hands a case with arrears older than a year to the task force."""
    _supervisor(user, case.project_id, "下达清欠任务单")
    on = on or timezone.localdate()
    if assignee is not None and role_in(assignee, case.project_id) != Role.TASK_FORCE:
        raise ValidationFailed(f"{assignee} 不是清欠工作小组成员", field="assignee")
    if team is not None and team.project_id != case.project_id:
        raise ValidationFailed("请选择本项目的催收小组", field="team")
    notes = (notes or "").strip()
    text_within(notes, label="备注", field="notes")
    if word := rules.forbidden_measure(notes):
        raise ValidationFailed(f"“{word}”：{rules.FORBIDDEN_MESSAGE}", field="notes")
    with transaction.atomic():
        case = ArrearsCase.objects.select_for_update().get(pk=case.pk)
        if not recovery_eligible(case, on):
            raise ValidationFailed(
                "只有欠费超过一年（最早一笔到期已满一年）且仍在催缴中的案件才能下达清欠任务单",
                field="case",
            )
        if case.recovery_orders.filter(state__in=LIVE_RECOVERY_STATES).exists():
            raise ValidationFailed("该案件已有未完成的清欠任务单", field="case")
        order = RecoveryOrder.objects.create(
            case=case,
            project_id=case.project_id,
            created_by=user,
            assignee=assignee,
            team=team,
            amount=case.overdue_amount,
            oldest_due_date=case.oldest_due_date,
            notes=notes,
        )
        audit_record(
            user=user,
            action="下达清欠任务单",
            obj=order,
            project=case.project_id,
            changes={"case": case.pk, "assignee": assignee.pk if assignee else None},
        )
    return order


def recovery_order_set_state(
    *, user: User, order: RecoveryOrder, state: str, note: str = ""
) -> RecoveryOrder:
    """The task force takes up, completes or (with a supervisor) cancels an order; the note is added
    to the order's notes with the date and the name."""
    role = role_in(user, order.project_id)
    if role not in roles.RECOVERY_WORKER_ROLES:
        raise ValidationFailed(
            "只有清欠工作小组或客服主管、项目经理可以处理清欠任务单", field="user"
        )
    note = (note or "").strip()
    if word := rules.forbidden_measure(note):
        raise ValidationFailed(f"“{word}”：{rules.FORBIDDEN_MESSAGE}", field="note")
    with transaction.atomic():
        order = RecoveryOrder.objects.select_for_update().get(pk=order.pk)
        if state not in _NEXT_STATES.get(order.state, set()):
            raise ValidationFailed(
                f"清欠任务单当前为“{order.get_state_display()}”，不能改为该状态", field="state"
            )
        old = order.state
        order.state = state
        if order.assignee_id is None and role == Role.TASK_FORCE:
            order.assignee = user
        if note:
            line = f"{timezone.localdate():%Y-%m-%d} {user}：{note}"
            order.notes = f"{order.notes}\n{line}".strip()
        order.save(update_fields=["state", "assignee", "notes"])
        audit_record(
            user=user,
            action="清欠任务单状态",
            obj=order,
            project=order.project_id,
            changes={"state": [old, state], "note": note},
        )
    return order


def recovery_orders(project_ids: list[int], state: str = "") -> list[RecoveryOrder]:
    rows = RecoveryOrder.objects.filter(project_id__in=project_ids)
    rows = rows.filter(state=state) if state else rows.filter(state__in=LIVE_RECOVERY_STATES)
    return list(
        rows.select_related(
            "case__room", "case__account__payer", "assignee", "team", "created_by"
        ).order_by("case__oldest_due_date", "id")
    )


@dataclass
class RecoveryBox:
    """What the case page shows about recovery orders."""

    eligible: bool
    live: RecoveryOrder | None
    task_force: list[User]


def recovery_box(case: ArrearsCase, on: datetime.date) -> RecoveryBox:
    live = case.recovery_orders.filter(state__in=LIVE_RECOVERY_STATES).first()
    eligible = recovery_eligible(case, on)
    return RecoveryBox(
        eligible, live, task_force_of(case.project_id) if eligible and not live else []
    )


def case_reassign(
    *, user: User, case: ArrearsCase, assignee: User | None, reason: str
) -> ArrearsCase:
    """The supervisor gives a case to another member of the project's staff, with a reason."""
    _supervisor(user, case.project_id, "重新分配案件")
    reason = _reason(reason)
    if assignee is not None and role_in(assignee, case.project_id) not in roles.CASE_WORKER_ROLES:
        raise ValidationFailed(f"{assignee} 不是本项目可承办催缴的员工", field="assignee")
    with transaction.atomic():
        case = (
            ArrearsCase.objects.select_for_update(of=("self",))
            .select_related("assignee")
            .get(pk=case.pk)
        )
        _open_or_refuse(case)
        if case.assignee_id == (assignee.pk if assignee else None):
            return case
        old = case.assignee
        _event(
            case,
            EventKind.ASSIGNEE,
            on=timezone.localdate(),
            by=user,
            old=old or "（未分配）",
            new=assignee or "（未分配）",
            reason=reason,
        ).save()
        case.assignee = assignee
        case.save(update_fields=["assignee"])
        audit_record(
            user=user,
            action="重新分配催缴案件",
            obj=case,
            project=case.project_id,
            changes={
                "assignee": [old.pk if old else None, assignee.pk if assignee else None],
                "reason": reason,
            },
        )
    return case


def cases_reassign(
    *, user: User, cases: Sequence[ArrearsCase], assignee: User | None, reason: str
) -> int:
    """Several cases to one person at once (the supervisor's rebalancing), all or nothing; returns how
    many changed hands."""
    if not cases:
        raise ValidationFailed("请先勾选要分配的案件", field="cases")
    changed = 0
    with transaction.atomic():
        for case in sorted(cases, key=lambda c: c.pk):  # one lock order: no deadlocks
            before = case.assignee_id
            after = case_reassign(user=user, case=case, assignee=assignee, reason=reason)
            changed += before != after.assignee_id
    return changed
