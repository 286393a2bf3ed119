"""The platforms' callbacks: answered at once, posted by the quick queue (docs/decisions/0018).

**Accept** (``notification_accept``, the callback view): the signature is checked and the body
decrypted as before; a verified payment notice is stored (``Notification``, state pending, with
the order, the amount, the time paid and the key ``<channel>-<transaction id>``) and the platform
is answered success as soon as that row is committed. The key is unique: a repeated callback
finds its row and is answered success without a write. A refused callback is kept with why and
answered failure (the platform sends it again). Refund notices are applied at once, as before
(rare, and the refund's own row lock keeps them once).

**Post** (``notices_post``, the quick-queue task ``notices_post_task``): pending notices are taken
in sets with ``select_for_update(skip_locked)`` (two workers never take the same notice), their
orders locked (the same row lock ``services.order_settle`` takes), and the common case — an open
order, the amount it asked for, no months ahead, its bills still open — is posted for the whole set
through the bank import's batch service (``ledger.services.batch_payments.payments_record_many``,
with the order's bills and the platform's transaction id as reference and, as
``<channel>-<transaction id>``, idempotency key). Every other notice goes one by one through
``services.order_settle``, which keeps every rule: a wrong amount is not posted (finance told),
bills paid meanwhile send the money to prepaid balance, a closed or expired order is still posted
and flagged, months ahead are billed at the quoted figure, a closed day posts on today. A notice
that fails stays ``failed`` with why (and an issue for finance) and is retried later; never lost
(the row is written before the answer), never doubled (the order's lock and the ledger's key).

**Kick**: the first notice of each second (in each web process) queues one posting task to run a
second after that second ends (on a backend without deferred tasks, at once); the task posts until
nothing is pending. The
periodic order sweep (``scheduler``) runs ``notices_post`` too: it retries failed notices and
catches one whose task was lost.
"""

from __future__ import annotations

import datetime
import logging
import threading
from collections import defaultdict

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from wuye.core.audit import audit_entry
from wuye.core.errors import NotInScope, ValidationFailed
from wuye.core.models import AuditEntry
from wuye.core.money import ZERO, money
from wuye.core.sql import update_rows
from wuye.ledger.locking import lock_accounts
from wuye.ledger.models import Payment
from wuye.ledger.services.batch_payments import PaymentRequest, payments_record_many
from wuye.payments import refunds, services
from wuye.payments.channels.base import BadNotification, ChannelError, Notice, channel_for
from wuye.payments.enums import Channel, IssueKind, LineKind, NoticeState, OrderStatus
from wuye.payments.issues import issue_raise
from wuye.payments.models import Notification, PaymentOrder, PaymentOrderBill

log = logging.getLogger(__name__)

NOTE_FIELDS = ["order", "state", "outcome", "attempts", "retry_at", "done_at"]
SET_SIZE = 500  # notices posted in one transaction
KICK_SECONDS = 1  # one posting task per second of callbacks …
KICK_DELAY = datetime.timedelta(seconds=1)  # … run this long after that second ends
# Batch refusals that ``order_settle`` handles itself (prepaid balance, today's date).
SETTLE_ONE_BY_ONE = {"ledger.bill_already_paid", "ledger.day_closed"}


# --- accept ----------------------------------------------------------------------------------------


def notification_accept(channel: str, request_headers: dict, body: bytes) -> tuple[int, bytes]:
    """A platform's callback: checked (signature, decryption), stored, answered as the platform
    expects (WeChat: 204 / 4xx with a JSON code; Alipay: "success" / "failure"). A payment notice
    is posted afterwards by the quick queue; a refused callback stores nothing but why."""
    if channel not in Channel.values:
        return 404, b""
    try:
        handler = channel_for(channel)
    except ChannelError:
        return 503, b""
    try:
        notice = handler.parse_notification(request_headers, body)
    except BadNotification as exc:
        Notification.objects.create(
            channel=channel, verified=False, state=NoticeState.REFUSED, outcome=str(exc)[:200]
        )
        status, text, _ = handler.answer(False, "签名错误")
        return status, text
    if notice.kind == "refund":
        ok = _refund_apply(channel, notice)
    else:
        ok = notice_store(channel, notice)
    status, text, _ = handler.answer(ok, "" if ok else "处理失败，请稍后重试")
    return status, text


