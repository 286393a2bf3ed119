"""Writes of the messaging app: sending an SMS, storing a delivery receipt, auditing a demand PDF."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from wuye.core import hooks
from wuye.core.audit import audit_record
from wuye.core.errors import ValidationFailed
from wuye.core.models import User
from wuye.dunning.contacts import contact_receipt_record, contact_record
from wuye.dunning.enums import CaseClass, Channel
from wuye.dunning.models import ArrearsCase
from wuye.messaging import backends, rendering, selectors
from wuye.messaging.models import (
    MessageTemplate,
    OutboxMessage,
    OutboxPurpose,
    OutboxStatus,
    TemplateKind,
)
from wuye.registry.enums import DEAD_PHONE_MARKS
from wuye.registry.models import Phone

log = logging.getLogger(__name__)
DAY = datetime.timedelta(days=1)


def sms_caps() -> tuple[int, int]:
    """(per day, per week) messages to one household: LAW.md §8 forbids harassing messages; the
    defaults keep SMS rarer than calls."""
    return (
        int(getattr(settings, "WUYE_SMS_MAX_PER_DAY", 1)),
        int(getattr(settings, "WUYE_SMS_MAX_PER_WEEK", 3)),
    )


def _recipient(case: ArrearsCase) -> Phone:
    phones = [
        p
        for p in case.account.payer.phones.order_by("-is_primary", "id")
        if p.validity not in DEAD_PHONE_MARKS
    ]
    if not phones:
        raise ValidationFailed("缴费人没有可用的手机号码，请改用上门或书面通知", field="phone")
    return phones[0]


def _sent_elsewhere(
    account_id: int, day_start: datetime.datetime, week_start: datetime.datetime
) -> tuple[int, int]:
    """Messages other apps sent the household (reminders, thanks): the caps count every message,
    whoever sends it (LAW.md §8). Each ``WUYE_SMS_COUNTERS`` entry returns (today, this week)."""
    counts = hooks.call_each(
        "WUYE_SMS_COUNTERS", account_id=account_id, day_start=day_start, week_start=week_start
    )
    return sum(d for d, _ in counts), sum(w for _, w in counts)


def _check_caps(case: ArrearsCase, at: datetime.datetime) -> None:
    per_day, per_week = sms_caps()
    local = timezone.localtime(at)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    week_start = day_start - local.weekday() * DAY
    sent = (
        OutboxMessage.objects.filter(
            account_id_snapshot=case.account_id, created_at__gte=week_start
        )
        .exclude(status=OutboxStatus.FAILED)
        .exclude(purpose=OutboxPurpose.CODE)  # codes the owner asked for are not reminders
    )
    other_today, other_week = _sent_elsewhere(case.account_id, day_start, week_start)
    if sent.filter(created_at__gte=day_start).count() + other_today >= per_day:
        raise ValidationFailed(
            f"该户今天已发过 {per_day} 条短信，已达每日上限（本公司联系规范：不得频繁发送催缴信息）",
            field="template",
        )
    if sent.count() + other_week >= per_week:
        raise ValidationFailed(
            f"该户本周已发过 {per_week} 条短信，已达每周上限（本公司联系规范）", field="template"
        )


def send_sms(
    case: ArrearsCase,
    template: MessageTemplate | str,
    user: User,
    *,
    deadline: datetime.date | None = None,
    now: datetime.datetime | None = None,
) -> OutboxMessage:
    """Sends the rendered ``template`` (a row, or a kind whose template is looked up) to the payer of
    ``case`` and records it as an SMS contact.

    Every check comes before anything leaves the machine: the template (placeholders, no unlawful
    measure), the daily/weekly caps, and ``contact_record``'s rules (role and scope, 误催, the
    08:00–21:00 message window). The contact and the queued message are one transaction; the provider
    is called after it commits, and its answer sets the message's status (a failure is kept, not
    hidden)."""
    now = now or timezone.now()
    if isinstance(template, MessageTemplate):
        if template.project_id not in (None, case.project_id):
            raise ValidationFailed("模板不属于本项目", field="template")
        body_template = template.body
    else:
        kind = template or TemplateKind.SMS
        body_template = selectors.template_for(case.project.company_id, case.project_id, kind)[1]
    deadline = deadline or rendering.default_deadline(timezone.localdate(now))
    body = rendering.render(body_template, case, deadline)
    phone = _recipient(case)
    path = backends.backend_path()
    with transaction.atomic():
        _check_caps(case, now)
        keep = case.case_class if case.case_class else ""
        record = contact_record(
            user=user,
            case=case,
            channel=Channel.SMS,
            reached=False,
            at=now,
            now=now,
            phone=phone,
            case_class=keep,
            class_reason="短信提醒，分类不变" if keep and keep != CaseClass.B else "",
            note=f"短信：{body}",
        )
        message = OutboxMessage.objects.create(
            project_id=case.project_id,
            case=case,
            account_id_snapshot=case.account_id,
            to=phone.number,
            body=body,
            backend=path,
            contact=record,
            by=user,
        )
        audit_record(
            user=user,
            action="发送催缴短信",
            obj=message,
            project=case.project_id,
            changes={"case": case.pk, "to": phone.number, "contact": record.pk},
        )
    _deliver(message)
    return message


def code_sms_send(
    *, project_id: int, account_id: int, to: str, body: str, code: str
) -> OutboxMessage:
    """Sends a one-time code the owner asked for (wuye.owner) through the same backend and outbox.

    Not a dunning contact: no contact record, no case, and outside the daily/weekly caps and the
    08:00–21:00 window of LAW.md §8, which bind messages the company starts; the owner starts this
    one and waits for it. The outbox keeps the message with ``code`` masked when a provider delivers
    it: whoever reads the outbox must not be able to open the owner's page with it. Without a
    provider the outbox is where the code is read (the demo), and it is kept as sent."""
    stored = body if backends.delivers_to_outbox() else body.replace(code, "*" * len(code))
    message = OutboxMessage.objects.create(
        project_id=project_id,
        purpose=OutboxPurpose.CODE,
        account_id_snapshot=account_id,
        to=to,
        body=stored,
        backend=backends.backend_path(),
    )
    _deliver(message, body)
    return message


def _deliver(message: OutboxMessage, body: str | None = None) -> None:
    """Sends ``message`` (its text is ``body`` when the outbox keeps it masked)."""
    try:
        sent = backends.backend().send(message.to, message.body if body is None else body)
    except backends.SmsError as exc:
        message.status, message.error = OutboxStatus.FAILED, str(exc)[:300]
        log.warning("SMS %s failed: %s", message.pk, exc)
    else:
        message.status, message.provider_id = OutboxStatus.SENT, sent.provider_id
        message.sent_at = timezone.now()
    message.save(update_fields=["status", "error", "provider_id", "sent_at"])


# --- delivery receipts -------------------------------------------------------------------------------

RECEIPT_STATUSES = {
    "delivered": OutboxStatus.DELIVERED,
    "DELIVRD": OutboxStatus.DELIVERED,
    "failed": OutboxStatus.FAILED,
    "undelivered": OutboxStatus.FAILED,
}


def receipt_signature(body: bytes) -> str:
    secret = getattr(settings, "WUYE_SMS_WEBHOOK_SECRET", "")
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def receipt_verified(body: bytes, signature: str) -> bool:
    """The provider signs the raw body with the shared secret (HMAC-SHA256, hex). Without a
    configured secret nothing is accepted."""
    if not getattr(settings, "WUYE_SMS_WEBHOOK_SECRET", ""):
        return False
    return hmac.compare_digest(receipt_signature(body), (signature or "").strip().lower())


def receipt_store(body: bytes) -> OutboxMessage:
    """Stores a verified receipt ``{"message_id", "status", ...}`` on its message as evidence."""
    try:
        payload = json.loads(body)
        provider_id = str(payload["message_id"])
        status = RECEIPT_STATUSES[str(payload["status"])]
    except (ValueError, KeyError, TypeError) as exc:
        raise ValidationFailed("回执格式不正确", field="body") from exc
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update().filter(provider_id=provider_id).first()
        if message is None:
            raise ValidationFailed("没有这条短信", field="message_id")
        message.status = status
        message.receipt = payload
        if status == OutboxStatus.DELIVERED:
            message.delivered_at = timezone.now()
        else:
            message.error = str(payload.get("error", "送达失败"))[:300]
        message.save(update_fields=["status", "receipt", "delivered_at", "error"])
        if message.contact_id is not None:
            # The receipt belongs to the contact's evidence too (LAW.md §7: keep the receipt).
            contact_receipt_record(
                contact=message.contact,
                delivered=status == OutboxStatus.DELIVERED,
                received_at=message.delivered_at or timezone.now(),
                provider_ref=provider_id,
                payload=payload,
            )
        audit_record(
            user=None,
            action="短信送达回执",
            obj=message,
            project=message.project_id,
            changes={"status": status, "receipt": payload},
        )
    return message


def demand_produced(*, user: User, case: ArrearsCase, kind: str, deadline: datetime.date) -> None:
    """Producing a demand is audited; its delivery is recorded by the steward with the contact form
    (channel door notice, mail/EMS or lawyer letter), which starts the limitation interruption."""
    audit_record(
        user=user,
        action="生成催缴函" if kind == TemplateKind.WRITTEN_DEMAND else "生成律师函",
        obj=case,
        project=case.project_id,
        changes={"kind": kind, "deadline": deadline, "amount": case.overdue_amount},
    )
