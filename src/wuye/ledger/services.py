"""Every write of the ledger: validated, in one transaction, with its audit entry.

Nothing here updates or deletes a ledger row. A payment is undone by a reversal (冲红) that adds
negative allocations and prepaid movements; balances are sums (see ``selectors``).

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
* **Closed days.** After a cashier's 日结 no payment, reversal or refund of that cashier may be dated
  that day (``ledger.day_closed``).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.module_loading import import_string

from wuye.billing.enums import BillKind, RunStatus
from wuye.billing.models import Account, Bill, BillingRun
from wuye.billing.selectors import billing_settings
from wuye.core.approvals import approver_check, four_eyes_check, roles_text
from wuye.core.audit import audit_record
from wuye.core.errors import NotInScope, ValidationFailed
from wuye.core.models import AuditEntry, Project, User
from wuye.core.money import ZERO, money, to_decimal
from wuye.core.roles import Role
from wuye.core.scope import role_in
from wuye.ledger import selectors
from wuye.ledger.enums import InvoiceKind, InvoiceStatus, PaymentMethod, PrepaidKind
from wuye.ledger.locking import lock_accounts, lock_bills, lock_payment, lock_receipt_sequence
from wuye.ledger.models import (
    Allocation,
    CashierClosing,
    InvoiceRequest,
    Payment,
    PaymentLine,
    PaymentReversal,
    PrepaidMovement,
    ReceiptPrint,
    Refund,
)

# Who may take money (at the window, at the door with a POS, or posting a bank transfer).
COLLECTOR_ROLES = frozenset(
    {
        Role.CASHIER,
        Role.SUPERVISOR,
        Role.PROJECT_MANAGER,
        Role.COMPANY_ADMIN,
        Role.FINANCE,
        Role.STEWARD,
    }
)
# Who may approve a payment reversal (冲红) or a prepaid refund (主管授权).
APPROVER_ROLES = frozenset({Role.SUPERVISOR, Role.PROJECT_MANAGER, Role.COMPANY_ADMIN})

METHOD_LABELS = dict(PaymentMethod.choices)
PAPERS = {"a4": "A4", "roll": "收据纸"}
MAX_AMOUNT = Decimal("1000000000")  # one payment line; far above any household's fees
CONSUME_CHUNK = 500  # accounts per transaction when a billing run consumes prepaid balances


# --- helpers -------------------------------------------------------------------------------------


def _amount(value: object, *, field: str, label: str) -> Decimal:
    try:
        amount = to_decimal(value)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValidationFailed(f"{label}“{value}”不是有效的金额", field=field) from exc
    if not amount.is_finite():
        raise ValidationFailed(f"{label}“{value}”不是有效的金额", field=field)
    if amount <= 0:
        raise ValidationFailed(f"{label}须大于 0（填写的是 {amount}）", field=field)
    if amount != money(amount):
        raise ValidationFailed(f"{label}最多两位小数（到分）：{amount}", field=field)
    if amount >= MAX_AMOUNT:
        raise ValidationFailed(f"{label} {amount} 超出范围，请核对", field=field)
    return money(amount)


def _reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("请填写原因", field="reason")
    if len(reason) > 200:
        raise ValidationFailed("原因最多 200 字", field="reason")
    return reason


def _business_date(value: datetime.date | None, label: str = "收款日期") -> datetime.date:
    today = timezone.localdate()
    if value is None:
        return today
    if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
        raise ValidationFailed(f"{label}须为日期", field="business_date")
    if value > today:
        raise ValidationFailed(
            f"{label} {value:%Y-%m-%d} 晚于今天，不能预先入账", field="business_date"
        )
    return value


def _check_staff(user: User | None, project_id: int, roles: frozenset[Role], doing: str) -> User:
    if user is None or not user.is_authenticated or not user.is_active:
        raise ValidationFailed(f"{doing}需要登录的操作人", field="user")
    role = role_in(user, project_id)
    if role is None:
        raise NotInScope("您没有该项目的权限。")
    if role not in roles:
        raise ValidationFailed(f"{user}（{role.label}）不能{doing}", field="user")
    return user


def _check_day_open(project_id: int, cashier: User, day: datetime.date) -> None:
    """Refuses an entry dated on a day the cashier has already closed (call after the sequence lock)."""
    if selectors.day_is_closed(project_id, cashier.pk, day):
        # A closed day stays closed (no reopening: the closing sheet went to finance). Today closed:
        # a colleague whose day is open takes the money, or it is taken tomorrow.
        way = (
            "请由今天尚未日结的同事（其他收费员、客服主管或项目经理）办理，或明天再办理"
            if day >= timezone.localdate()
            else "请以今天的日期办理"
        )
        raise ValidationFailed(
            f"{cashier} 的 {day:%Y-%m-%d} 已日结，不能再收款、冲红或退款；{way}",
            code="ledger.day_closed",
            field="business_date",
        )


def _method(value: object, *, field: str, allow_prepaid: bool = True) -> str:
    method = str(value or "").strip()
    if method not in METHOD_LABELS or (method == PaymentMethod.PREPAID and not allow_prepaid):
        allowed = "、".join(
            str(label)
            for key, label in PaymentMethod.choices
            if allow_prepaid or key != PaymentMethod.PREPAID
        )
        raise ValidationFailed(f"支付方式“{method}”无效，可选：{allowed}", field=field)
    return method


@dataclass(frozen=True)
class _Line:
    method: str
    amount: Decimal
    reference: str


def _clean_lines(lines: Sequence[Sequence[object]]) -> list[_Line]:
    if not lines:
        raise ValidationFailed("请至少填写一种支付方式和金额", field="lines")
    cleaned = []
    for index, line in enumerate(lines):
        if not isinstance(line, list | tuple) or len(line) not in (2, 3):
            raise ValidationFailed(
                f"第 {index + 1} 笔支付须为（支付方式, 金额, 交易单号）", field=f"lines[{index}]"
            )
        method = _method(line[0], field=f"lines[{index}].method")
        amount = _amount(
            line[1], field=f"lines[{index}].amount", label=f"{METHOD_LABELS[method]}金额"
        )
        reference = str(line[2] if len(line) == 3 and line[2] is not None else "").strip()
        if len(reference) > 64:
            raise ValidationFailed("交易单号最多 64 个字符", field=f"lines[{index}].reference")
        cleaned.append(_Line(method, amount, reference))
    return cleaned


def _open_bills(account: Account, ids: Iterable[int]) -> list[Bill]:
    """These bills of the account with what they still ask for right now (every entry counts), in the
    order money goes to them: oldest due first. Call after ``lock_bills``."""
    bills = Bill.objects.filter(account=account, pk__in=list(ids))
    # prefetch, not select_related: one FeeItem instance per item, not one per bill.
    bills = list(
        selectors.bill_outstanding(bills)
        .prefetch_related("fee_item")
        .order_by("due_date", "period_start", "id")
    )
    for bill in bills:
        bill.outstanding = money(bill.outstanding)  # SQLite hands sums back as floats
    return bills


def _open_bill_ids(account: Account, on: datetime.date) -> list[int]:
    """Ids of the account's unpaid bills that exist on ``on`` (read before the locks)."""
    return list(
        selectors.bill_outstanding(
            Bill.objects.filter(account=account).filter(selectors.visible_on(on))
        )
        .filter(outstanding__gt=0)
        .values_list("pk", flat=True)
    )


