"""批量入账: many payments of one project posted at once, set-based (a bank statement's automatic
matches, docs/user/银行流水与待认领款.md).

``payments_record_many`` does what ``payments.payment_record`` does for each payment, in the order
given, with the same result as calling it once per payment — the same validation and closed-day
refusals, principal first oldest due first, the late fees of the bills a payment settles (issued as
late-fee bills and paid), the rest to prepaid balance, a prepaid draw within the balance, gap-free
receipt numbers in the order of the payments, idempotency keys (a rerun posts nothing), one audit
entry per payment and the after-payment hooks — but with a fixed number of queries for the whole
batch: one read of the accounts' open bills and prepaid movements after their locks, bulk inserts
of payments, lines, allocations and movements, the audit entries in one insert, and the batch form
of the after-payment hooks (``WUYE_AFTER_PAYMENTS``, called once with ``account_ids=``). Only the
late fees add queries: four per round of payments that settle an overdue bill under a late-fee rule
(a round is the set of payments that are each their household's first, second, … in the batch).

A request may name its bills (``bill_ids``, an online order's bills): its money then goes to those
bills only, oldest due first, as ``payment_record(bill_ids=…)``; a named bill that is no longer open
that day (paid meanwhile, not yet issued, or not the household's) refuses that request with
``ledger.bill_already_paid``, and the caller decides (the online notices post it one by one).

Not here: a cashier's back-dated entry (``cashier_entry``) and ``deposit_only`` — a batch is dated
by its evidence; use ``payment_record`` for those.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from wuye.billing.enums import BillKind
from wuye.billing.models import Account, Bill
from wuye.core import roles
from wuye.core.audit import audit_entry
from wuye.core.errors import ValidationFailed
from wuye.core.hooks import after_commit
from wuye.core.models import AuditEntry, Project, User
from wuye.core.money import ZERO, money
from wuye.core.scope import actor_role
from wuye.ledger.enums import PaymentMethod, PrepaidKind
from wuye.ledger.locking import lock_accounts, lock_bills, lock_receipt_sequence
from wuye.ledger.models import Allocation, CashierClosing, Payment, PaymentLine, PrepaidMovement
from wuye.ledger.selectors.late_fees import late_fee_terms_for, late_fees_for
from wuye.ledger.selectors.outstanding import bill_outstanding, bill_visible_date
from wuye.ledger.services.checks import (
    Line,
    clean_business_date,
    clean_lines,
    closed_day_refusal,
)
from wuye.ledger.services.payments import late_fee_text


@dataclass(frozen=True)
class PaymentRequest:
    """One payment of a batch: ``payment_record``'s arguments for it."""

    account: Account
    lines: Sequence[Sequence[object]]  # (method, amount, reference)
    business_date: datetime.date | None = None
    include_late_fees: bool = True
    idempotency_key: str | None = None
    note: str = ""
    bill_ids: Sequence[int] | None = None  # only these bills (``payment_record``'s ``bill_ids``)


@dataclass
class _Open:
    """A bill a payment may go to, as read after the locks (``outstanding`` kept up to date)."""

    bill: Bill
    outstanding: Decimal
    visible: datetime.date
    history: list[tuple[datetime.date, Decimal]] = field(default_factory=list)  # this batch's


@dataclass
class _Pending:
    index: int
    account: Account
    lines: list[Line]
    day: datetime.date
    include_late_fees: bool
    key: str | None
    note: str
    total: Decimal
    draw: Decimal
    bill_ids: frozenset[int] | None = None
    shares: list[tuple[Bill, Decimal]] = field(default_factory=list)
    late_bills: list[Bill] = field(default_factory=list)
    deposit: Decimal = ZERO
    settled: list[_Open] = field(default_factory=list)  # bills this payment paid in full
    opened: list[tuple[_Open, Decimal]] = field(default_factory=list)
    payment: Payment | None = None


