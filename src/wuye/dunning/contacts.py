"""催缴记录 (contact records): one contact with a household, kept as evidence, and what it changes.

``contact_record`` is refused when the law or the company's rules say so (误催, the contact windows and
call caps, written contact only, unlawful measures), and otherwise sets the case's class, promise
(承诺缴费) and next task. Contact records and case events are never updated: a correction is a new
record. Also here: the links to legacy issues (关联历史遗留问题) and the SMS delivery receipts.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Sequence

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from wuye.core import hooks, uploads
from wuye.core.audit import audit_record
from wuye.core.errors import ValidationFailed
from wuye.core.guardrails import guard_text
from wuye.core.models import User
from wuye.core.money import money, to_decimal
from wuye.dunning import holds, rules
from wuye.dunning.casework import _apply_task, _choice, _event, _worker, _written_only
from wuye.dunning.daily_run import case_refresh_account
from wuye.dunning.enums import (
    MESSAGE_CHANNELS,
    VOICE_CHANNELS,
    AttachmentKind,
    CaseClass,
    Channel,
    DeliveryStatus,
    EventKind,
    ReceiptStatus,
    RefusalReason,
    UnreachedReason,
)
from wuye.dunning.legal_stage import _demand_check
from wuye.dunning.models import (
    ArrearsCase,
    CaseEvent,
    CaseIssueLink,
    ContactAttachment,
    ContactRecord,
    DeliveryReceipt,
)
from wuye.registry.enums import PhoneValidity
from wuye.registry.models import LegacyIssue, Occupancy, Phone
from wuye.registry.normalize import normalize_phone
from wuye.registry.services import phone_mark_validity

DAY = datetime.timedelta(days=1)

_UNREACHED_MARK = {
    UnreachedReason.NO_ANSWER: PhoneValidity.NO_ANSWER,
    UnreachedReason.POWERED_OFF: PhoneValidity.POWERED_OFF,
    UnreachedReason.DISCONNECTED: PhoneValidity.DISCONNECTED,
    UnreachedReason.WRONG_NUMBER: PhoneValidity.WRONG_NUMBER,
    # "No signal" says nothing about the number itself: its mark stays as it was.
}


def _after_contact(account_id: int, case_id: int) -> None:
    """Runs the ``WUYE_AFTER_CONTACT`` hooks (e.g. the credit file) once the contact is durable; a
    failing hook is logged and never undoes the record."""
    hooks.after_commit("WUYE_AFTER_CONTACT", account_id=account_id, case_id=case_id)


def _payer_phone_ids(case: ArrearsCase) -> set[int]:
    people = Occupancy.objects.filter(room_id=case.room_id, end_date__isnull=True).values_list(
        "person_id", flat=True
    )
    return set(
        Phone.objects.filter(person_id__in=[case.account.payer_id, *people]).values_list(
            "id", flat=True
        )
    )


def contact_record(
    *,
    user: User,
    case: ArrearsCase,
    channel: str,
    reached: bool,
    at: datetime.datetime | None = None,
    phone: Phone | None = None,
    used: str = "",
    unreached_reason: str = "",
    owner_said: str = "",
    promise_date: datetime.date | None = None,
    promise_amount: object = None,
    refusal_reason: str = "",
    lives_elsewhere: bool = False,
    case_class: str = "",
    class_reason: str = "",
    delivery_status: str = "",
    delivery_ref: str = "",
    demand_deadline: datetime.date | None = None,
    note: str = "",
    late_entry_reason: str = "",
    corrects: ContactRecord | None = None,
    legacy_issue: LegacyIssue | None = None,
    attachments: Sequence[UploadedFile] = (),
    attachment_kind: str = AttachmentKind.PHOTO,
    now: datetime.datetime | None = None,
) -> ContactRecord:
    """催缴记录: one contact with the household of ``case``, kept as evidence.

    Refused (``ValidationFailed`` naming the field, citing the rule): a case with nothing overdue
    (误催 — checked against the ledger right now), a call or visit outside the project's working
    windows or over the daily/weekly cap, a message outside its window, a call or visit to an owner who
    asked for written contact only, a note that plans cutting utilities or naming the debtor (LAW.md
    §1–3, §8), a contact in the future. Otherwise the outcome sets the class (``rules.class_from_outcome``
    unless ``case_class`` is chosen with a reason), the promise and the next task; a number found dead
    is marked on the phone.
    """
    now = now or timezone.now()
    at = at or now
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    _worker(user, case, "登记催缴记录")
    _check_attachments(attachments)  # before anything is written: by content, count and size
    channel = _choice(channel, Channel, "channel", "联系方式")
    if not channel:
        raise ValidationFailed("请选择联系方式", field="channel")
    # A withholding batch in flight: the bank is taking the money; an owner at the window is no chase.
    if corrects is None and channel != Channel.WINDOW and (hold := holds.hold_of(case)):
        raise ValidationFailed(
            f"{hold}：银行扣款结果回来之前不催缴该户，请等回盘后再联系"
            "（扣款失败会显示在今日催缴和案件页，并写明银行返回的原因）。",
            code="dunning.bank_hold",
            field="case",
        )
    if at > now + datetime.timedelta(minutes=5):
        raise ValidationFailed("联系时间不能晚于现在（登记已发生的联系）", field="at")
    unreached_reason = _choice(
        unreached_reason, UnreachedReason, "unreached_reason", "未联系上原因"
    )
    refusal_reason = _choice(refusal_reason, RefusalReason, "refusal_reason", "拒缴理由")
    delivery_status = _choice(delivery_status, DeliveryStatus, "delivery_status", "送达状态")
    case_class = _choice(case_class, CaseClass, "case_class", "分类")
    if reached:
        unreached_reason = ""
    elif not unreached_reason:
        if channel in (Channel.PHONE, Channel.VISIT_HOME, Channel.VISIT_WORK):
            raise ValidationFailed(
                "未联系上时请选择原因（无人接听、关机……）", field="unreached_reason"
            )
        unreached_reason = ""
    if not reached and channel == Channel.WINDOW:
        raise ValidationFailed("窗口面谈即已联系上", field="reached")
    for name, text in (("note", note), ("owner_said", owner_said), ("class_reason", class_reason)):
        if len(text or "") > 2000:
            raise ValidationFailed("内容最多 2000 字", field=name)
    # Every free text of the record: the measures noted, what the owner said, the address used.
    for name, text in (("note", note), ("owner_said", owner_said), ("used", used)):
        guard_text(text, field=name)
    amount = None
    if promise_amount not in (None, ""):
        try:
            amount = money(to_decimal(promise_amount))
        except Exception as exc:
            raise ValidationFailed("承诺金额应为数字，如 1200.00", field="promise_amount") from exc
        if amount <= 0:
            raise ValidationFailed("承诺金额应大于 0", field="promise_amount")
    local_day = timezone.localtime(at).date()
    if promise_date is not None:
        if not reached:
            raise ValidationFailed("未联系上业主，不能登记承诺", field="promise_date")
        if promise_date < local_day:
            raise ValidationFailed("承诺缴费日期不能早于联系日期", field="promise_date")
    if phone is not None and phone.pk not in _payer_phone_ids(case):
        raise ValidationFailed("该号码不属于本户的业主或住户", field="phone")
    if corrects is not None and corrects.case_id != case.pk:
        raise ValidationFailed("只能更正本案件的记录", field="corrects")
    if legacy_issue is not None and legacy_issue.room_id != case.room_id:
        raise ValidationFailed("只能引用本户（同一房屋）的历史遗留问题", field="legacy_issue")

    # 误催: the ledger, right now, decides whether the household still owes anything.
    if case.is_open:
        case_refresh_account(case.account, on=timezone.localdate(now))
        case.refresh_from_db()
    if not case.is_open and corrects is None:
        raise ValidationFailed(
            f"误催：该户已无逾期欠费（案件已于 {case.closed_on:%Y-%m-%d} 结案），不得再催缴"
            "（本公司催缴流程：已缴清的不催）。",
            code="dunning.nothing_overdue",
            field="case",
        )
    settings = rules.dunning_settings(case.project_id)
    payer = case.account.payer
    if channel in VOICE_CHANNELS and payer.written_contact_only:
        raise ValidationFailed(
            f"{payer.name} 要求仅以书面方式联系：不得电话或上门，请改用邮寄/EMS、"
            "张贴投递通知或律师函（本公司联系规范：尊重业主选择的联系方式）。",
            code="dunning.written_only",
            field="channel",
        )
    late_entry_reason = _demand_check(
        channel=channel,
        at=at,
        now=now,
        delivery_status=delivery_status,
        demand_deadline=demand_deadline,
        late_entry_reason=late_entry_reason,
        attachments=attachments,
        settings=settings,
    )
    if refusal := rules.contact_time_refusal(channel=channel, at=at, settings=settings):
        # The task stays where it is: the case stays on today's list, where the steward can still
        # send a message or post a notice, and the card says when calls are allowed (issue 17 item 1).
        raise ValidationFailed(refusal, code="dunning.outside_hours", field="at")

    derived = rules.class_from_outcome(
        reached=reached,
        unreached_reason=unreached_reason,
        promise_date=promise_date,
        refusal_reason=refusal_reason,
        lives_elsewhere=lives_elsewhere,
        current=case.case_class,
    )
    chosen = case_class or derived
    class_reason = (class_reason or "").strip()
    if chosen != derived and not class_reason:
        raise ValidationFailed(
            f"按本次结果应为 {CaseClass(derived).label}；改为 {CaseClass(chosen).label} 请填写理由",
            field="class_reason",
        )
    if word := rules.forbidden_measure(class_reason):
        raise ValidationFailed(f"“{word}”：{rules.FORBIDDEN_MESSAGE}", field="class_reason")

    number = phone.number if phone is not None else (used or "")
    if channel == Channel.PHONE:
        try:
            _check_call_caps(case, at, settings, number)
        except ValidationFailed as exc:
            _task_postpone(
                case,
                exc.postpone_until,
                today=timezone.localdate(now),
                user=user,
                why="已达通话次数上限",
            )
            raise
    with transaction.atomic():
        case = (
            ArrearsCase.objects.select_for_update(of=("self",))
            .select_related("account__payer", "project")
            .get(pk=case.pk)
        )
        if channel == Channel.PHONE:
            # Again under the lock: two stewards calling the same household at once.
            _check_call_caps(case, at, settings, number)
        record = ContactRecord(
            case=case,
            project_id=case.project_id,
            at=at,
            by=user,
            channel=channel,
            phone=phone,
            used=(used or (phone.number if phone else ""))[:200],
            reached=reached,
            unreached_reason=unreached_reason,
            owner_said=owner_said.strip(),
            promise_date=promise_date,
            promise_amount=amount,
            refusal_reason=refusal_reason,
            lives_elsewhere=lives_elsewhere,
            case_class=chosen,
            class_reason=class_reason,
            delivery_status=delivery_status,
            delivery_ref=delivery_ref.strip()[:100],
            demand_deadline=demand_deadline,
            note=note.strip(),
            late_entry_reason=late_entry_reason,
            corrects=corrects,
        )
        record.save()
        for upload in attachments:
            _attach(record, upload, attachment_kind)
        if legacy_issue is not None:
            case_link_issue(user=user, case=case, issue=legacy_issue, contact=record)
        if case.is_open:
            _apply_contact(case, record, user, local_day, settings)
        audit_record(
            user=user,
            action="催缴记录",
            obj=record,
            project=case.project_id,
            changes={
                "case": case.pk,
                "channel": channel,
                "at": at,
                "reached": reached,
                "unreached_reason": unreached_reason,
                "promise": [promise_date, amount],
                "refusal_reason": refusal_reason,
                "class": chosen,
                "corrects": corrects.pk if corrects else None,
                "attachments": len(attachments),
            },
        )
        _after_contact(case.account_id, case.pk)
    if phone is not None:
        mark = PhoneValidity.OK if reached else _UNREACHED_MARK.get(unreached_reason)
        if mark and mark != phone.validity:
            phone_mark_validity(user=user, phone=phone, validity=mark)
    return record


def case_link_issue(
    *,
    user: User,
    case: ArrearsCase,
    issue: LegacyIssue,
    contact: ContactRecord | None = None,
    note: str = "",
) -> CaseIssueLink:
    """Links a legacy issue of the case's room to the case for good (the owner cited it, or the
    steward judged it relevant). Linking the same issue again returns the existing link."""
    _worker(user, case, "关联历史遗留问题")
    if issue.room_id != case.room_id:
        raise ValidationFailed("只能关联本户（同一房屋）的历史遗留问题", field="legacy_issue")
    note = (note or "").strip()
    if len(note) > 200:
        raise ValidationFailed("说明最多 200 字", field="note")
    if word := rules.forbidden_measure(note):
        raise ValidationFailed(f"“{word}”：{rules.FORBIDDEN_MESSAGE}", field="note")
    with transaction.atomic():
        found = CaseIssueLink.objects.filter(case=case, issue=issue).first()
        if found is not None:
            return found
        link = CaseIssueLink.objects.create(
            case=case, issue=issue, contact=contact, by=user, note=note
        )
        audit_record(
            user=user,
            action="案件关联历史遗留问题",
            obj=case,
            project=case.project_id,
            changes={"issue": issue.pk, "contact": contact.pk if contact else None},
        )
    return link


def contact_receipt_record(
    *,
    contact: ContactRecord,
    delivered: bool,
    received_at: datetime.datetime | None = None,
    provider_ref: str = "",
    payload: object = None,
) -> DeliveryReceipt:
    """Keeps the SMS provider's delivery receipt on the contact that sent the message (the contact
    itself is evidence and never changes). Called by the app that talks to the provider when a
    verified receipt arrives; a delivered receipt makes the message a demand that reached the owner
    (LAW.md §7)."""
    if contact.channel not in MESSAGE_CHANNELS:
        raise ValidationFailed("只有短信、微信消息有送达回执", field="contact")
    with transaction.atomic():
        receipt = DeliveryReceipt.objects.create(
            contact=contact,
            status=ReceiptStatus.DELIVERED if delivered else ReceiptStatus.FAILED,
            received_at=received_at or timezone.now(),
            provider_ref=(provider_ref or "")[:100],
            payload=payload,
        )
        audit_record(
            user=None,
            action="短信送达回执",
            obj=contact,
            project=contact.project_id,
            changes={"receipt": receipt.pk, "status": receipt.status},
        )
    return receipt


def _check_call_caps(case: ArrearsCase, at: datetime.datetime, settings, number: str = "") -> None:
    """The daily and weekly call caps, counted per person and per number across every case and project
    of the company (not per case): a payer with two flats, or two households sharing one phone, is
    still one person being called (本公司联系规范; harassing calls: 《民法典》第一千零三十三条)."""
    local = timezone.localtime(at)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    week_start = day_start - local.weekday() * DAY
    per_day, per_week = rules.call_caps(settings)
    payer = case.account.payer
    person = Q(case__account__payer_id=payer.pk)
    if payer.id_number.strip():  # the same owner registered in another project of the company
        person |= Q(case__account__payer__id_number=payer.id_number.strip())
    calls = ContactRecord.objects.filter(
        project__company_id=case.project.company_id,
        channel=Channel.PHONE,
        corrects__isnull=True,
    )
    checks = [(calls.filter(person), "该业主")]
    try:
        digits = normalize_phone(number) if number.strip() else ""
    except ValueError:
        digits = "".join(ch for ch in number if ch.isdigit())
    if digits:
        checks.append((calls.filter(Q(phone__number=digits) | Q(used=digits)), f"号码 {digits}"))
    for rows, whom in checks:
        today = rows.filter(at__gte=day_start, at__lt=day_start + DAY).count()
        if today >= per_day:
            raise _over_cap(
                (day_start + DAY).date(),
                f"今天已给{whom}打过 {today} 次电话（含本公司其他案件、其他项目），达到每日上限 "
                f"{per_day} 次（本公司联系规范：频繁致电属骚扰，《民法典》第一千零三十三条）。"
                "请明天再打，或改用短信、上门。",
            )
        week = rows.filter(at__gte=week_start, at__lt=week_start + 7 * DAY).count()
        if week >= per_week:
            raise _over_cap(
                (week_start + 7 * DAY).date(),
                f"本周已给{whom}打过 {week} 次电话（含本公司其他案件、其他项目），达到每周上限 "
                f"{per_week} 次（本公司联系规范：频繁致电属骚扰）。请下周再打，或改用书面方式。",
            )


def _over_cap(until: datetime.date, message: str) -> ValidationFailed:
    """The refusal of a call over the cap, carrying the day the task moves to."""
    error = ValidationFailed(message, code="dunning.over_cap", field="channel")
    error.postpone_until = until
    return error


def _task_postpone(
    case: ArrearsCase,
    until: datetime.date,
    *,
    today: datetime.date,
    why: str,
    user: User | None = None,
) -> None:
    """A call refused for the cap moves the case's task to the next day it is allowed (LAW.md
    §8), so today's list stops offering a call that would be refused again (a refusal for the hour
    leaves the task alone: the card shows the hours, and a message or notice is still allowed). Written
    on its own, before the refusal: the task moves even though the contact is not recorded."""
    if until <= today or (case.next_action_on is not None and case.next_action_on >= until):
        return  # still allowed later today, or a past contact being recorded
    ArrearsCase.objects.filter(pk=case.pk).update(next_action_on=until)
    case.next_action_on = until
    audit_record(
        user=user,
        action="催缴任务顺延",
        obj=case,
        project=case.project_id,
        changes={"next_action_on": until, "reason": why},
    )


def _check_attachments(attachments: Sequence[UploadedFile]) -> None:
    uploads.check_request_files(attachments, field="attachments")
    for upload in attachments:
        uploads.check_upload(upload, field="attachments")


def _attach(record: ContactRecord, upload: UploadedFile, kind: str) -> ContactAttachment:
    if kind not in AttachmentKind.values:
        raise ValidationFailed(f"未知的附件类型：{kind}", field="attachments")
    checked = uploads.check_upload(upload, field="attachments")
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    attachment = ContactAttachment(
        contact=record,
        kind=kind,
        original_name=uploads.display_name(upload.name)[:200],
        size=upload.size,
        sha256=digest.hexdigest(),
    )
    attachment.file.save(uploads.stored_name(upload.name, checked), upload, save=False)
    attachment.save()
    return attachment


def _apply_contact(
    case: ArrearsCase,
    record: ContactRecord,
    user: User,
    day: datetime.date,
    settings,
) -> None:
    events: list[CaseEvent] = []
    if record.case_class != case.case_class:
        events.append(
            _event(
                case,
                EventKind.CLASS,
                on=day,
                by=user,
                old=case.case_class,
                new=record.case_class,
                reason=record.class_reason or f"按{record.get_channel_display()}结果分类",
            )
        )
        case.case_class = record.case_class
        case.class_set_by = user
        case.class_reason = record.class_reason
    if record.promise_date is not None:
        events.append(
            _event(
                case,
                EventKind.PROMISE,
                on=day,
                by=user,
                old=case.promise_date or "",
                new=record.promise_date,
                reason=f"承诺 {record.promise_date:%Y-%m-%d} 缴纳"
                + (f" {record.promise_amount} 元" if record.promise_amount else ""),
            )
        )
        case.promise_date, case.promise_amount = record.promise_date, record.promise_amount
    elif record.case_class != CaseClass.A and record.reached:
        # A new conversation without a date ends the promise; an unanswered call or a notice says
        # nothing new, so a broken promise stays flagged (and counts for its escalation).
        case.promise_date, case.promise_amount = None, None
    if case.last_contact_at is None or record.at >= case.last_contact_at:
        case.last_contact_at = record.at
    if record.channel in rules.stage_channels(case.stage, _written_only(case)):
        case.stage_action_done_on = day
    _apply_task(case, settings, rules.follow_up_rules(case.project_id))
    case.save(
        update_fields=[
            "case_class",
            "class_set_by",
            "class_reason",
            "promise_date",
            "promise_amount",
            "last_contact_at",
            "stage_action_done_on",
            "next_action",
            "next_action_on",
            "next_action_due",
        ]
    )
    for event in events:
        event.save()