def _chosen_bills(account: Account, bill_ids: Sequence[object]) -> list[int]:
    """Validates chosen bill ids: they exist, are this project's and this account's."""
    ids: list[int] = []
    for value in bill_ids:
        try:
            ids.append(int(value))
        except (TypeError, ValueError) as exc:
            raise ValidationFailed(f"账单编号“{value}”无效", field="bill_ids") from exc
    ids = list(dict.fromkeys(ids))
    if not ids:
        raise ValidationFailed("请选择要缴的账单", field="bill_ids")
    found = dict(Bill.objects.filter(pk__in=ids).values_list("pk", "project_id"))
    accounts = dict(Bill.objects.filter(pk__in=ids).values_list("pk", "account_id"))
    for bill_id in ids:
        if bill_id not in found:
            raise ValidationFailed(f"账单 {bill_id} 不存在", field="bill_ids")
        if found[bill_id] != account.project_id:
            raise ValidationFailed(
                "不能收取其他项目的账单", code="ledger.bill_other_project", field="bill_ids"
            )
        if accounts[bill_id] != account.pk:
            raise ValidationFailed(
                f"账单 {bill_id} 不属于该缴费账户（{account}）",
                code="ledger.bill_other_account",
                field="bill_ids",
            )
    return ids


def _late_fee_text(bill: Bill, days: int) -> str:
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
    _check_staff(user, account.project_id, COLLECTOR_ROLES, "收款")
    cleaned = _clean_lines(lines)
    day = _business_date(business_date)
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
    if key is not None:
        existing = _existing_payment(key, account)
        if existing is not None:
            return existing
    if deposit_only:
        chosen: list[int] | None = []
    else:
        chosen = _chosen_bills(account, bill_ids) if bill_ids is not None else None
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
        approver_check(project=project_id, approver=approved_by, roles=APPROVER_ROLES)
    except ValidationFailed as exc:
        raise ValidationFailed(
            f"收款日期 {day:%Y-%m-%d} 早于今天：补录以前日期的收款须由{roles_text(APPROVER_ROLES)}"
            "授权（请审批人输入自己的账号和密码）",
            code="ledger.backdate_needs_approval",
            field="approved_by",
        ) from exc
    four_eyes_check(
        approver=approved_by, requested_by=user, roles=APPROVER_ROLES, doing="补录以前日期的收款"
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
    lines: list[_Line],
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
    ids = chosen if chosen is not None else _open_bill_ids(account, day)
    lock_bills(ids)
    bills = _open_bills(account, ids) if ids else []
    sequence = lock_receipt_sequence(project_id)
    _check_day_open(project_id, user, day)
    if chosen is not None:
        for bill in bills:
            if bill.outstanding <= 0:
                raise ValidationFailed(
                    f"账单“{bill.fee_item.name} {bill.period_start:%Y-%m}”已缴清或已减免"
                    "（可能刚由其他收费员收取），请刷新后重新选择",
                    code="ledger.bill_already_paid",
                    field="bill_ids",
                )
            if selectors.bill_visible_date(bill) > day:
                raise ValidationFailed(
                    f"账单“{bill.fee_item.name} {bill.period_start:%Y-%m}”在 {day:%Y-%m-%d} 尚未出账，"
                    "不能按该日期收取",
                    field="bill_ids",
                )
    if draw > 0:
        available = selectors.prepaid_available(account, day)
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
        # The same computation as the window's quote as of ``day`` (billing.late_fees: the day of
        # payment accrues, so paying the quoted total settles bills and late fees exactly). Read as
        # of today, which sees every entry of the bill, with the terms in force on ``day``.
        fees = selectors.late_fees_for(
            project,
            [bill for bill, _ in settled],
            max(timezone.localdate(), day),
            terms=selectors.late_fee_terms_for(project, day),
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
                description=_late_fee_text(bill, fees[bill.pk].days),
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
    _after_payment(account.pk)
    return payment


def _after_payment(account_id: int) -> None:
    """Runs the ``WUYE_AFTER_PAYMENT`` hooks once the payment (or reversal) is durable — dunning
    re-evaluates the household's arrears case at once. A failing hook is logged, never undoes it."""
    for path in getattr(settings, "WUYE_AFTER_PAYMENT", []):
        hook = import_string(path)
        transaction.on_commit(lambda hook=hook: hook(account_id=account_id), robust=True)


def payment_reverse(
    *,
    user: User,
    payment: Payment,
    reason: str,
    approved_by: User,
    business_date: datetime.date | None = None,
) -> PaymentReversal:
    """冲红 of a payment, with a reason and the approval of a supervisor, project manager or company
    administrator. Adds a negative allocation for each of its allocations (the bills ask for that
    money again) and prepaid movements that cancel what it deposited into or drew from the prepaid
    balance. Refused twice, without a reason, and when the prepaid money it deposited was already
    consumed or refunded (the balance would go negative). Late-fee bills it issued stay as issued
    (they are owed); reverse them in billing if they should go too. Dated today unless told; the
    reversal belongs to ``user``'s day (日结).
    """
    reason = _reason(reason)
    _check_staff(user, payment.project_id, COLLECTOR_ROLES, "冲红收款")
    approver_check(project=payment.project_id, approver=approved_by, roles=APPROVER_ROLES)
    four_eyes_check(
        approver=approved_by,
        requested_by=user,
        collectors=[payment.cashier_id],
        roles=APPROVER_ROLES,
    )
    day = _business_date(business_date, "冲红日期")
    with transaction.atomic():
        lock_accounts([payment.account_id])
        payment = lock_payment(payment.pk)
        lock_receipt_sequence(payment.project_id)
        if PaymentReversal.objects.filter(payment=payment).exists():
            raise ValidationFailed(
                f"收据 No.{payment.receipt_no:08d} 已冲红，不能重复冲红",
                code="ledger.already_reversed",
                field="payment",
            )
        if day < payment.business_date:
            raise ValidationFailed("冲红日期不能早于收款日期", field="business_date")
        _check_day_open(payment.project_id, user, day)
        allocations = list(Allocation.objects.filter(payment=payment, amount__gt=0).order_by("id"))
        movements = list(
            PrepaidMovement.objects.filter(payment=payment)
            .exclude(kind=PrepaidKind.REVERSAL)
            .order_by("id")
        )
        change = -sum((m.amount for m in movements), ZERO)
        if change < 0:
            available = selectors.prepaid_available(payment.account_id, day)
            if available + change < 0:
                raise ValidationFailed(
                    f"该收款存入的预存款 {-change} 元已被抵扣或退款，可用余额仅 {available} 元，"
                    "冲红后预存款余额将为负数，不能冲红；请先由财务核对该户预存款",
                    code="ledger.prepaid_consumed",
                    field="payment",
                )
        reversal = PaymentReversal.objects.create(
            payment=payment,
            business_date=day,
            reason=reason,
            requested_by=user,
            approved_by=approved_by,
        )
        Allocation.objects.bulk_create(
            [
                Allocation(
                    bill_id=a.bill_id,
                    amount=-a.amount,
                    effective_date=day,
                    payment=payment,
                    reverses=a,
                )
                for a in allocations
            ],
            batch_size=1000,
        )
        PrepaidMovement.objects.bulk_create(
            [
                PrepaidMovement(
                    account_id=payment.account_id,
                    kind=PrepaidKind.REVERSAL,
                    amount=-m.amount,
                    effective_date=day,
                    payment=payment,
                )
                for m in movements
            ]
        )
        audit_record(
            user=user,
            action="收款冲红",
            obj=payment,
            project=payment.project_id,
            changes={
                "receipt_no": payment.receipt_no,
                "amount": payment.amount,
                "reason": reason,
                "approved_by": approved_by.pk,
                "business_date": day,
                "allocations": [[a.bill_id, -a.amount] for a in allocations],
                "prepaid": change,
            },
        )
        _after_payment(payment.account_id)
    return reversal


# --- prepaid balance -------------------------------------------------------------------------------


def _plan_consumption(
    bills: Iterable[tuple[int, Decimal]], available: Decimal
) -> list[tuple[int, Decimal]]:
    plan = []
    for bill_id, outstanding in bills:
        if available <= 0:
            break
        if outstanding <= 0:
            continue
        share = min(available, outstanding)
        plan.append((bill_id, share))
        available -= share
    return plan


def prepaid_consume(
    *,
    account: Account,
    business_date: datetime.date,
    bills: Sequence[Bill] | None = None,
    user: User | None = None,
) -> list[Allocation]:
    """Pays ``bills`` (default: every unpaid bill, oldest due first) out of the account's prepaid
    balance, as far as it goes: one prepaid movement (抵扣) and one allocation per bill. Returns the
    allocations (empty when there is no balance or nothing to pay). Late fees are not issued here."""
    day = business_date
    with transaction.atomic():
        lock_accounts([account.pk])
        available = selectors.prepaid_available(account, day)
        if available <= 0:
            return []
        if bills is None:
            ids = _open_bill_ids(account, day)
        else:
            ids = [b.pk for b in bills]
            other = [b for b in bills if b.account_id != account.pk]
            if other:
                raise ValidationFailed(
                    f"账单 {other[0].pk} 不属于该缴费账户（{account}）", field="bills"
                )
        lock_bills(ids)
        open_bills = [b for b in _open_bills(account, ids) if b.outstanding > 0] if ids else []
        plan = _plan_consumption(((b.pk, b.outstanding) for b in open_bills), available)
        if not plan:
            return []
        total = sum((share for _, share in plan), ZERO)
        movement = PrepaidMovement.objects.create(
            account=account, kind=PrepaidKind.CONSUME, amount=-total, effective_date=day
        )
        allocations = Allocation.objects.bulk_create(
            [
                Allocation(bill_id=bill_id, amount=share, effective_date=day, prepaid=movement)
                for bill_id, share in plan
            ]
        )
        audit_record(
            user=user,
            action="预存款抵扣",
            obj=account,
            project=account.project_id,
            changes={"amount": total, "business_date": day, "allocations": plan},
        )
    return allocations


def prepaid_consume_for_run(run_id: int, *, business_date: datetime.date | None = None) -> int:
    """After a billing run commits: the run's new bills consume their accounts' prepaid balances
    (when the project's ``auto_consume_prepaid`` is on — the default). Only the run's bills are paid
    this way (old arrears stay for the window, where the payer chooses), oldest due first.

    Set-based: one query finds the accounts of the run with a positive balance; they are then done
    500 per transaction with a fixed number of queries and bulk inserts each. Idempotent: a rerun
    finds the bills already paid. Returns the number of allocations made.
    """
    run = BillingRun.objects.filter(pk=run_id).first()
    if run is None or run.status != RunStatus.COMMITTED:
        return 0
    if not billing_settings(run.project_id).auto_consume_prepaid:
        return 0
    day = business_date or timezone.localdate()
    account_ids = list(
        PrepaidMovement.objects.filter(
            account_id__in=Bill.objects.filter(run_id=run_id).values("account_id")
        )
        .order_by()
        .values("account_id")
        .annotate(balance=Sum("amount"))
        .filter(balance__gt=0)
        .order_by("account_id")
        .values_list("account_id", flat=True)
    )
    made = 0
    for start in range(0, len(account_ids), CONSUME_CHUNK):
        made += _consume_chunk(run, account_ids[start : start + CONSUME_CHUNK], day)
    return made


def _consume_chunk(run: BillingRun, account_ids: list[int], day: datetime.date) -> int:
    with transaction.atomic():
        lock_accounts(account_ids)
        lock_bills(
            Bill.objects.filter(run_id=run.pk, account_id__in=account_ids).values_list(
                "pk", flat=True
            )
        )
        movements: dict[int, list[tuple[datetime.date, Decimal]]] = {}
        for account_id, effective, amount in PrepaidMovement.objects.filter(
            account_id__in=account_ids
        ).values_list("account_id", "effective_date", "amount"):
            movements.setdefault(account_id, []).append((effective, amount))
        bills: dict[int, list[tuple[int, Decimal]]] = {}
        for bill_id, account_id, outstanding in (
            selectors.bill_outstanding(
                Bill.objects.filter(run_id=run.pk, account_id__in=account_ids).filter(
                    selectors.visible_on(day)
                )
            )
            .filter(outstanding__gt=0)
            .order_by("account_id", "due_date", "period_start", "id")
            .values_list("id", "account_id", "outstanding")
        ):
            bills.setdefault(account_id, []).append((bill_id, money(outstanding)))
        plans: list[tuple[PrepaidMovement, list[tuple[int, Decimal]]]] = []
        for account_id in account_ids:
            available = _available(movements.get(account_id, []), day)
            plan = _plan_consumption(bills.get(account_id, []), available)
            if plan:
                total = sum((share for _, share in plan), ZERO)
                movement = PrepaidMovement(
                    account_id=account_id,
                    kind=PrepaidKind.CONSUME,
                    amount=-total,
                    effective_date=day,
                )
                plans.append((movement, plan))
        if not plans:
            return 0
        PrepaidMovement.objects.bulk_create([movement for movement, _ in plans])
        allocations = [
            Allocation(bill_id=bill_id, amount=share, effective_date=day, prepaid=movement)
            for movement, plan in plans
            for bill_id, share in plan
        ]
        Allocation.objects.bulk_create(allocations, batch_size=1000)
        AuditEntry.objects.create(
            project_id=run.project_id,
            action="预存款自动抵扣",
            model="billing.BillingRun",
            object_id=str(run.pk),
            object_repr=str(run)[:200],
            changes={
                "accounts": len(plans),
                "bills": len(allocations),
                "amount": str(sum((-m.amount for m, _ in plans), ZERO)),
                "business_date": day.isoformat(),
            },
        )
    return len(allocations)


def _available(movements: list[tuple[datetime.date, Decimal]], on: datetime.date) -> Decimal:
    """``selectors.prepaid_available`` over movements already read."""
    movements = sorted(movements)
    balance = sum((amount for day, amount in movements if day <= on), ZERO)
    lowest = balance
    for day, amount in movements:
        if day > on:
            balance += amount
            lowest = min(lowest, balance)
    return max(lowest, ZERO)


def prepaid_refund(
    *,
    user: User,
    account: Account,
    amount: Decimal | str,
    method: str,
    reason: str,
    approved_by: User,
    business_date: datetime.date | None = None,
) -> Refund:
    """退款 of prepaid balance (e.g. when the service contract ends, LAW.md §11), never more than the
    balance, with a reason and a supervisor's, project manager's or company administrator's approval.
    Counts in ``user``'s day (日结) as money paid out by ``method``."""
    value = _amount(amount, field="amount", label="退款金额")
    method = _method(method, field="method", allow_prepaid=False)
    reason = _reason(reason)
    _check_staff(user, account.project_id, COLLECTOR_ROLES, "办理退款")
    approver_check(project=account.project_id, approver=approved_by, roles=APPROVER_ROLES)
    four_eyes_check(approver=approved_by, requested_by=user, roles=APPROVER_ROLES)
    day = _business_date(business_date, "退款日期")
    with transaction.atomic():
        lock_accounts([account.pk])
        lock_receipt_sequence(account.project_id)
        _check_day_open(account.project_id, user, day)
        available = selectors.prepaid_available(account, day)
        if value > available:
            raise ValidationFailed(
                f"退款金额 {value} 元超过预存款余额 {available} 元",
                code="ledger.prepaid_insufficient",
                field="amount",
            )
        refund = Refund.objects.create(
            account=account,
            amount=value,
            method=method,
            business_date=day,
            reason=reason,
            requested_by=user,
            approved_by=approved_by,
        )
        PrepaidMovement.objects.create(
            account=account,
            kind=PrepaidKind.REFUND,
            amount=-value,
            effective_date=day,
            refund=refund,
        )
        audit_record(
            user=user,
            action="预存款退款",
            obj=refund,
            project=account.project_id,
            changes={
                "account": account.pk,
                "amount": value,
                "method": method,
                "reason": reason,
                "approved_by": approved_by.pk,
                "business_date": day,
            },
        )
    return refund


# --- receipts and invoices -------------------------------------------------------------------------


def receipt_print_record(*, user: User, payment: Payment, paper: str = "a4") -> ReceiptPrint:
    """Records a print of a payment's receipt; every print after the first is a reprint (补打)."""
    if paper not in PAPERS:
        raise ValidationFailed(
            f"纸张须为 {'、'.join(f'{k}（{v}）' for k, v in PAPERS.items())}", field="paper"
        )
    _check_staff(user, payment.project_id, COLLECTOR_ROLES, "打印收据")
    with transaction.atomic():
        payment = lock_payment(payment.pk)
        is_reprint = ReceiptPrint.objects.filter(payment=payment).exists()
        printed = ReceiptPrint.objects.create(
            payment=payment, printed_by=user, is_reprint=is_reprint, paper=paper
        )
        audit_record(
            user=user,
            action="补打收据" if is_reprint else "打印收据",
            obj=payment,
            project=payment.project_id,
            changes={"paper": paper, "is_reprint": is_reprint},
        )
    return printed


def invoice_request_create(
    *,
    user: User,
    payment: Payment,
    title: str,
    tax_number: str = "",
    email: str = "",
    phone: str = "",
    kind: str = InvoiceKind.NORMAL,
) -> InvoiceRequest:
    """开票申请 recorded for finance, who issue the (digital) invoice on the tax platform (LAW.md §12:
    we record requests and export what the platform needs; we do not issue tax invoices)."""
    _check_staff(user, payment.project_id, COLLECTOR_ROLES | {Role.FINANCE}, "登记开票申请")
    title = (title or "").strip()
    if not title:
        raise ValidationFailed("请填写发票抬头（个人姓名或单位名称）", field="title")
    if len(title) > 100:
        raise ValidationFailed("发票抬头最多 100 字", field="title")
    if kind not in InvoiceKind.values:
        raise ValidationFailed(
            f"发票类型须为{'或'.join(str(label) for label in InvoiceKind.labels)}", field="kind"
        )
    tax_number = (tax_number or "").strip().upper()
    if kind == InvoiceKind.SPECIAL and not tax_number:
        raise ValidationFailed("增值税专用发票须填写单位的纳税人识别号", field="tax_number")
    if tax_number and not (tax_number.isalnum() and 15 <= len(tax_number) <= 20):
        raise ValidationFailed(
            "税号应为 15–20 位字母或数字（统一社会信用代码为 18 位）", field="tax_number"
        )
    email = (email or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError as exc:
            raise ValidationFailed(f"邮箱“{email}”格式不正确", field="email") from exc
    phone = "".join(ch for ch in (phone or "") if ch.isdigit())
    if phone and not (len(phone) == 11 and phone.startswith("1")):
        raise ValidationFailed("接收手机须为 11 位手机号", field="phone")
    if not email and not phone:
        raise ValidationFailed("数电发票须填写接收邮箱或手机号", field="email")
    with transaction.atomic():
        payment = lock_payment(payment.pk)
        if PaymentReversal.objects.filter(payment=payment).exists():
            raise ValidationFailed("该收款已冲红，不能申请发票", field="payment")
        request = InvoiceRequest.objects.create(
            payment=payment,
            title=title,
            tax_number=tax_number,
            email=email,
            phone=phone,
            kind=kind,
            status=InvoiceStatus.REQUESTED,
            requested_by=user,
        )
        audit_record(
            user=user,
            action="开票申请",
            obj=request,
            project=payment.project_id,
            changes={
                "payment": payment.pk,
                "kind": kind,
                "title": title,
                "tax_number": tax_number,
            },
        )
    return request


# Who marks an invoice request as issued: finance issue the invoice on the tax platform.
INVOICE_ISSUER_ROLES = frozenset({Role.FINANCE, Role.COMPANY_ADMIN})


def invoice_request_mark_issued(
    *, user: User, invoice_request: InvoiceRequest, invoice_no: str = ""
) -> InvoiceRequest:
    """Finance record that the invoice of a request was issued on the tax platform (已开票), with
    the invoice number when they have it. Only a request still waiting (待开票) can be marked."""
    _check_staff(user, invoice_request.payment.project_id, INVOICE_ISSUER_ROLES, "标记已开票")
    invoice_no = (invoice_no or "").strip()
    if len(invoice_no) > 30:
        raise ValidationFailed("发票号码最多 30 个字符", field="invoice_no")
    with transaction.atomic():
        locked = InvoiceRequest.objects.select_for_update().get(pk=invoice_request.pk)
        if locked.status != InvoiceStatus.REQUESTED:
            raise ValidationFailed(
                f"该申请已是“{locked.get_status_display()}”，不能再标记为已开票",
                code="ledger.invoice_not_pending",
                field="status",
            )
        locked.status = InvoiceStatus.ISSUED
        locked.invoice_no = invoice_no
        locked.issued_at = timezone.now()
        locked.save(update_fields=["status", "invoice_no", "issued_at"])
        audit_record(
            user=user,
            action="标记已开票",
            obj=locked,
            project=locked.payment.project_id,
            changes={
                "status": [InvoiceStatus.REQUESTED, InvoiceStatus.ISSUED],
                "invoice_no": invoice_no,
            },
        )
    invoice_request.status = locked.status
    return locked


# --- the cashier's day -----------------------------------------------------------------------------


def cashier_close(
    *,
    user: User,
    project: Project,
    business_date: datetime.date,
    cashier: User | None = None,
) -> CashierClosing:
    """日结 of a cashier's day (default: ``user``'s own): totals per method, counts of receipts and
    reversals. Afterwards that cashier cannot record payments, reversals or refunds dated that day.
    Closing someone else's day needs a supervisor, project manager or company administrator."""
    who = cashier or user
    _check_staff(user, project.pk, COLLECTOR_ROLES, "日结")
    if who.pk != user.pk:
        approver_check(project=project, approver=user, roles=APPROVER_ROLES)
    day = _business_date(business_date, "日结日期")
    with transaction.atomic():
        # The sequence lock makes this wait for the cashier's payments in flight, and makes theirs
        # wait for the closing (they check for it after taking the same lock).
        lock_receipt_sequence(project.pk)
        if selectors.day_is_closed(project.pk, who.pk, day):
            raise ValidationFailed(
                f"{who} 的 {day:%Y-%m-%d} 已日结，不能重复日结",
                code="ledger.already_closed",
                field="business_date",
            )
        figures = selectors.cashier_day(project, who, day)
        closing = CashierClosing.objects.create(
            project=project,
            cashier=who,
            business_date=day,
            totals={t.method: t.as_json() for t in figures.totals},
            total_amount=figures.handed_over,
            payment_count=len(figures.payments),
            reversal_count=len(figures.reversals),
        )
        audit_record(
            user=user,
            action="日结",
            obj=closing,
            project=project,
            changes={
                "cashier": who.pk,
                "business_date": day,
                "total_amount": figures.handed_over,
                "payments": len(figures.payments),
                "reversals": len(figures.reversals),
                "refunds": len(figures.refunds),
            },
        )
    return closing
