"""收款 (docs/user/收银台.md): one payment of a household, by one or more methods.

Rules, decided once (docs/operations/ledger.md explains them for the pages):

* **Allocation order.** Principal first: the payment covers the outstanding principal of the chosen
  bills (or of every unpaid bill, when none are chosen) oldest due first; a bill it leaves partly paid
  is the last one reached. Then, when ``include_late_fees``, the late fee of each bill this payment
  fully settled (overdue, per the project's capped rule) is issued as a late-fee bill and paid, oldest
  first. What is left goes to the prepaid balance (预存款).
* **Concurrency.** Locks are taken in one order (``locking``): the account, its bills, then the
  project's receipt sequence. Outstanding amounts are re-read after the locks. Two cashiers paying the
  same household at once are serialized: when bills were chosen and one of them was settled by the
  other cashier meanwhile, the later payment is refused (``ledger.bill_already_paid``) — the payer is
  not charged twice and the cashier re-opens the window; with the default (oldest first) the later
  payment goes to what is still unpaid and then to prepaid balance.
* **Receipt numbers** come from the project's ``ReceiptSequence`` row, locked and incremented in the
  payment's transaction: a rolled-back payment gives its number back, so numbers have no gaps.
* **Closed days.** After a cashier's 日结 no payment of that cashier may be dated that day
  (``ledger.day_closed``, ``checks.day_open_check``).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from wuye.billing.enums import BillKind
from wuye.billing.models import Account, Bill
from wuye.billing.pay_ahead import AheadChoice, pay_ahead
from wuye.core import hooks, roles
from wuye.core.approvals import approver_check, four_eyes_check, roles_text
from wuye.core.audit import audit_record
from wuye.core.errors import ValidationFailed
from wuye.core.models import User
from wuye.core.money import ZERO, money
from wuye.core.scope import actor_role
from wuye.ledger.enums import PaymentMethod, PrepaidKind
from wuye.ledger.locking import lock_accounts, lock_bills, lock_receipt_sequence
from wuye.ledger.models import Allocation, Payment, PaymentLine, PrepaidMovement
from wuye.ledger.selectors.late_fees import late_fee_terms_for, late_fees_for
from wuye.ledger.selectors.outstanding import bill_visible_date
from wuye.ledger.selectors.prepaid import prepaid_available
from wuye.ledger.selectors.window import unpaid_bills
from wuye.ledger.services.checks import (
    Line,
    cashier_key_check,
    chosen_bills,
    clean_business_date,
    clean_lines,
    day_open_check,
    open_bill_ids,
    open_bills,
)


def late_fee_text(bill: Bill, days: int) -> str:
    return f"滞纳金：{bill.fee_item.name} {bill.period_start:%Y-%m}，逾期计息 {days} 天（按法定上限计）"[
        :200
    ]


# --- payments --------------------------------------------------------------------------------------


def payment_record(
    *,
    user: User,
    account: Account,
    lines: list[tuple[str, Decimal, str]],
    bill_ids: list[int] | None = None,
    business_date: datetime.date | None = None,
    include_late_fees: bool = True,
    idempotency_key: str | None = None,
    note: str = "",
    cashier_entry: bool = False,
    backdate_approved_by: User | None = None,
    backdate_reason: str = "",
    deposit_only: bool = False,
) -> Payment:
    """收款: one payment of ``account`` made with one or more methods (``lines`` of method, amount,
    transaction reference; method ``prepaid`` draws on the prepaid balance).

    Money goes principal first to ``bill_ids`` (or every unpaid bill) oldest due first, then to the
    late fees of the bills it settled (issued as late-fee bills, when ``include_late_fees``), then to
    prepaid balance. The payment gets the project's next receipt number. A repeated call with the
    same ``idempotency_key`` returns the first payment instead of paying twice.

    Refused (``ValidationFailed`` naming the field): an amount that is not a positive number with at
    most two decimals, an unknown method, a bill of another project or account, a chosen bill that is
    already paid, a prepaid draw beyond the balance or beyond what the bills ask for, a business date
    in the future or already closed for this cashier.

    ``cashier_entry`` (the fee window, the API: money a person keys in): a business date before today
    needs ``backdate_reason`` and ``backdate_approved_by``, a supervisor, project manager or company
    administrator other than ``user`` (issue 13 item 12); both are written to the audit trail. Payments
    dated by evidence (a bank statement line) or rebuilt history do not pass ``cashier_entry``.

    ``deposit_only`` puts all of it on the prepaid balance and pays no bill (an online payment whose
    bills were paid at the window while the owner paid: the money is kept as 预存款, finance told).
    """
    actor_role(user, account.project_id, roles.COLLECTOR_ROLES, "收款")
    cleaned = clean_lines(lines)
    day = clean_business_date(business_date)
    backdate = (
        payment_backdate_check(
            user=user,
            project_id=account.project_id,
            day=day,
            approved_by=backdate_approved_by,
            reason=backdate_reason,
        )
        if cashier_entry
        else None
    )
    note = (note or "").strip()
    if len(note) > 200:
        raise ValidationFailed("备注最多 200 字", field="note")
    key = (idempotency_key or "").strip() or None
    if key is not None and len(key) > 64:
        raise ValidationFailed("重复提交校验码最多 64 个字符", field="idempotency_key")
    if cashier_entry:
        cashier_key_check(key)
    if key is not None:
        existing = _existing_payment(key, account)
        if existing is not None:
            return existing
    if deposit_only:
        chosen: list[int] | None = []
    else:
        chosen = chosen_bills(account, bill_ids) if bill_ids is not None else None
    total = sum((line.amount for line in cleaned), ZERO)
    draw = sum((line.amount for line in cleaned if line.method == PaymentMethod.PREPAID), ZERO)
    try:
        with transaction.atomic():
            return _payment_write(
                user=user,
                account=account,
                lines=cleaned,
                chosen=chosen,
                day=day,
                total=total,
                draw=draw,
                include_late_fees=include_late_fees,
                key=key,
                note=note,
                backdate=backdate,
            )
    except IntegrityError:
        # Only a duplicate idempotency key can collide here (two submits racing on two accounts).
        existing = _existing_payment(key, account) if key else None
        if existing is None:
            raise
        return existing


def payment_backdate_check(
    *,
    user: User,
    project_id: int,
    day: datetime.date,
    approved_by: User | None,
    reason: str,
) -> dict | None:
    """A payment a cashier keys in for a day before today (the current business day) needs a reason
    and the approval of a supervisor, project manager or company administrator other than the
    cashier; returns what the audit entry records (None for today)."""
    if day >= timezone.localdate():
        return None
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            f"收款日期 {day:%Y-%m-%d} 早于今天：补录以前日期的收款须填写补录原因，并由主管授权",
            code="ledger.backdate_needs_approval",
            field="backdate_reason",
        )
    if len(reason) > 200:
        raise ValidationFailed("补录原因最多 200 字", field="backdate_reason")
    try:
        approver_check(project=project_id, approver=approved_by, roles=roles.PAYMENT_APPROVER_ROLES)
    except ValidationFailed as exc:
        raise ValidationFailed(
            f"收款日期 {day:%Y-%m-%d} 早于今天：补录以前日期的收款须由{roles_text(roles.PAYMENT_APPROVER_ROLES)}"
            "授权（请审批人输入自己的账号和密码）",
            code="ledger.backdate_needs_approval",
            field="approved_by",
        ) from exc
    four_eyes_check(
        approver=approved_by,
        requested_by=user,
        roles=roles.PAYMENT_APPROVER_ROLES,
        doing="补录以前日期的收款",
    )
    return {"approved_by": approved_by.pk, "reason": reason, "entered_on": timezone.localdate()}


def _existing_payment(key: str, account: Account) -> Payment | None:
    existing = Payment.objects.filter(idempotency_key=key).first()
    if existing is not None and existing.account_id != account.pk:
        raise ValidationFailed(
            "该重复提交校验码已用于另一户的收款，请刷新页面后重新收款", field="idempotency_key"
        )
    return existing


def _payment_write(
    *,
    user: User,
    account: Account,
    lines: list[Line],
    chosen: list[int] | None,
    day: datetime.date,
    total: Decimal,
    draw: Decimal,
    include_late_fees: bool,
    key: str | None,
    note: str,
    backdate: dict | None = None,
) -> Payment:
    project_id = account.project_id
    lock_accounts([account.pk])
    if key is not None:
        existing = _existing_payment(key, account)
        if existing is not None:  # the same form, submitted twice: the first one won
            return existing
    # Bills: lock what may be paid, then read what each still asks for (after the locks).
    ids = chosen if chosen is not None else open_bill_ids(account, day)
    lock_bills(ids)
    bills = open_bills(account, ids) if ids else []
    sequence = lock_receipt_sequence(project_id)
    day_open_check(project_id, user, day)
    if chosen is not None:
        for bill in bills:
            if bill.outstanding <= 0:
                raise ValidationFailed(
                    f"账单“{bill.fee_item.name} {bill.period_start:%Y-%m}”已缴清或已减免"
                    "（可能刚由其他收费员收取），请刷新后重新选择",
                    code="ledger.bill_already_paid",
                    field="bill_ids",
                )
            if bill_visible_date(bill) > day:
                raise ValidationFailed(
                    f"账单“{bill.fee_item.name} {bill.period_start:%Y-%m}”在 {day:%Y-%m-%d} 尚未出账，"
                    "不能按该日期收取",
                    field="bill_ids",
                )
    if draw > 0:
        available = prepaid_available(account, day)
        if draw > available:
            raise ValidationFailed(
                f"预存款支付 {draw} 元超过可用预存款余额 {available} 元",
                code="ledger.prepaid_insufficient",
                field="lines",
            )

    # Principal first, oldest due first.
    remaining = total
    shares: list[tuple[Bill, Decimal]] = []
    settled: list[tuple[Bill, Decimal]] = []
    for bill in bills:
        if remaining <= 0:
            break
        if bill.outstanding <= 0:  # paid by someone else while we waited for the lock
            continue
        share = min(remaining, bill.outstanding)
        shares.append((bill, share))
        remaining -= share
        if share == bill.outstanding:
            settled.append((bill, share))

    # Then the late fees of the bills this payment settled, issued as bills and paid.
    late_bills: list[Bill] = []
    if include_late_fees and settled:
        project = account.project
        # The same computation as the window's quote as of ``day`` (selectors.late_fees: the day of
        # payment accrues, so paying the quoted total settles bills and late fees exactly). Read as
        # of today, which sees every entry of the bill, with the terms in force on ``day``.
        fees = late_fees_for(
            project,
            [bill for bill, _ in settled],
            max(timezone.localdate(), day),
            terms=late_fee_terms_for(project, day),
            extra_payments={bill.pk: [(day, share)] for bill, share in settled},
        )
        late_bills = [
            Bill(
                project_id=project_id,
                account_id=account.pk,
                room_id=bill.room_id,
                fee_item_id=bill.fee_item_id,
                kind=BillKind.LATE_FEE,
                period_start=day,
                period_end=day,
                amount=fees[bill.pk].due,
                due_date=day,
                description=late_fee_text(bill, fees[bill.pk].days),
                late_fee_for_id=bill.pk,
                created_by=user,
            )
            for bill, _ in settled
            if bill.pk in fees and fees[bill.pk].due > 0
        ]
        if late_bills:
            late_bills = Bill.objects.bulk_create(late_bills)
            for late in late_bills:
                if remaining <= 0:
                    break
                share = min(remaining, late.amount)
                shares.append((late, share))
                remaining -= share
    deposit = remaining
    if draw > 0 and deposit > 0:
        raise ValidationFailed(
            f"使用预存款支付时，合计不能超过所缴账单金额（多出 {deposit} 元）；请减少预存款支付金额",
            field="lines",
        )

    receipt_no = sequence.last_no + 1
    now = timezone.now()
    payment = Payment.objects.create(
        project_id=project_id,
        account=account,
        receipt_no=receipt_no,
        amount=total,
        business_date=day,
        received_at=now,
        cashier=user,
        note=note,
        idempotency_key=key,
    )
    PaymentLine.objects.bulk_create(
        [
            PaymentLine(payment=payment, method=x.method, amount=x.amount, reference=x.reference)
            for x in lines
        ]
    )
    movements = []
    if draw > 0:
        movements.append(
            PrepaidMovement(
                account=account,
                kind=PrepaidKind.CONSUME,
                amount=-draw,
                effective_date=day,
                payment=payment,
            )
        )
    Allocation.objects.bulk_create(
        [
            Allocation(bill_id=bill.pk, amount=share, effective_date=day, payment=payment)
            for bill, share in shares
        ],
        batch_size=1000,
    )
    if deposit > 0:
        movements.append(
            PrepaidMovement(
                account=account,
                kind=PrepaidKind.DEPOSIT,
                amount=deposit,
                effective_date=day,
                payment=payment,
            )
        )
    PrepaidMovement.objects.bulk_create(movements)
    sequence.last_no = receipt_no
    sequence.save(update_fields=["last_no"])
    audit_record(
        user=user,
        action="收款",
        obj=payment,
        project=project_id,
        changes={
            "receipt_no": receipt_no,
            "amount": total,
            "business_date": day,
            "lines": [[x.method, x.amount, x.reference] for x in lines],
            "allocations": [[bill.pk, share] for bill, share in shares],
            "late_fee_bills": [[b.pk, b.late_fee_for_id, b.amount] for b in late_bills],
            "prepaid_deposit": deposit,
            "prepaid_draw": draw,
            **({"backdated": backdate} if backdate else {}),
        },
    )
    after_payment_hooks(account.pk)
    return payment


def after_payment_hooks(account_id: int) -> None:
    """Runs the ``WUYE_AFTER_PAYMENT`` hooks once the payment (or reversal) is durable — dunning
    re-evaluates the household's arrears case at once. A failing hook is logged, never undoes it."""
    hooks.after_commit("WUYE_AFTER_PAYMENT", account_id=account_id)