def payments_record_many(
    *, user: User, project: Project | int, requests: Sequence[PaymentRequest]
) -> list[Payment | ValidationFailed]:
    """Posts ``requests`` (payments of ``project``'s households) as ``payment_record`` would one by
    one, in one transaction; returns, for each request in order, its ``Payment`` (the earlier one for
    an idempotency key already used) or the ``ValidationFailed`` that refused it. A refusal refuses
    only its own request. ``user`` without a collecting role in the project refuses the whole batch
    (raised, as ``payment_record`` would raise it for each)."""
    project_id = project.pk if isinstance(project, Project) else project
    actor_role(user, project_id, roles.COLLECTOR_ROLES, "收款")
    results: list[Payment | ValidationFailed | None] = [None] * len(requests)
    pending: list[_Pending] = []
    for index, request in enumerate(requests):
        try:
            pending.append(_clean(index, request, project_id))
        except ValidationFailed as exc:
            results[index] = exc
    if not pending:
        return results  # type: ignore[return-value]
    try:
        with transaction.atomic():
            _write(user, project_id, pending, results)
    except IntegrityError:
        # Only an idempotency key can collide: a concurrent batch posted some of these payments
        # after our check. Run again: the check now finds them and returns them instead.
        results = [x if isinstance(x, ValidationFailed) else None for x in results]
        with transaction.atomic():
            _write(user, project_id, pending, results)
    return results  # type: ignore[return-value]


def _clean(index: int, request: PaymentRequest, project_id: int) -> _Pending:
    account = request.account
    if account.project_id != project_id:
        raise ValidationFailed(f"缴费账户 {account} 不属于本项目", field="account")
    cleaned = clean_lines(list(request.lines))
    day = clean_business_date(request.business_date)
    note = (request.note or "").strip()
    if len(note) > 200:
        raise ValidationFailed("备注最多 200 字", field="note")
    key = (request.idempotency_key or "").strip() or None
    if key is not None and len(key) > 64:
        raise ValidationFailed("重复提交校验码最多 64 个字符", field="idempotency_key")
    return _Pending(
        index=index,
        account=account,
        lines=cleaned,
        day=day,
        include_late_fees=request.include_late_fees,
        key=key,
        note=note,
        total=sum((x.amount for x in cleaned), ZERO),
        draw=sum((x.amount for x in cleaned if x.method == PaymentMethod.PREPAID), ZERO),
        bill_ids=_clean_ids(request.bill_ids),
    )


def _clean_ids(bill_ids: Sequence[int] | None) -> frozenset[int] | None:
    if bill_ids is None:
        return None
    try:
        ids = frozenset(int(x) for x in bill_ids)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed("账单编号无效", field="bill_ids") from exc
    if not ids:
        raise ValidationFailed("请选择要缴的账单", field="bill_ids")
    return ids


def _key_owner(key: str, found, account: Account):
    """What a repeated key returns: its payment (a ``Payment``, or a ``_Pending`` whose payment is
    written at the end), or a refusal when it was used for another household."""
    if (found.account_id if isinstance(found, Payment) else found.account.pk) != account.pk:
        return ValidationFailed(
            "该重复提交校验码已用于另一户的收款，请刷新页面后重新收款", field="idempotency_key"
        )
    return found