def _refund_apply(channel: str, notice: Notice) -> bool:
    row = {
        "channel": channel,
        "verified": True,
        "kind": notice.kind,
        "out_trade_no": notice.out_trade_no[:64],
        "transaction_id": notice.transaction_id[:64],
        "done_at": timezone.now(),
    }
    try:
        outcome = refunds.refund_notice_apply(channel, notice)
    except (ValidationFailed, NotInScope, ChannelError) as exc:
        Notification.objects.create(
            **row, state=NoticeState.FAILED, outcome=f"处理失败：{exc}"[:200]
        )
        return False
    Notification.objects.create(**row, state=NoticeState.DONE, outcome=outcome[:200])
    return True


def notice_store(channel: str, notice: Notice) -> bool:
    """Stores a verified payment notice (pending) once — one INSERT that does nothing for a key
    already stored — and queues its posting; True when the platform may be answered success.
    The order is looked up by the worker (an unknown one is ignored there)."""
    transaction_id = (notice.transaction_id or "").strip()[:64]
    row = {
        "channel": channel,
        "verified": True,
        "kind": LineKind.PAY,
        "out_trade_no": notice.out_trade_no[:64],
        "transaction_id": transaction_id,
        "amount": money(notice.amount) if notice.amount is not None else ZERO,
        "paid_at": notice.paid_at,
    }
    if not notice.success:
        Notification.objects.create(
            **row, state=NoticeState.IGNORED, outcome="非成功通知，已忽略", done_at=timezone.now()
        )
        return True
    if not transaction_id:
        Notification.objects.create(
            **row, state=NoticeState.REFUSED, outcome="处理失败：平台交易号为空"
        )
        return False
    # A repeat (the same key) inserts nothing, whether its first copy is pending or posted.
    Notification.objects.bulk_create(
        [Notification(**row, key=f"{channel}-{transaction_id}", state=NoticeState.PENDING)],
        ignore_conflicts=True,
    )
    _kick(timezone.now())
    return True


_kicked: dict[str, datetime.datetime] = {}
_kick_lock = threading.Lock()


def _kick(now: datetime.datetime) -> None:
    """Queues the posting: on a backend that runs tasks later, once per second of callbacks in this
    process, to run a second after that second ends (every notice of it committed by then); on one
    that runs them at once (tests), now."""
    try:
        if not notices_post_task.get_backend().supports_defer:
            notices_post_task.enqueue()
            return
        second = now.replace(microsecond=0)
        with _kick_lock:
            if _kicked.get("second") == second:
                return
            _kicked["second"] = second
        at = second + datetime.timedelta(seconds=KICK_SECONDS) + KICK_DELAY
        notices_post_task.using(run_after=at).enqueue()
    except Exception:  # the notice is stored: the sweep posts it if the queue is away
        log.exception("payments: queueing the posting of notices failed")


@task(queue_name="quick")
def notices_post_task() -> dict:
    """Posts the stored payment notices (queued by the callbacks; see ``notices_post``)."""
    return notices_post()


# --- post ------------------------------------------------------------------------------------------


def notices_post(*, limit: int = SET_SIZE) -> dict:
    """Posts every pending notice (and failed ones due for retry), ``limit`` per transaction, until
    none is left; returns counts (done, failed, sets)."""
    counts = {"done": 0, "failed": 0, "sets": 0}
    while True:
        got = _post_set(limit)
        if got is None:
            return counts
        counts["sets"] += 1
        counts["done"] += got["done"]
        counts["failed"] += got["failed"]


