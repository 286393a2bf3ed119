"""Limitation tracking (诉讼时效, LAW.md §7) and the payment-order guard (LAW.md §9).

Each overdue bill has its own three-year clock from its due date (property fees are separate periodic
debts). The clock restarts on an interruption, and only on the ones LAW.md lists, each with its
evidence:

* a written demand proven delivered — a door notice, letter/EMS or lawyer letter marked delivered
  with a *proof of receipt* attached (the owner's signed slip, the owner's reply, the courier's signed
  receipt); a photo of a notice taped to a door does not count, and the case says why;
* an SMS/WeChat message that reached the owner: the provider's delivery receipt (``DeliveryReceipt``,
  stored when the provider reports it) or a delivery reference / screenshot entered by hand;
* the owner's promise recorded in a contact (a reached contact with a promised date) — in writing
  (an SMS/WeChat reply), or by voice with its evidence attached (a recording, the owner's signature,
  a screenshot of the owner's written confirmation); a verbal promise on an unrecorded call does not;
* a part payment of the bill (an allocation from a payment, not reversed);
* an acknowledgement, payment plan, lawsuit, arbitration, payment-order application or mediation,
  recorded as a ``LimitationInterruption`` with its evidence file.

A demand or promise about the debt covers every bill already due on that day (a demand for part of
the debt covers the rest); a part payment restarts only the bill it paid. A corrected contact record
counts through its correction only. When in doubt the clock is *not* restarted: an alert too early is
harmless, a missed deadline is not.
"""

from __future__ import annotations

import datetime
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from wuye.billing.models import Bill
from wuye.core import uploads
from wuye.core.audit import audit_record
from wuye.core.errors import ValidationFailed
from wuye.core.guardrails import guard_text
from wuye.core.models import User
from wuye.core.money import money
from wuye.dunning.casework import _worker
from wuye.dunning.enums import (
    MESSAGE_CHANNELS,
    PROOF_OF_RECEIPT,
    WRITTEN_CHANNELS,
    AttachmentKind,
    CaseClass,
    CaseState,
    Channel,
    DeliveryStatus,
    ReceiptStatus,
)
from wuye.dunning.models import (
    ArrearsCase,
    ContactRecord,
    InterruptionKind,
    LimitationInterruption,
)
from wuye.ledger.models import Allocation
from wuye.ledger.selectors.outstanding import bill_outstanding
from wuye.registry.enums import OPEN_ISSUE_STATES
from wuye.registry.models import LegacyIssue

LIMITATION_YEARS = 3
# Warn this many days before a bill's deadline (LAW.md §7).
ALERT_DAYS = (90, 30)
LAW_7 = "《民法典》第一百八十八条、第一百九十五条：三年时效，有证据的催告、承诺等可中断"


