"""Writes of the alerts app: success stories, acknowledging warnings (the daily warnings run is
``early_warnings``, reminders and thanks ``courtesy``). Each validates, runs in one
transaction and records its audit entry."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from wuye.alerts.models import SuccessStory, Warning
from wuye.core import roles
from wuye.core.audit import audit_record
from wuye.core.errors import NotInScope, ValidationFailed
from wuye.core.models import User
from wuye.core.scope import role_in
from wuye.dunning.enums import CaseState, Channel, RefusalReason
from wuye.dunning.models import ArrearsCase
from wuye.dunning.rules import FORBIDDEN_MESSAGE, forbidden_measure

PIPL = "《个人信息保护法》第二十五条：未经本人单独同意不得公开其个人信息"
MAX_TEXT = 2000


def _text(value: str | None, *, field: str, label: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationFailed(f"请填写{label}", field=field)
    if len(text) > MAX_TEXT:
        raise ValidationFailed(f"{label}最多 {MAX_TEXT} 字", field=field)
    if word := forbidden_measure(text):
        raise ValidationFailed(f"“{word}”：{FORBIDDEN_MESSAGE}", field=field)
    return text


def _choice(value: str | None, choices, *, field: str, label: str) -> str:
    value = value or ""
    if value and value not in choices.values:
        raise ValidationFailed(f"{label}不在可选范围内", field=field)
    return value


def success_story_create(
    *,
    user: User,
    case: ArrearsCase,
    what_worked: str,
    refusal_reason: str = "",
    channel: str = "",
) -> SuccessStory:
    """Marks a closed case as a good example (经验库). Only a closed case — an open one has not
    worked yet —, only by the case's assignee or a supervisor, and the text must not name the
    household: other stewards read it (PIPL art. 25)."""
    role = role_in(user, case.project_id)
    if role is None:
        raise NotInScope("您没有该项目的权限。")
    if role not in roles.CASE_SUPERVISOR_ROLES and not (
        role in roles.CASE_WORKER_ROLES
        and case.assignee_id is not None
        and case.assignee_id == user.pk
    ):
        raise ValidationFailed(
            "只有本案责任人或客服主管、项目经理可以把案件标记为成功案例。", field="user"
        )
    if case.state != CaseState.CLOSED:
        raise ValidationFailed(
            "只有已结案的案件才能作为成功案例：案件还在催缴中，经验尚未得到验证。", field="case"
        )
    text = _text(what_worked, field="what_worked", label="做法与经验")
    payer = case.account.payer.name
    for private in (payer, case.room.code):
        if private and private in text:
            raise ValidationFailed(
                f"经验会给其他管家参考，请不要写业主姓名或房号（“{private}”）（{PIPL}）。",
                field="what_worked",
            )
    refusal_reason = _choice(
        refusal_reason, RefusalReason, field="refusal_reason", label="拒缴理由"
    )
    channel = _choice(channel, Channel, field="channel", label="奏效的方式")
    try:
        with transaction.atomic():
            story = SuccessStory.objects.create(
                project_id=case.project_id,
                case=case,
                refusal_reason=refusal_reason,
                channel=channel,
                what_worked=text,
                by=user,
            )
            audit_record(
                user=user,
                action="标记成功案例",
                obj=story,
                project=case.project_id,
                changes={"case": case.pk, "refusal_reason": refusal_reason, "channel": channel},
            )
    except IntegrityError as exc:
        raise ValidationFailed("本案已经标记为成功案例", field="case") from exc
    return story


def warning_acknowledge(*, user: User, warning: Warning, note: str) -> Warning:
    """A manager confirms having seen a warning and says what is being done; who and when are kept.
    Acknowledged once: a second acknowledgement is refused rather than overwriting the first."""
    role = role_in(user, warning.project_id)
    if role is None:
        raise NotInScope("您没有该项目的权限。")
    if role not in roles.CASE_OVERSEER_ROLES:
        raise ValidationFailed(f"您的角色（{role.label}）不能确认预警。", field="user")
    text = (note or "").strip()
    if not text:
        raise ValidationFailed("请填写处理说明（已安排谁、做什么）", field="note")
    if len(text) > 300:
        raise ValidationFailed("处理说明最多 300 字", field="note")
    if word := forbidden_measure(text):
        raise ValidationFailed(f"“{word}”：{FORBIDDEN_MESSAGE}", field="note")
    with transaction.atomic():
        locked = Warning.objects.select_for_update().get(pk=warning.pk)
        if locked.acknowledged_at is not None:
            raise ValidationFailed(
                f"该预警已由 {locked.acknowledged_by} 于 {timezone.localtime(locked.acknowledged_at):%Y-%m-%d %H:%M} 确认",
                field="warning",
            )
        locked.acknowledged_by = user
        locked.acknowledged_at = timezone.now()
        locked.ack_note = text
        locked.save(update_fields=["acknowledged_by", "acknowledged_at", "ack_note"])
        audit_record(
            user=user,
            action="确认预警",
            obj=locked,
            project=locked.project_id,
            changes={"kind": locked.kind, "account": locked.account_id, "note": text},
        )
    return locked