def _due(now: datetime.datetime):
    return Notification.objects.filter(
        Q(retry_at__isnull=True) | Q(retry_at__lte=now),
        state__in=[NoticeState.PENDING, NoticeState.FAILED],
        kind=LineKind.PAY,
    )


def _day(paid_at: datetime.datetime | None, today: datetime.date) -> datetime.date:
    return min(timezone.localdate(paid_at), today) if paid_at else today


class _Set:
    """One transaction's notices: what happened to each, written at the end in one update."""

    def __init__(self, now: datetime.datetime):
        self.now = now
        self.changed: list[Notification] = []
        self.failed = 0

    def done(self, note: Notification, outcome: str, state: str = NoticeState.DONE) -> None:
        note.state = state
        note.outcome = outcome[:200]
        note.done_at = self.now
        note.retry_at = None
        note.attempts += 1
        self.changed.append(note)

    def fail(self, note: Notification, order: PaymentOrder | None, why: str) -> None:
        note.attempts += 1
        note.state = NoticeState.FAILED
        note.outcome = f"入账失败：{why}"[:200]
        # 1, 2, 4 … minutes, at most an hour; the sweep and the next callbacks retry it.
        note.retry_at = self.now + datetime.timedelta(minutes=min(2 ** (note.attempts - 1), 60))
        self.changed.append(note)
        self.failed += 1
        if order is not None:
            PaymentOrder.objects.filter(pk=order.pk).update(last_error=note.outcome)
            issue_raise(
                order,
                IssueKind.POSTING_FAILED,
                f"订单 {order.out_trade_no} 的支付通知（交易号 {note.transaction_id}，{note.amount} 元）"
                f"入账失败：{why}；系统将自动重试，请核对",
            )


def _post_set(limit: int) -> dict | None:
    now = timezone.now()
    today = timezone.localdate(now)
    with transaction.atomic():
        notes = list(_due(now).select_for_update(skip_locked=True).order_by("id")[:limit])
        if not notes:
            return None
        done = _Set(now)
        # The same row lock as order_settle (the order's row only, in one order: no deadlock).
        by_no = {
            o.out_trade_no: o
            for o in PaymentOrder.objects.select_for_update(of=("self",))
            .select_related("account__room")
            .filter(out_trade_no__in=sorted({n.out_trade_no for n in notes}))
            .order_by("pk")
        }
        orders: dict[int, PaymentOrder] = {}
        for note in notes:
            order = by_no.get(note.out_trade_no)
            if order is not None and order.channel == note.channel:
                note.order_id = order.pk
                orders[order.pk] = order
        order_ids = sorted(orders)
        # Every household of the set locked now, before any receipt number is taken: a set posts
        # several payments, and a window payment locks its household before the receipt sequence.
        lock_accounts({o.account_id for o in orders.values()})
        bills: dict[int, list[int]] = defaultdict(list)
        for order_id, bill_id in PaymentOrderBill.objects.filter(
            order_id__in=order_ids
        ).values_list("order_id", "bill_id"):
            bills[order_id].append(bill_id)

        batch: dict[int, list[tuple[Notification, PaymentOrder]]] = defaultdict(list)
        one_by_one: list[tuple[Notification, PaymentOrder]] = []
        seen: set[int] = set()
        for note in notes:
            order = orders.get(note.order_id)
            if order is None:
                done.done(note, "未知订单，已忽略", NoticeState.IGNORED)
                continue
            if order.payment_id is not None and order.transaction_id == note.transaction_id:
                done.done(note, "已入账（重复通知）")
                continue
            plain = (
                order.pk not in seen
                and order.payment_id is None
                and not order.transaction_id
                and order.status == OrderStatus.OPEN
                and order.channel == note.channel
                and not order.pay_ahead_months
                and note.amount == order.amount
                and bills[order.pk]
            )
            seen.add(order.pk)
            if plain:
                batch[order.project_id].append((note, order))
            else:
                one_by_one.append((note, order))

        for project_id, items in batch.items():
            one_by_one += _post_batch(project_id, items, bills, done, today)
        for note, order in sorted(one_by_one, key=lambda item: item[0].pk):
            _post_one(note, order, done)
        update_rows(done.changed, NOTE_FIELDS)
    return {"done": len(done.changed) - done.failed, "failed": done.failed}