def add_years(day: datetime.date, years: int) -> datetime.date:
    """Same day ``years`` later; 29 February falls back to 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def deadline_of(due_date: datetime.date, interruptions: list[datetime.date]) -> datetime.date:
    """Three years after the later of the due date and the last interruption (Civil Code 188, 195)."""
    start = max([due_date, *interruptions])
    return add_years(start, LIMITATION_YEARS)


@dataclass(frozen=True)
class Interruption:
    on: datetime.date
    label: str  # what happened, in Chinese, for the page and the evidence index
    bill_id: int | None = None  # None: covers every bill due by ``on``
    contact_id: int | None = None  # the contact record it comes from, if any
    recorded_id: int | None = None  # the LimitationInterruption it comes from, if any


@dataclass
class BillClock:
    bill_id: int
    label: str
    due_date: datetime.date
    outstanding: Decimal
    last_interruption: Interruption | None
    deadline: datetime.date
    days_left: int

    @property
    def level(self) -> str:
        return alert_level(self.days_left)


@dataclass
class CaseClock:
    bills: list[BillClock] = field(default_factory=list)
    interruptions: list[Interruption] = field(default_factory=list)
    not_counted: list[NotCounted] = field(default_factory=list)

    @property
    def earliest(self) -> BillClock | None:
        return min(self.bills, key=lambda b: (b.deadline, b.bill_id), default=None)

    @property
    def level(self) -> str:
        return self.earliest.level if self.earliest else ""


def alert_level(days_left: int) -> str:
    """ "expired", "30", "90" or "" — the alert a deadline this far away deserves."""
    if days_left < 0:
        return "expired"
    for limit in sorted(ALERT_DAYS):
        if days_left <= limit:
            return str(limit)
    return ""


@dataclass(frozen=True)
class NotCounted:
    """A contact recorded as a demand or a delivery that does not interrupt, and why (shown on the
    case page and in the evidence pack, so nobody relies on it by mistake)."""

    on: datetime.date
    label: str
    why: str
    contact_id: int


_DOOR_WHY = (
    "张贴/投递的通知只有现场照片，不能证明业主收到：需业主签收单、业主回复或快递签收凭证，"
    "才计入时效中断（《民法典》第一百九十五条）"
)
_MAIL_WHY = (
    "标为已送达，但未附快递签收凭证、业主签收单或业主回复，不能证明业主收到，"
    "不计入时效中断（《民法典》第一百九十五条）"
)
_MESSAGE_WHY = (
    "没有服务商的送达回执（或业主回复截图），不能证明业主收到，不计入时效中断"
    "（《民法典》第一百九十五条）"
)


_PROMISE_WHY = (
    "口头承诺没有通话录音，也没有业主的书面或短信/微信确认，不能证明业主同意履行，"
    "不计入时效中断（《民法典》第一百九十五条）"
)
# What proves a promise made by voice (a call, a visit, a talk at the window): a recording, the
# owner's signature or the owner's written or messaged confirmation.
PROMISE_PROOFS = frozenset(
    {
        AttachmentKind.RECORDING,
        AttachmentKind.SIGNED,
        AttachmentKind.OWNER_REPLY,
        AttachmentKind.SCREENSHOT,
    }
)


def contact_verdict(
    c: ContactRecord, kinds: set[str], receipt_delivered: bool
) -> tuple[str | None, str]:
    """Whether one contact record interrupts the limitation period (LAW.md §7): ``(label, "")``
    when it does, ``(None, why)`` when it is a demand that does not, ``(None, "")`` when it is no
    demand at all. ``kinds``: the kinds of its attachments; ``receipt_delivered``: the SMS
    provider's receipt says delivered. The one rule used by the clock, the case page and the
    evidence pack."""
    channel = c.get_channel_display()
    if c.channel in WRITTEN_CHANNELS:
        if c.delivery_status not in (DeliveryStatus.DELIVERED, DeliveryStatus.SENT):
            return None, ""
        proof = sorted(str(AttachmentKind(k).label) for k in kinds & PROOF_OF_RECEIPT)
        if c.delivery_status == DeliveryStatus.DELIVERED and proof:
            return f"{channel}已送达（{'、'.join(proof)}）", ""
        return None, _DOOR_WHY if c.channel == Channel.DOOR_NOTICE else _MAIL_WHY
    if c.channel in MESSAGE_CHANNELS:
        if receipt_delivered:
            return f"{channel}已送达（服务商回执）", ""
        if c.delivery_status == DeliveryStatus.DELIVERED and (
            c.delivery_ref.strip()
            or kinds & {AttachmentKind.SCREENSHOT, AttachmentKind.OWNER_REPLY}
        ):
            return f"{channel}已送达（{c.delivery_ref.strip() or '截图'}）", ""
        if c.reached and c.promise_date:  # the owner's written reply promising a date
            return f"业主承诺缴费（{channel}）", ""
        return None, _MESSAGE_WHY if c.delivery_status == DeliveryStatus.DELIVERED else ""
    if c.reached and c.promise_date:
        proof = sorted(str(AttachmentKind(k).label) for k in kinds & PROMISE_PROOFS)
        if proof:
            return f"业主承诺缴费（{channel}，{'、'.join(proof)}）", ""
        return None, _PROMISE_WHY
    return None, ""


def _contact_interruptions(
    account_ids: list[int], on: datetime.date
) -> tuple[dict[int, list], dict[int, list]]:
    rows = (
        ContactRecord.objects.filter(case__account_id__in=account_ids, at__date__lte=on)
        .filter(corrections__isnull=True)
        .filter(
            Q(channel__in=list(WRITTEN_CHANNELS) + list(MESSAGE_CHANNELS))
            | Q(reached=True, promise_date__isnull=False)
        )
        .select_related("case")
        .prefetch_related("attachments", "receipts")
    )
    found: dict[int, list] = defaultdict(list)
    refused: dict[int, list] = defaultdict(list)
    for c in rows:
        day = timezone.localtime(c.at).date()
        kinds = {a.kind for a in c.attachments.all()}
        delivered = any(r.status == ReceiptStatus.DELIVERED for r in c.receipts.all())
        label, why = contact_verdict(c, kinds, delivered)
        if label:
            found[c.case.account_id].append(Interruption(day, label, contact_id=c.pk))
        elif why:
            refused[c.case.account_id].append(
                NotCounted(day, f"{c.get_channel_display()}", why, c.pk)
            )
    return found, refused


def _recorded_interruptions(account_ids: list[int], on: datetime.date) -> dict[int, list]:
    found: dict[int, list] = defaultdict(list)
    for row in LimitationInterruption.objects.filter(
        case__account_id__in=account_ids, on_date__lte=on
    ).select_related("case"):
        found[row.case.account_id].append(
            Interruption(row.on_date, row.get_kind_display(), recorded_id=row.pk)
        )
    return found


def _payment_interruptions(bill_ids: list[int], on: datetime.date) -> dict[int, datetime.date]:
    """Last part payment per bill: a payment's allocation that was not reversed."""
    last: dict[int, datetime.date] = {}
    rows = Allocation.objects.filter(
        bill_id__in=bill_ids,
        payment__isnull=False,
        amount__gt=0,
        effective_date__lte=on,
        reversed_by__isnull=True,
    ).values_list("bill_id", "effective_date")
    for bill_id, day in rows:
        if bill_id not in last or day > last[bill_id]:
            last[bill_id] = day
    return last


