"""Pre-due reminders (到期前提醒) and thank-you messages (缴费感谢), by each household's segment
strategy (``credit.Segment``: days before the due date, channel, template, thank or not).

**Reminders** (``reminders_run``, daily): a charge bill due in the next N days (N from the strategy;
3 days by SMS for a household without a segment) gets one message — one per household, naming the
total of its bills falling due — unless

* the bill is already paid, or the household's prepaid balance covers what falls due;
* the household has an open arrears case (the steward speaks to it about everything owed; two voices
  would also break the message caps);
* the bill was already reminded by that channel (``ReminderSent`` is unique per bill and channel, so a
  rerun or a retry sends nothing twice);
* it is outside the project's message window (LAW.md §8, SMS 08:00–21:00 by default): the run then
  sends nothing and the reminders wait for the next run inside the window (a bill stays eligible until
  its due date);
* the household already had as many messages today or this week as ``messaging.services.sms_caps``
  allows (dunning SMS and these messages count together);
* the payer has no usable mobile number, or the strategy's channel has no sender yet (WeChat).

**Thanks** (after each payment through ``WUYE_AFTER_PAYMENT``, and swept by the daily run): the
latest payment of a household in the last ``THANKS_WITHIN_DAYS`` days, not reversed, is thanked once
(a database constraint) where the strategy says so, with the same window, caps and case rules.

Both go through the messaging app's SMS backend and placeholders (``messaging.backends``,
``messaging.rendering``) and are logged as ``CourtesyMessage`` rows with the text, number and the
provider's answer — these households have nothing overdue, so there is no arrears case to hold a
contact record; the household page lists them.
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q, Sum
from django.utils import timezone

from wuye.alerts import CourtesyKind, CourtesyStatus, defaults
from wuye.alerts.models import CourtesyMessage, ReminderSent
from wuye.billing.enums import BillKind
from wuye.billing.models import Account, Bill
from wuye.core.audit import audit_record
from wuye.core.errors import ValidationFailed
from wuye.core.models import Project
from wuye.core.money import ZERO, money
from wuye.credit.models import CreditFile
from wuye.dunning import rules
from wuye.dunning.enums import CaseState, Channel
from wuye.dunning.models import ArrearsCase
from wuye.ledger.enums import PaymentMethod
from wuye.ledger.models import Payment, PaymentLine, PrepaidMovement
from wuye.ledger.selectors.outstanding import bill_outstanding
from wuye.messaging import backends, rendering
from wuye.messaging.models import OutboxMessage, OutboxPurpose, OutboxStatus
from wuye.messaging.services import sms_caps
from wuye.registry.enums import DEAD_PHONE_MARKS
from wuye.registry.models import Phone

log = logging.getLogger(__name__)
DAY = datetime.timedelta(days=1)
DEFAULT_REMIND_DAYS = 3
THANKS_WITHIN_DAYS = 3
# Channels a message can leave by today; a strategy naming another one is reported, not sent.
SENDABLE = frozenset({Channel.SMS})


@dataclass(frozen=True)
class Strategy:
    remind_days: int = DEFAULT_REMIND_DAYS
    channel: str = Channel.SMS  # "sms", "wechat" or "none"
    reminder_template: str = ""  # body; "" = the default
    thanks: bool = False
    thank_template: str = ""
    segment: str = ""


# A household without a segment (no credit file yet): remind 3 days ahead by SMS, no thanks — the
# thank-you is a strategy choice (credit's default segments thank on-time and occasional payers).
DEFAULT_STRATEGY = Strategy()


def strategies(project_id: int) -> dict[int, Strategy]:
    """Per account of the project with an active segment: its strategy. One query."""
    rows = (
        CreditFile.objects.filter(
            project_id=project_id, segment__isnull=False, segment__is_active=True
        )
        .select_related("segment__reminder_template", "segment__thank_template")
        .only(
            "account_id",
            "segment__name",
            "segment__remind_days_before_due",
            "segment__reminder_channel",
            "segment__thank_after_payment",
            "segment__reminder_template__body",
            "segment__thank_template__body",
        )
    )
    found = {}
    for f in rows:
        s = f.segment
        found[f.account_id] = Strategy(
            remind_days=s.remind_days_before_due,
            channel=s.reminder_channel,
            reminder_template=s.reminder_template.body if s.reminder_template else "",
            thanks=s.thank_after_payment,
            thank_template=s.thank_template.body if s.thank_template else "",
            segment=s.name,
        )
    return found


@dataclass
class CourtesyResult:
    project_id: int
    on: datetime.date
    reminders: int = 0  # messages sent (or queued) now
    bills: int = 0  # bills they remind
    thanks: int = 0
    waiting: int = 0  # outside the message window: left for the next run
    skipped: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    failed: int = 0
    next_window: datetime.datetime | None = None

    def skip(self, why: str, n: int = 1) -> None:
        self.skipped[why] += n

    def as_dict(self) -> dict[str, object]:
        return {
            "on": self.on.isoformat(),
            "reminders": self.reminders,
            "bills": self.bills,
            "thanks": self.thanks,
            "waiting": self.waiting,
            "skipped": dict(self.skipped),
            "failed": self.failed,
        }


@dataclass
class _Draft:
    account: Account
    kind: str
    channel: str
    body_template: str
    amount: Decimal
    deadline: datetime.date
    bill_ids: list[int] = field(default_factory=list)
    payment_id: int | None = None


# --- shared checks --------------------------------------------------------------------------------


def _window_refusal(
    project_id: int, now: datetime.datetime
) -> tuple[str | None, datetime.datetime]:
    dunning = rules.dunning_settings(project_id)
    refusal = rules.contact_time_refusal(channel=Channel.SMS, at=now, settings=dunning)
    later = rules.next_allowed_time(channel=Channel.SMS, at=now, settings=dunning)
    return refusal, later


def _open_case_accounts(project_id: int) -> set[int]:
    return set(
        ArrearsCase.objects.filter(project_id=project_id, state=CaseState.OPEN).values_list(
            "account_id", flat=True
        )
    )


def _sent_counts(project_id: int, now: datetime.datetime) -> tuple[dict[int, int], dict[int, int]]:
    """Messages per account today and this week: dunning SMS and courtesy messages together
    (LAW.md §8: no harassing messages, whoever sends them). Two grouped queries."""
    local = timezone.localtime(now)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    week_start = day_start - local.weekday() * DAY
    today: dict[int, int] = defaultdict(int)
    week: dict[int, int] = defaultdict(int)
    sources = (
        OutboxMessage.objects.filter(project_id=project_id, created_at__gte=week_start)
        .exclude(status=OutboxStatus.FAILED)
        .exclude(purpose=OutboxPurpose.CODE)
        .values("account_id_snapshot")
        .annotate(n=Count("id"), d=Count("id", filter=Q(created_at__gte=day_start)))
        .values_list("account_id_snapshot", "n", "d"),
        CourtesyMessage.objects.filter(project_id=project_id, created_at__gte=week_start)
        .exclude(status=CourtesyStatus.FAILED)
        .values("account_id")
        .annotate(n=Count("id"), d=Count("id", filter=Q(created_at__gte=day_start)))
        .values_list("account_id", "n", "d"),
    )
    for rows in sources:
        for account_id, n, d in rows:
            week[account_id] += n
            today[account_id] += d
    return today, week


def sent_counts_for_account(
    *, account_id: int, day_start: datetime.datetime, week_start: datetime.datetime
) -> tuple[int, int]:
    """``WUYE_SMS_COUNTERS`` entry: the courtesy messages a household got today and this week, so
    a dunning SMS counts them against the caps as these runs count dunning SMS (LAW.md §8)."""
    row = (
        CourtesyMessage.objects.filter(account_id=account_id, created_at__gte=week_start)
        .exclude(status=CourtesyStatus.FAILED)
        .aggregate(n=Count("id"), d=Count("id", filter=Q(created_at__gte=day_start)))
    )
    return row["d"], row["n"]


def _phones(project_id: int) -> dict[int, str]:
    """The number to write to, per payer: the primary one first, numbers known dead left out."""
    found: dict[int, str] = {}
    rows = (
        Phone.objects.filter(person__accounts__project_id=project_id)
        .exclude(validity__in=list(DEAD_PHONE_MARKS))
        .order_by("person_id", "-is_primary", "id")
        .values_list("person_id", "number")
        .distinct()
    )
    for person_id, number in rows:
        found.setdefault(person_id, number)
    return found


def _render(draft: _Draft, kind_default: str) -> str:
    """The text of ``draft`` through messaging's placeholders and checks, with the household's own
    figures only: an unsaved case-shaped object carries them (the amount due and the due date)."""
    stand_in = ArrearsCase(
        project=draft.account.project,
        account=draft.account,
        room=draft.account.room,
        overdue_amount=draft.amount,
        oldest_due_date=draft.deadline,
    )
    body = draft.body_template or defaults.TEMPLATES[kind_default][1]
    return rendering.render(body, stand_in, draft.deadline)


def _send(project: Project, drafts: list[_Draft], result: CourtesyResult, now) -> None:
    """Writes the drafts (messages and the bills they remind) in one transaction under the project's
    lock, then hands each message to the SMS backend."""
    if not drafts:
        return
    phones = _phones(project.pk)
    path = backends.backend_path()
    ready: list[tuple[_Draft, CourtesyMessage]] = []
    for draft in drafts:
        number = phones.get(draft.account.payer_id)
        if number is None:
            result.skip("缴费人没有可用手机号")
            continue
        try:
            body = _render(draft, draft.kind)
        except ValidationFailed as exc:
            result.skip(f"分群模板有误：{exc.message}")
            continue
        ready.append(
            (
                draft,
                CourtesyMessage(
                    project_id=project.pk,
                    account_id=draft.account.pk,
                    room_id=draft.account.room_id,
                    kind=draft.kind,
                    channel=draft.channel,
                    payment_id=draft.payment_id,
                    to=number,
                    body=body,
                    backend=path,
                ),
            )
        )
    try:
        messages = _write(project, ready, result)
    except IntegrityError:
        # SQLite has no row lock: a concurrent run inserted the same reminder or thanks first. The
        # transaction left nothing behind; that run sends them.
        log.warning("courtesy: a concurrent run wrote the same messages for project %s", project.pk)
        return
    # As messaging.send_sms does: the rows are durable before anything leaves the machine.
    _deliver([m.pk for m in messages], result)


def _write(
    project: Project, ready: list[tuple[_Draft, CourtesyMessage]], result: CourtesyResult
) -> list[CourtesyMessage]:
    with transaction.atomic():
        # One writer per project at a time (a second run waits, then finds everything reminded).
        list(Project.objects.select_for_update(no_key=True).filter(pk=project.pk).values_list("pk"))
        taken_bills = set(
            ReminderSent.objects.filter(
                bill_id__in=[b for d, _ in ready for b in d.bill_ids]
            ).values_list("bill_id", "channel")
        )
        thanked = set(
            CourtesyMessage.objects.filter(
                kind=CourtesyKind.THANKS, payment_id__in=[d.payment_id for d, _ in ready]
            ).values_list("payment_id", flat=True)
        )
        keep = [
            (d, m)
            for d, m in ready
            if not any((b, d.channel) in taken_bills for b in d.bill_ids)
            and (d.payment_id is None or d.payment_id not in thanked)
        ]
        messages = CourtesyMessage.objects.bulk_create([m for _, m in keep], batch_size=500)
        ReminderSent.objects.bulk_create(
            [
                ReminderSent(message=m, bill_id=b, channel=d.channel)
                for (d, _), m in zip(keep, messages, strict=True)
                for b in d.bill_ids
            ],
            batch_size=1000,
        )
        result.reminders += sum(1 for d, _ in keep if d.kind == CourtesyKind.PRE_DUE)
        result.bills += sum(len(d.bill_ids) for d, _ in keep)
        result.thanks += sum(1 for d, _ in keep if d.kind == CourtesyKind.THANKS)
    return messages


def _deliver(message_ids: list[int], result: CourtesyResult | None = None) -> None:
    """Each queued message to the provider; its answer sets the status (a failure is kept)."""
    sender = backends.backend()
    done = []
    for message in CourtesyMessage.objects.filter(pk__in=message_ids, status=CourtesyStatus.QUEUED):
        try:
            sent = sender.send(message.to, message.body)
        except backends.SmsError as exc:
            message.status, message.error = CourtesyStatus.FAILED, str(exc)[:300]
            log.warning("courtesy SMS %s failed: %s", message.pk, exc)
            if result is not None:
                result.failed += 1
        else:
            message.status, message.provider_id = CourtesyStatus.SENT, sent.provider_id
            message.sent_at = timezone.now()
        done.append(message)
    CourtesyMessage.objects.bulk_update(
        done, ["status", "error", "provider_id", "sent_at"], batch_size=500
    )


def _retry_queued(project_id: int, result: CourtesyResult) -> None:
    """Messages written but never handed over (a crash between commit and send) go now."""
    ids = list(
        CourtesyMessage.objects.filter(
            project_id=project_id, status=CourtesyStatus.QUEUED
        ).values_list("id", flat=True)
    )
    if ids:
        _deliver(ids, result)


def _within_caps(
    drafts: list[_Draft], counts: tuple[dict, dict], result: CourtesyResult
) -> list[_Draft]:
    """Drafts of one run count against the caps too: a thank-you and a reminder to the same
    household on one day would be two messages (the thanks goes first, the reminder tomorrow)."""
    per_day, per_week = sms_caps()
    today, week = counts
    extra: dict[int, int] = defaultdict(int)
    kept = []
    for draft in drafts:
        a = draft.account.pk
        if today.get(a, 0) + extra[a] >= per_day or week.get(a, 0) + extra[a] >= per_week:
            result.skip("已达短信次数上限，明天再提醒")
            continue
        extra[a] += 1
        kept.append(draft)
    return kept


def _capped(account_id: int, today: dict, week: dict) -> bool:
    per_day, per_week = sms_caps()
    return today.get(account_id, 0) >= per_day or week.get(account_id, 0) >= per_week


# --- reminders ------------------------------------------------------------------------------------


def _reminder_drafts(
    project: Project, on: datetime.date, counts: tuple[dict, dict], result: CourtesyResult
) -> list[_Draft]:
    plans = strategies(project.pk)
    horizon = max([DEFAULT_REMIND_DAYS, *(s.remind_days for s in plans.values())])
    bills = Bill.objects.filter(
        project_id=project.pk,
        kind=BillKind.CHARGE,
        due_date__gt=on,
        due_date__lte=on + horizon * DAY,
    )
    rows = list(
        bill_outstanding(bills, on)
        .filter(outstanding__gt=0)
        .order_by("account_id", "due_date", "id")
        .values_list("id", "account_id", "due_date", "outstanding")
    )
    if not rows:
        return []
    reminded = set(ReminderSent.objects.filter(bill__in=bills).values_list("bill_id", "channel"))
    in_case = _open_case_accounts(project.pk)
    per_account: dict[int, list[tuple[int, datetime.date, Decimal]]] = defaultdict(list)
    for bill_id, account_id, due, outstanding in rows:
        plan = plans.get(account_id, DEFAULT_STRATEGY)
        if plan.remind_days <= 0 or plan.channel == "none":
            continue
        if (due - on).days > plan.remind_days:
            continue  # not yet: this household is reminded closer to the date
        if (bill_id, plan.channel) in reminded:
            continue
        per_account[account_id].append((bill_id, due, money(outstanding)))
    prepaid = dict(
        PrepaidMovement.objects.filter(account__project_id=project.pk, effective_date__lte=on)
        .order_by()
        .values("account_id")
        .annotate(total=Sum("amount"))
        .values_list("account_id", "total")
    )
    today, week = counts
    wanted = []
    for account_id, due_bills in per_account.items():
        plan = plans.get(account_id, DEFAULT_STRATEGY)
        amount = money(sum((b[2] for b in due_bills), ZERO))
        if account_id in in_case:
            result.skip("在催缴案件中（由管家联系）")
        elif money(prepaid.get(account_id) or ZERO) >= amount:
            result.skip("预存款足以抵扣")
        elif plan.channel not in SENDABLE:
            result.skip(f"{Channel(plan.channel).label}提醒尚无发送通道")
        elif _capped(account_id, today, week):
            result.skip("已达短信次数上限，明天再提醒")
        else:
            wanted.append((account_id, plan, due_bills, amount))
    accounts = Account.objects.select_related("payer", "room", "project__company").in_bulk(
        [w[0] for w in wanted]
    )
    return [
        _Draft(
            account=accounts[account_id],
            kind=CourtesyKind.PRE_DUE,
            channel=plan.channel,
            body_template=plan.reminder_template,
            amount=amount,
            deadline=min(b[1] for b in due_bills),
            bill_ids=[b[0] for b in due_bills],
        )
        for account_id, plan, due_bills, amount in wanted
    ]


# --- thanks ---------------------------------------------------------------------------------------


def _thanks_drafts(
    project: Project,
    on: datetime.date,
    counts: tuple[dict, dict],
    result: CourtesyResult,
    account_ids: Iterable[int] | None = None,
) -> list[_Draft]:
    payments = Payment.objects.filter(
        project_id=project.pk,
        business_date__gte=on - THANKS_WITHIN_DAYS * DAY,
        business_date__lte=on,
        reversal__isnull=True,
    )
    if account_ids is not None:
        payments = payments.filter(account_id__in=list(account_ids))
    # A payment drawn wholly from the prepaid balance is not new money from the household.
    payments = payments.filter(
        pk__in=PaymentLine.objects.exclude(method=PaymentMethod.PREPAID).values("payment_id")
    )
    latest = dict(
        payments.order_by()
        .values("account_id")
        .annotate(last=Max("id"))
        .values_list("account_id", "last")
    )
    if not latest:
        return []
    thanked = set(
        CourtesyMessage.objects.filter(
            kind=CourtesyKind.THANKS, payment_id__in=list(latest.values())
        ).values_list("payment_id", flat=True)
    )
    plans = strategies(project.pk)
    in_case = _open_case_accounts(project.pk)
    today, week = counts
    wanted = []
    for account_id, payment_id in latest.items():
        plan = plans.get(account_id, DEFAULT_STRATEGY)
        if payment_id in thanked or not plan.thanks:
            continue
        if account_id in in_case:
            result.skip("缴费后仍在催缴案件中，不发致谢")
        elif _capped(account_id, today, week):
            result.skip("已达短信次数上限，不发致谢")
        else:
            wanted.append((account_id, payment_id, plan))
    accounts = Account.objects.select_related("payer", "room", "project__company").in_bulk(
        [w[0] for w in wanted]
    )
    paid = Payment.objects.in_bulk([w[1] for w in wanted])
    return [
        _Draft(
            account=accounts[account_id],
            kind=CourtesyKind.THANKS,
            channel=Channel.SMS,
            body_template=plan.thank_template,
            amount=money(paid[payment_id].amount),
            deadline=paid[payment_id].business_date,
            payment_id=payment_id,
        )
        for account_id, payment_id, plan in wanted
    ]


# --- entry points ---------------------------------------------------------------------------------


def courtesy_run(
    *,
    project: Project,
    on: datetime.date | None = None,
    now: datetime.datetime | None = None,
    account_ids: Iterable[int] | None = None,
    reminders: bool = True,
) -> CourtesyResult:
    """The reminders due today and the thanks not yet sent, for one project (``account_ids``: only
    those households, as after a payment). Outside the message window nothing is sent and the
    count of what waits is returned with the next window's start."""
    now = now or timezone.now()
    on = on or timezone.localdate(now)
    result = CourtesyResult(project_id=project.pk, on=on)
    counts = _sent_counts(project.pk, now)
    drafts = _thanks_drafts(project, on, counts, result, account_ids)
    if reminders:
        drafts += _reminder_drafts(project, on, counts, result)
    drafts = _within_caps(drafts, counts, result)
    refusal, later = _window_refusal(project.pk, now)
    if refusal:
        result.waiting = len(drafts)
        result.next_window = later
        return result
    _retry_queued(project.pk, result)
    _send(project, drafts, result, now)
    if result.reminders or result.thanks:
        audit_record(
            user=None,
            action="到期前提醒与缴费感谢",
            obj=project,
            project=project,
            changes=result.as_dict(),
        )
    return result


def reminders_run(
    *, projects: Iterable[Project], on: datetime.date | None = None, now=None
) -> list[CourtesyResult]:
    return [courtesy_run(project=p, on=on, now=now) for p in projects]


def thanks_for_account(
    account_id: int, now: datetime.datetime | None = None
) -> CourtesyResult | None:
    """The thank-you for the household's latest payment, if its strategy says so."""
    project_id = Account.objects.filter(pk=account_id).values_list("project_id", flat=True).first()
    if project_id is None:
        return None
    project = Project.objects.get(pk=project_id)
    return courtesy_run(project=project, now=now, account_ids=[account_id], reminders=False)