def _write(
    user: User,
    project_id: int,
    pending: list[_Pending],
    results: list[Payment | ValidationFailed | None],
) -> None:
    lock_accounts({p.account.pk for p in pending})
    # Idempotency keys, read after the account locks (a concurrent batch of the same keys has
    # committed by now): a key already used returns its payment.
    keys = [p.key for p in pending if p.key is not None]
    used = {x.idempotency_key: x for x in Payment.objects.filter(idempotency_key__in=keys)}
    todo: list[_Pending] = []
    for p in pending:
        if p.key is not None and p.key in used:
            results[p.index] = _key_owner(p.key, used[p.key], p.account)
        else:
            todo.append(p)

    # The accounts' bills that may be paid, locked, then read with what they still ask for.
    account_ids = sorted({p.account.pk for p in todo})
    candidates = list(
        bill_outstanding(Bill.objects.filter(account_id__in=account_ids))
        .filter(outstanding__gt=0)
        .values_list("pk", flat=True)
    )
    lock_bills(candidates)
    open_by_account: dict[int, list[_Open]] = defaultdict(list)
    for bill in (
        bill_outstanding(Bill.objects.filter(pk__in=candidates))
        .prefetch_related("fee_item")
        .order_by("due_date", "period_start", "id")
    ):
        outstanding = money(bill.outstanding)
        if outstanding > 0:
            open_by_account[bill.account_id].append(
                _Open(bill, outstanding, bill_visible_date(bill))
            )
    sequence = lock_receipt_sequence(project_id)
    closed = set(
        CashierClosing.objects.filter(
            project_id=project_id, cashier=user, business_date__in={p.day for p in todo}
        ).values_list("business_date", flat=True)
    )
    movements: dict[int, list[tuple[datetime.date, Decimal]]] = defaultdict(list)
    if any(p.draw > 0 for p in todo):
        for account_id, effective, amount in PrepaidMovement.objects.filter(
            account_id__in=account_ids
        ).values_list("account_id", "effective_date", "amount"):
            movements[account_id].append((effective, amount))

    # A key repeated inside the batch belongs to the first payment that posts with it: the batch is
    # cut before each repeat, so that everything before it is decided when the repeat comes.
    posted: list[_Pending] = []
    owner: dict[str, _Pending] = {}
    segment: list[_Pending] = []
    segment_keys: set[str] = set()
    for p in [*todo, None]:
        if p is None or p.key in segment_keys:
            posted += _segment(
                user, project_id, segment, open_by_account, closed, movements, results
            )
            owner.update({x.key: x for x in posted if x.key is not None and x.key not in owner})
            segment, segment_keys = [], set()
        if p is None:
            break
        if p.key is not None and p.key in owner:
            first = owner[p.key]
            results[p.index] = _key_owner(p.key, first, p.account)  # type: ignore[arg-type]
            continue
        segment.append(p)
        if p.key is not None:
            segment_keys.add(p.key)
    posted.sort(key=lambda p: p.index)
    _insert(user, project_id, posted, sequence)
    for p in posted:
        results[p.index] = p.payment
    for index, result in enumerate(results):
        if isinstance(result, _Pending):  # a repeat: the payment of the key's first use
            results[index] = result.payment
    after_payments_hooks(sorted({p.account.pk for p in posted}))


def _segment(
    user: User,
    project_id: int,
    segment: list[_Pending],
    open_by_account: dict[int, list[_Open]],
    closed: set[datetime.date],
    movements: dict[int, list[tuple[datetime.date, Decimal]]],
    results: list,
) -> list[_Pending]:
    """Allocates a run of payments with no repeated key. Rounds: each household's first payment,
    then its second, … (a later payment of a household sees what the earlier ones left, late-fee
    bills included, exactly as one call after another)."""
    rounds: list[list[_Pending]] = []
    seen: dict[int, int] = defaultdict(int)
    for p in segment:
        n = seen[p.account.pk]
        seen[p.account.pk] += 1
        if n == len(rounds):
            rounds.append([])
        rounds[n].append(p)
    posted: list[_Pending] = []
    for round_ in rounds:
        for p in round_:
            refusal = _allocate(user, p, open_by_account[p.account.pk], closed, movements)
            if refusal is not None:
                results[p.index] = refusal
        fine = [p for p in round_ if results[p.index] is None]
        late = _late_fees(user, project_id, [p for p in fine if p.include_late_fees and p.settled])
        kept: list[Bill] = []
        for p in fine:
            if p.draw > 0 and p.deposit > 0:
                # Decided after the late fees, as payment_record does; nothing of it is written.
                _undo(p, open_by_account[p.account.pk], movements)
                results[p.index] = ValidationFailed(
                    f"使用预存款支付时，合计不能超过所缴账单金额（多出 {p.deposit} 元）；"
                    "请减少预存款支付金额",
                    field="lines",
                )
                continue
            posted.append(p)
            kept.extend(late.get(p.index, []))
            if p.deposit > 0:
                movements[p.account.pk].append((p.day, p.deposit))
        if kept:
            Bill.objects.bulk_create(kept)
            for p in posted:
                if p not in round_:
                    continue
                bills = open_by_account[p.account.pk]
                for bill in late.get(p.index, []):
                    paid = sum((s for b, s in p.shares if b is bill), ZERO)
                    o = _Open(bill, bill.amount - paid, bill_visible_date(bill))
                    if paid > 0:
                        o.history.append((p.day, paid))
                    bills.append(o)
                bills.sort(key=lambda x: (x.bill.due_date, x.bill.period_start, x.bill.pk))
    return posted


