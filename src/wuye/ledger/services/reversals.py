"""冲红与退款 (docs/user/冲红与退款.md): undoing a payment and paying prepaid balance back.

Both need a reason and the approval of a supervisor, project manager or company administrator other
than the requester, and both count in the requester's day (日结): a closed day refuses them.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction

from wuye.billing.models import Account
from wuye.core import roles
from wuye.core.approvals import approver_check, four_eyes_check
from wuye.core.audit import audit_record
from wuye.core.errors import ValidationFailed
from wuye.core.models import User
from wuye.core.money import ZERO
from wuye.core.scope import actor_role
from wuye.ledger.enums import PrepaidKind
from wuye.ledger.locking import lock_accounts, lock_payment, lock_receipt_sequence
from wuye.ledger.models import Allocation, Payment, PaymentReversal, PrepaidMovement, Refund
from wuye.ledger.selectors.prepaid import prepaid_available
from wuye.ledger.services.checks import (
    clean_amount,
    clean_business_date,
    clean_method,
    clean_reason,
    day_open_check,
)
from wuye.ledger.services.payments import after_payment_hooks


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
    reason = clean_reason(reason)
    actor_role(user, payment.project_id, roles.COLLECTOR_ROLES, "冲红收款")
    approver_check(
        project=payment.project_id, approver=approved_by, roles=roles.PAYMENT_APPROVER_ROLES
    )
    four_eyes_check(
        approver=approved_by,
        requested_by=user,
        collectors=[payment.cashier_id],
        roles=roles.PAYMENT_APPROVER_ROLES,
    )
    day = clean_business_date(business_date, "冲红日期")
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
        day_open_check(payment.project_id, user, day)
        allocations = list(Allocation.objects.filter(payment=payment, amount__gt=0).order_by("id"))
        movements = list(
            PrepaidMovement.objects.filter(payment=payment)
            .exclude(kind=PrepaidKind.REVERSAL)
            .order_by("id")
        )
        change = -sum((m.amount for m in movements), ZERO)
        if change < 0:
            available = prepaid_available(payment.account_id, day)
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
        after_payment_hooks(payment.account_id)
    return reversal


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
    value = clean_amount(amount, field="amount", label="退款金额")
    method = clean_method(method, field="method", allow_prepaid=False)
    reason = clean_reason(reason)
    actor_role(user, account.project_id, roles.COLLECTOR_ROLES, "办理退款")
    approver_check(
        project=account.project_id, approver=approved_by, roles=roles.PAYMENT_APPROVER_ROLES
    )
    four_eyes_check(approver=approved_by, requested_by=user, roles=roles.PAYMENT_APPROVER_ROLES)
    day = clean_business_date(business_date, "退款日期")
    with transaction.atomic():
        lock_accounts([account.pk])
        lock_receipt_sequence(account.project_id)
        day_open_check(account.project_id, user, day)
        available = prepaid_available(account, day)
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
