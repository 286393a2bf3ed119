"""分类与跟进: who may work a case, the case's timeline events, its class set by judgement and its next task.

The shared ground of the dunning writes (the daily run, contacts, the legal stage, assignment): the
role checks (``_worker``, ``_supervisor``), a reason's checks, a timeline event, the segment strategy
(``WUYE_CASE_STRATEGY``) and the next task from ``rules.next_task``.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from wuye.billing.models import Account
from wuye.core import hooks, roles
from wuye.core.audit import audit_record
from wuye.core.errors import NotInScope, ValidationFailed
from wuye.core.models import User
from wuye.core.roles import Role
from wuye.core.scope import role_in
from wuye.dunning import rules
from wuye.dunning.enums import (
    CaseClass,
    CaseState,
    EventKind,
)
from wuye.dunning.models import (
    ArrearsCase,
    CaseEvent,
)

DAY = datetime.timedelta(days=1)


def _worker(user: User, case: ArrearsCase, doing: str) -> Role:
    role = role_in(user, case.project_id)
    if role is None:
        raise NotInScope("您没有该项目的权限。")
    if role not in roles.CASE_WORKER_ROLES:
        raise ValidationFailed(f"您的角色（{role.label}）不能{doing}。", field="user")
    if role in roles.OWN_CASES_ONLY_ROLES and case.assignee_id != user.pk:
        raise ValidationFailed(
            f"该案件的责任人是 {case.assignee or '（未分配）'}，您只能{doing}自己负责的案件；"
            "如需接手请找客服主管重新分配。",
            field="case",
        )
    return role


def _supervisor(user: User, project_id: int, doing: str) -> Role:
    role = role_in(user, project_id)
    if role is None:
        raise NotInScope("您没有该项目的权限。")
    if role not in roles.CASE_SUPERVISOR_ROLES:
        raise ValidationFailed(f"只有客服主管、项目经理可以{doing}。", field="user")
    return role


def _reason(reason: str | None, field: str = "reason") -> str:
    text = (reason or "").strip()
    if not text:
        raise ValidationFailed("请填写原因", field=field)
    if len(text) > 200:
        raise ValidationFailed("原因最多 200 字", field=field)
    if word := rules.forbidden_measure(text):
        raise ValidationFailed(f"“{word}”：{rules.FORBIDDEN_MESSAGE}", field=field)
    return text


def _event_fields(
    case: ArrearsCase,
    kind: str,
    *,
    on: datetime.date,
    by: User | None = None,
    old: object = "",
    new: object = "",
    reason: str = "",
    at: datetime.datetime | None = None,
) -> dict[str, Any]:
    """A case event's values (the daily run writes thousands of them at once, without instances)."""
    return {
        "case": case,
        "at": at or timezone.now(),
        "on_date": on,
        "by": by if by is not None and by.is_authenticated else None,
        "kind": kind,
        "from_value": str(old or "")[:60],
        "to_value": str(new or "")[:60],
        "reason": reason[:300],
    }


def _event(case: ArrearsCase, kind: str, **values: Any) -> CaseEvent:
    return CaseEvent(**_event_fields(case, kind, **values))


_LOOK_UP = object()


def case_strategies(
    project_id: int, account_ids: list[int] | None
) -> dict[int, rules.StrategyAdjustment]:
    """The segment strategies of the accounts (``None``: the whole project) from the
    ``WUYE_CASE_STRATEGY`` hooks — one bulk call per hook, never one per case."""
    found: dict[int, rules.StrategyAdjustment] = {}
    for adjustments in hooks.call_each(
        "WUYE_CASE_STRATEGY", project_id=project_id, account_ids=account_ids
    ):
        found.update(adjustments)
    return found


def _written_only_accounts(project_id: int, account_ids: list[int] | None) -> set[int]:
    """The accounts whose payer asked for written contact only (LAW.md §8), in one query."""
    rows = Account.objects.filter(project_id=project_id, payer__written_contact_only=True)
    if account_ids is not None:
        rows = rows.filter(pk__in=account_ids)
    return set(rows.values_list("pk", flat=True))


def _written_only(case: ArrearsCase) -> bool:
    """Whether the case's payer asked for written contact only; the run sets ``written_only`` on
    every case from one query, a single case outside the run asks the database."""
    if not hasattr(case, "written_only"):
        case.written_only = bool(_written_only_accounts(case.project_id, [case.account_id]))
    return case.written_only


def _apply_task(case: ArrearsCase, settings, follow_ups, strategy=_LOOK_UP) -> None:
    if strategy is _LOOK_UP:  # one case outside the run (a contact, a new class or stage)
        strategy = case_strategies(case.project_id, [case.account_id]).get(case.account_id)
    task = rules.next_task(
        opened_on=case.opened_on,
        case_class=case.case_class,
        stage=case.stage,
        stage_since=case.stage_since,
        stage_deadline=case.stage_deadline,
        stage_action_done_on=case.stage_action_done_on,
        promise_date=case.promise_date,
        last_contact_on=timezone.localdate(case.last_contact_at) if case.last_contact_at else None,
        follow_ups=follow_ups,
        first_call_days=settings.first_call_days,
        strategy=strategy,
        written_only=_written_only(case),
        written_follow_up_days=settings.written_follow_up_days,
    )
    case.next_action, case.next_action_on, case.next_action_due = task.action, task.on, task.due


def _choice(value: str, choices, field: str, label: str) -> str:
    value = (value or "").strip()
    if value and value not in choices.values:
        raise ValidationFailed(f"未知的{label}：{value}", field=field)
    return value


def case_set_class(*, user: User, case: ArrearsCase, case_class: str, reason: str) -> ArrearsCase:
    """The steward (or supervisor) changes the class by judgement, with a reason."""
    _worker(user, case, "调整分类")
    case_class = _choice(case_class, CaseClass, "case_class", "分类")
    if not case_class:
        raise ValidationFailed("请选择分类", field="case_class")
    reason = _reason(reason)
    with transaction.atomic():
        case = ArrearsCase.objects.select_for_update().get(pk=case.pk)
        _open_or_refuse(case)
        if case.case_class == case_class:
            return case
        day = timezone.localdate()
        _event(
            case,
            EventKind.CLASS,
            on=day,
            by=user,
            old=case.case_class,
            new=case_class,
            reason=reason,
        ).save()
        old = case.case_class
        case.case_class, case.class_set_by, case.class_reason = case_class, user, reason
        if case_class != CaseClass.A:
            case.promise_date, case.promise_amount = None, None
        settings = rules.dunning_settings(case.project_id)
        _apply_task(case, settings, rules.follow_up_rules(case.project_id))
        case.save()
        audit_record(
            user=user,
            action="催缴分类",
            obj=case,
            project=case.project_id,
            changes={"class": [old, case_class], "reason": reason},
        )
    return case


def _open_or_refuse(case: ArrearsCase) -> None:
    if not case.is_open:
        raise ValidationFailed("案件已结案（该户已无逾期欠费）", field="case")


# --- results from the bank -------------------------------------------------------------------------


def case_bank_result(
    *, account_id: int, text: str, on: datetime.date, by: User | None = None
) -> CaseEvent | None:
    """Records a bank's answer about the household (e.g. "代扣失败：余额不足（批次 …）") on its open
    arrears case, where today's list and the case page show it. Called by the app that imported the
    answer (wuye.banking); nothing is recorded when the household has no open case."""
    case = ArrearsCase.objects.filter(account_id=account_id, state=CaseState.OPEN).first()
    if case is None:
        return None
    event = _event(case, EventKind.BANK, on=on, by=by, reason=text)
    event.save()
    return event