def _available(movements: list[tuple[datetime.date, Decimal]], on: datetime.date) -> Decimal:
    """``selectors.prepaid.prepaid_available`` over movements already read."""
    ordered = sorted(movements)
    balance = sum((amount for day, amount in ordered if day <= on), ZERO)
    lowest = balance
    for day, amount in ordered:
        if day > on:
            balance += amount
            lowest = min(lowest, balance)
    return money(max(lowest, ZERO))


def _allocate(
    user: User,
    p: _Pending,
    bills: list[_Open],
    closed: set[datetime.date],
    movements: dict[int, list[tuple[datetime.date, Decimal]]],
) -> ValidationFailed | None:
    """Principal first, oldest due first, over the bills that exist on the payment's day."""
    if p.day in closed:
        return closed_day_refusal(user, p.day)
    # As payment_record: the chosen bills after the closed day, before the prepaid balance.
    if p.bill_ids is not None:
        usable = {o.bill.pk for o in bills if o.outstanding > 0 and o.visible <= p.day}
        if not p.bill_ids <= usable:
            return ValidationFailed(
                "所选账单已缴清、尚未出账或不属于该户（可能刚由其他收费员收取），请刷新后重新选择",
                code="ledger.bill_already_paid",
                field="bill_ids",
            )
    if p.draw > 0:
        available = _available(movements[p.account.pk], p.day)
        if p.draw > available:
            return ValidationFailed(
                f"预存款支付 {p.draw} 元超过可用预存款余额 {available} 元",
                code="ledger.prepaid_insufficient",
                field="lines",
            )
    remaining = p.total
    for o in bills:
        if remaining <= 0:
            break
        if o.outstanding <= 0 or o.visible > p.day:
            continue
        if p.bill_ids is not None and o.bill.pk not in p.bill_ids:
            continue
        share = min(remaining, o.outstanding)
        if share == o.outstanding:
            p.settled.append(o)
        p.shares.append((o.bill, share))
        p.opened.append((o, share))
        o.outstanding -= share
        o.history.append((p.day, share))
        remaining -= share
    p.deposit = remaining
    if p.draw > 0:
        movements[p.account.pk].append((p.day, -p.draw))
    return None


def _undo(
    p: _Pending, bills: list[_Open], movements: dict[int, list[tuple[datetime.date, Decimal]]]
) -> None:
    for o, share in p.opened:
        o.outstanding += share
        o.history.remove((p.day, share))
    movements[p.account.pk].remove((p.day, -p.draw))