def clocks_for(account_ids: list[int], on: datetime.date) -> dict[int, CaseClock]:
    """Per account: the limitation clock of every bill overdue on ``on``. A fixed number of queries
    whatever the number of accounts."""
    bills = list(
        bill_outstanding(Bill.objects.filter(account_id__in=account_ids, due_date__lt=on), on)
        .filter(outstanding__gt=0)
        .select_related("fee_item")
        .order_by("due_date", "id")
    )
    general, refused = _contact_interruptions(account_ids, on)
    for account_id, rows in _recorded_interruptions(account_ids, on).items():
        general[account_id].extend(rows)
    payments = _payment_interruptions([b.pk for b in bills], on)
    clocks: dict[int, CaseClock] = {a: CaseClock() for a in account_ids}
    for account_id, rows in refused.items():
        clocks[account_id].not_counted = sorted(rows, key=lambda r: (r.on, r.contact_id))
    for account_id, rows in general.items():
        clocks[account_id].interruptions = sorted(rows, key=lambda i: i.on)
    for bill in bills:
        clock = clocks[bill.account_id]
        # An interruption only restarts a clock that is running: the bill was due by then.
        candidates = [i for i in clock.interruptions if i.on >= bill.due_date]
        if bill.pk in payments:
            candidates.append(Interruption(payments[bill.pk], "部分缴费", bill.pk))
        last = max(candidates, key=lambda i: i.on, default=None)
        deadline = deadline_of(bill.due_date, [last.on] if last else [])
        clock.bills.append(
            BillClock(
                bill_id=bill.pk,
                label=f"{bill.fee_item.name} {bill.period_start:%Y-%m}",
                due_date=bill.due_date,
                outstanding=money(bill.outstanding),
                last_interruption=last,
                deadline=deadline,
                days_left=(deadline - on).days,
            )
        )
    return clocks


def case_clock(case: ArrearsCase, on: datetime.date) -> CaseClock:
    return clocks_for([case.account_id], on)[case.account_id]