# --- 收款 with 预交 at the window --------------------------------------------------------------------


def payment_with_ahead(
    *,
    user: User,
    account: Account,
    ahead: AheadChoice,
    expected: Decimal,
    lines: list[tuple[str, Decimal, str]],
    bill_ids: list[int],
    idempotency_key: str | None = None,
    note: str = "",
) -> Payment:
    """收款 with 预交 (收银台.md “预交”): bills ``ahead`` (months of a fee item) through billing's
    ``pay_ahead`` — the planner and pay-ahead rule an online prepayment uses — and records one
    payment of today on ``bill_ids`` (every open bill) and the bills just made, in one transaction.

    Refused, with nothing billed and nothing paid: an open bill left out (a prepayment pays what is
    owed first), the months' figure no longer ``expected`` (a new month, an expired rule: the
    cashier sees the new one), money short of everything due (a discount is given for months paid,
    never for months billed and left unpaid), and whatever ``pay_ahead`` or ``payment_record``
    refuse. A repeated form (same ``idempotency_key``) returns the first payment and bills nothing."""
    actor_role(user, account.project_id, roles.COLLECTOR_ROLES, "收款")  # before anything is billed
    key = (idempotency_key or "").strip() or None
    cashier_key_check(key)
    with transaction.atomic():
        lock_accounts([account.pk])  # before the key is looked up: a racing repeat waits here
        existing = _existing_payment(key, account) if key else None
        if existing is not None:
            return existing
        owing = unpaid_bills(account, timezone.localdate())
        if {b.pk for b in owing} != set(bill_ids):
            raise ValidationFailed(
                "预交以后月份前须先缴清全部欠费：请勾选全部未缴账单",
                code="ledger.ahead_open_bills",
                field="ahead",
            )
        result = pay_ahead(user=user, account=account, fee_item=ahead.fee_item, months=ahead.months)
        if money(result.amount_due) != money(expected):
            raise ValidationFailed(
                f"预交金额已变为 {money(result.amount_due)} 元（原为 {money(expected)} 元），"
                "请核对后重新收款",
                code="ledger.ahead_changed",
                field="ahead",
            )
        owed = sum((b.outstanding + b.late_fee.due for b in owing), ZERO)
        total = sum((line.amount for line in clean_lines(lines)), ZERO)
        if total < money(owed + result.amount_due):
            raise ValidationFailed(
                f"预交须与欠费一次付清：本次收款 {money(total)} 元，少于应收合计 "
                f"{money(owed + result.amount_due)} 元",
                code="ledger.ahead_short",
                field="lines",
            )
        return payment_record(
            user=user,
            account=account,
            lines=lines,
            bill_ids=[*bill_ids, *(b.pk for b in result.bills)],
            idempotency_key=key,
            note=note,
            cashier_entry=True,
        )