def _late_fees(user: User, project_id: int, settling: list[_Pending]) -> dict[int, list[Bill]]:
    """The late fees of the bills these payments settled, one computation per business date (the
    terms in force that day): late-fee bills (not yet saved) paid from what each payment has left,
    by request index."""
    if not settling:
        return {}
    project = Project.objects.get(pk=project_id)
    today = timezone.localdate()
    by_day: dict[datetime.date, list[_Pending]] = defaultdict(list)
    for p in settling:
        by_day[p.day].append(p)
    made: dict[int, list[Bill]] = {}
    for day, group in by_day.items():
        fees = late_fees_for(
            project,
            [o.bill for p in group for o in p.settled],
            max(today, day),
            terms=late_fee_terms_for(project, day),
            extra_payments={o.bill.pk: list(o.history) for p in group for o in p.settled},
        )
        for p in group:
            for o in p.settled:
                fee = fees.get(o.bill.pk)
                if fee is None or fee.due <= 0:
                    continue
                parent = o.bill
                late = Bill(
                    project_id=project_id,
                    account_id=p.account.pk,
                    room_id=parent.room_id,
                    fee_item=parent.fee_item,
                    kind=BillKind.LATE_FEE,
                    period_start=p.day,
                    period_end=p.day,
                    amount=fee.due,
                    due_date=p.day,
                    description=late_fee_text(parent, fee.days),
                    late_fee_for_id=parent.pk,
                    created_by=user,
                )
                made.setdefault(p.index, []).append(late)
                if p.deposit > 0:
                    share = min(p.deposit, late.amount)
                    p.shares.append((late, share))
                    p.deposit -= share
                p.late_bills.append(late)
    return made


def _insert(user: User, project_id: int, posted: list[_Pending], sequence) -> None:
    if not posted:
        return
    now = timezone.now()
    first = sequence.last_no + 1
    payments = [
        Payment(
            project_id=project_id,
            account=p.account,
            receipt_no=first + n,
            amount=p.total,
            business_date=p.day,
            received_at=now,
            cashier=user,
            note=p.note,
            idempotency_key=p.key,
        )
        for n, p in enumerate(posted)
    ]
    Payment.objects.bulk_create(payments, batch_size=1000)
    for p, payment in zip(posted, payments, strict=True):
        p.payment = payment
    PaymentLine.objects.bulk_create(
        [
            PaymentLine(payment=p.payment, method=x.method, amount=x.amount, reference=x.reference)
            for p in posted
            for x in p.lines
        ],
        batch_size=1000,
    )
    Allocation.objects.bulk_create(
        [
            Allocation(bill_id=bill.pk, amount=share, effective_date=p.day, payment=p.payment)
            for p in posted
            for bill, share in p.shares
        ],
        batch_size=1000,
    )
    movements = []
    for p in posted:
        if p.draw > 0:
            movements.append(
                PrepaidMovement(
                    account=p.account,
                    kind=PrepaidKind.CONSUME,
                    amount=-p.draw,
                    effective_date=p.day,
                    payment=p.payment,
                )
            )
        if p.deposit > 0:
            movements.append(
                PrepaidMovement(
                    account=p.account,
                    kind=PrepaidKind.DEPOSIT,
                    amount=p.deposit,
                    effective_date=p.day,
                    payment=p.payment,
                )
            )
    PrepaidMovement.objects.bulk_create(movements, batch_size=1000)
    sequence.last_no = first + len(posted) - 1
    sequence.save(update_fields=["last_no"])
    AuditEntry.objects.bulk_create(
        [
            audit_entry(
                user=user,
                action="收款",
                obj=p.payment,
                project=project_id,
                changes={
                    "receipt_no": p.payment.receipt_no,
                    "amount": p.total,
                    "business_date": p.day,
                    "lines": [[x.method, x.amount, x.reference] for x in p.lines],
                    "allocations": [[bill.pk, share] for bill, share in p.shares],
                    "late_fee_bills": [[b.pk, b.late_fee_for_id, b.amount] for b in p.late_bills],
                    "prepaid_deposit": p.deposit,
                    "prepaid_draw": p.draw,
                },
            )
            for p in posted
        ],
        batch_size=1000,
    )


def after_payments_hooks(account_ids: list[int]) -> None:
    """Runs the ``WUYE_AFTER_PAYMENTS`` hooks once, with every account a batch paid, after it
    commits (dunning, credit and alerts re-evaluate those households in a few queries). A failing
    hook is logged, never undoes the payments."""
    if account_ids:
        after_commit("WUYE_AFTER_PAYMENTS", account_ids=account_ids)