@dataclass
class NearDeadline:
    case: ArrearsCase
    clock: CaseClock


def cases_near_deadline(
    project_ids: list[int], on: datetime.date, within_days: int = max(ALERT_DAYS)
) -> list[NearDeadline]:
    """Open cases with a bill whose deadline is within ``within_days`` (or already past), the most
    urgent first — the page behind the 90- and 30-day alerts."""
    cases = list(
        ArrearsCase.objects.filter(project_id__in=project_ids, state=CaseState.OPEN)
        # No bill can be near its deadline while the oldest is younger than 3 years − the window.
        .filter(oldest_due_date__lte=add_years(on + datetime.timedelta(days=within_days + 1), -3))
        .select_related("room", "account__payer", "assignee")
    )
    clocks = clocks_for([c.account_id for c in cases], on)
    near = [
        NearDeadline(c, clocks[c.account_id])
        for c in cases
        if clocks[c.account_id].earliest and clocks[c.account_id].earliest.days_left <= within_days
    ]
    return sorted(near, key=lambda n: (n.clock.earliest.deadline, n.case.pk))


# --- recording an interruption ---------------------------------------------------------------------


def interruption_record(
    *,
    user: User,
    case: ArrearsCase,
    kind: str,
    on_date: datetime.date,
    evidence: UploadedFile | None,
    note: str = "",
) -> LimitationInterruption:
    """Records an acknowledgement, payment plan, lawsuit, arbitration, payment-order application or
    mediation that interrupts the limitation period; the evidence file is required (LAW.md §7)."""
    _worker(user, case, "登记诉讼时效中断")
    if kind not in InterruptionKind.values:
        raise ValidationFailed("请选择中断事由", field="kind")
    if on_date is None:
        raise ValidationFailed("请填写发生日期", field="on_date")
    if on_date > timezone.localdate():
        raise ValidationFailed("发生日期不能晚于今天", field="on_date")
    guard_text(note, field="note")
    if evidence is None:
        raise ValidationFailed(
            f"时效中断须有证据（书面确认、立案回执等），请上传文件（{LAW_7}）", field="evidence"
        )
    checked = uploads.check_upload(evidence, field="evidence")
    digest = hashlib.sha256()
    for chunk in evidence.chunks():
        digest.update(chunk)
    evidence.seek(0)
    with transaction.atomic():
        row = LimitationInterruption(
            case=case,
            kind=kind,
            on_date=on_date,
            note=(note or "").strip()[:300],
            original_name=uploads.display_name(evidence.name)[:200],
            sha256=digest.hexdigest(),
            by=user,
        )
        row.file.save(uploads.stored_name(evidence.name, checked), evidence, save=False)
        row.save()
        audit_record(
            user=user,
            action="登记诉讼时效中断",
            obj=row,
            project=case.project_id,
            changes={"case": case.pk, "kind": kind, "on_date": on_date.isoformat()},
        )
    return row


# --- payment order guard -------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str = ""


LAW_9 = "《民事诉讼法》第二百二十五条至第二百二十八条：支付令只适用于无争议的金钱债权"


def payment_order_allowed(case: ArrearsCase) -> Verdict:
    """A payment order (支付令) only for an undisputed money claim: never for a class E case or a room
    with an open legacy issue (LAW.md §9) — the owner would object and it becomes a lawsuit anyway."""
    if case.case_class == CaseClass.E:
        return Verdict(
            False,
            f"本案为 E 类（特殊拒交，存在服务争议），不申请支付令，应走诉讼或调解（{LAW_9}）。",
        )
    issues = LegacyIssue.objects.filter(room_id=case.room_id, state__in=OPEN_ISSUE_STATES).count()
    if issues:
        return Verdict(
            False,
            f"本户有 {issues} 项未解决的历史遗留问题（存在争议），不申请支付令（{LAW_9}）。",
        )
    return Verdict(
        True,
        "可申请支付令：须为到期、金额确定、无争议的欠费，且业主在境内、可送达（《民事诉讼法》第二百二十五条）。",
    )