def _post_batch(
    project_id: int,
    items: list[tuple[Notification, PaymentOrder]],
    bills: dict[int, list[int]],
    done: _Set,
    today: datetime.date,
) -> list[tuple[Notification, PaymentOrder]]:
    """Posts the plain notices of one project in one batch; returns those to settle one by one."""
    user = services.online_user_for(project_id)
    requests = [
        PaymentRequest(
            account=order.account,
            lines=[(order.channel, note.amount, note.transaction_id)],
            business_date=_day(note.paid_at, today),
            include_late_fees=True,
            idempotency_key=f"{order.channel}-{note.transaction_id}"[:64],
            note=f"{order.get_channel_display()}线上缴费 {order.out_trade_no}"[:200],
            bill_ids=bills[order.pk],
        )
        for note, order in items
    ]
    try:
        with transaction.atomic():
            results = payments_record_many(user=user, project=project_id, requests=requests)
    except Exception:  # noqa: BLE001 - the whole set one by one: each fails on its own
        log.exception("payments: batch posting of %s notices failed", len(items))
        return items
    later: list[tuple[Notification, PaymentOrder]] = []
    paid: list[PaymentOrder] = []
    entries: list[AuditEntry] = []
    for (note, order), result in zip(items, results, strict=True):
        if isinstance(result, Payment):
            order.transaction_id = note.transaction_id
            order.paid_amount = note.amount
            order.paid_at = note.paid_at or note.received_at
            order.payment = result
            order.status = OrderStatus.PAID
            order.last_error = ""
            paid.append(order)
            entries.append(
                audit_entry(
                    user=user,
                    action="线上缴费入账",
                    obj=order,
                    project=order.project_id,
                    changes={
                        "transaction_id": note.transaction_id,
                        "amount": note.amount,
                        "receipt_no": result.receipt_no,
                        "source": "callback",
                    },
                )
            )
            done.done(note, f"已处理：{OrderStatus.PAID.label}")
        elif result.code in SETTLE_ONE_BY_ONE:
            later.append((note, order))
        else:
            done.fail(note, order, result.message)
    update_rows(
        paid, ["transaction_id", "paid_amount", "paid_at", "payment", "status", "last_error"]
    )
    AuditEntry.objects.bulk_create(entries, batch_size=1000)
    return later


def _post_one(note: Notification, order: PaymentOrder, done: _Set) -> None:
    try:
        with transaction.atomic():
            order = services.order_settle(
                order.pk,
                transaction_id=note.transaction_id,
                amount=note.amount if note.amount is not None else ZERO,
                paid_at=note.paid_at or note.received_at,
                source="callback",
            )
    except Exception as exc:  # noqa: BLE001 - kept as failed with why, retried
        log.warning("payments: notice %s not posted: %s", note.pk, exc)
        done.fail(note, order, getattr(exc, "message", None) or str(exc) or type(exc).__name__)
        return
    done.done(note, f"已处理：{order.get_status_display()}")


def notice_settle_pending(order: PaymentOrder) -> PaymentOrder:
    """Posts ``order``'s stored notice now, if one is waiting (the owner's page asks while the
    queue has not come to it); a notice a worker holds is left to it."""
    if order.status != OrderStatus.OPEN:
        return order
    now = timezone.now()
    with transaction.atomic():
        notes = list(
            _due(now)
            .filter(out_trade_no=order.out_trade_no, channel=order.channel)
            .select_for_update(skip_locked=True)
            .order_by("id")
        )
        if not notes:
            return order
        done = _Set(now)
        for note in notes:
            note.order_id = order.pk
            _post_one(note, order, done)
        update_rows(done.changed, NOTE_FIELDS)
    order.refresh_from_db()
    return order
