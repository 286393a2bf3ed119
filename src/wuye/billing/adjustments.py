"""冲红、优惠、减免、补偿 (reversals, discounts, waivers and compensations of bills).

Bills are never edited or deleted. What a bill asks for is lowered by a ``BillAdjustment``, each with a
reason and an approver who is the project's manager or a company administrator.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from wuye.billing.checks import (
    _amount,
    _real,
    check_approver,
    require_reason,
)
from wuye.billing.enums import (
    AdjustmentKind,
)
from wuye.billing.models import (
    Account,
    Bill,
    BillAdjustment,
)
from wuye.billing.selectors import (
    bill_balance,
    open_bills,
)
from wuye.core.audit import audit_record
from wuye.core.errors import ValidationFailed
from wuye.core.models import User
from wuye.core.money import ZERO

# --- reversals, reductions, compensations --------------------------------------------------------


def _locked_bill(bill: Bill) -> Bill:
    Bill.objects.select_for_update().filter(pk=bill.pk).first()
    return bill_balance(bill)


def bill_reverse(
    *, user: User | None, bill: Bill, reason: str, approved_by: User
) -> BillAdjustment:
    """冲红 of one bill: a reversal entry for all it still asks for. Refused while money is applied to it."""
    reason = require_reason(reason)
    check_approver(approved_by, bill.project_id, requested_by=_real(user), four_eyes=True)
    with transaction.atomic():
        current = _locked_bill(bill)
        if current.adjustments.filter(kind=AdjustmentKind.REVERSAL).exists():
            raise ValidationFailed("该账单已冲红", field="bill")
        if current.allocated != 0:
            raise ValidationFailed("该账单已有收款核销，请先冲红收款", field="bill")
        remaining = current.amount - current.adjusted
        if remaining <= 0:
            raise ValidationFailed("该账单已全部减免，没有可冲红的金额", field="bill")
        adjustment = BillAdjustment.objects.create(
            bill=current,
            kind=AdjustmentKind.REVERSAL,
            amount=remaining,
            effective_date=timezone.localdate(),
            reason=reason,
            approved_by=approved_by,
            created_by=_real(user),
        )
        audit_record(
            user=user,
            action="账单冲红",
            obj=current,
            project=current.project_id,
            changes={"amount": remaining, "reason": reason, "approved_by": approved_by.pk},
        )
    return adjustment


ADJUST_KINDS = {
    AdjustmentKind.DISCOUNT: "优惠",
    AdjustmentKind.WAIVER: "减免",
    AdjustmentKind.COMPENSATION: "补偿抵扣",
}


def bill_adjust(
    *,
    user: User | None,
    bill: Bill,
    kind: str,
    amount: Decimal | str,
    reason: str,
    approved_by: User,
    effective_date: datetime.date | None = None,
) -> BillAdjustment:
    """A discount, a one-off reduction (减免) or a compensation on one bill, at most what it still asks for."""
    if kind not in ADJUST_KINDS:
        raise ValidationFailed("类型须为优惠、减免或补偿抵扣；冲红请用“冲红”", field="kind")
    value = _amount(amount, label=f"{ADJUST_KINDS[kind]}金额")
    reason = require_reason(reason)
    check_approver(approved_by, bill.project_id, requested_by=_real(user), four_eyes=True)
    with transaction.atomic():
        current = _locked_bill(bill)
        if current.adjustments.filter(kind=AdjustmentKind.REVERSAL).exists():
            raise ValidationFailed("该账单已冲红，不能再调整", field="bill")
        if value > current.outstanding:
            raise ValidationFailed(
                f"{ADJUST_KINDS[kind]}金额 {value} 元超过该账单未缴金额 {current.outstanding} 元",
                field="amount",
            )
        adjustment = BillAdjustment.objects.create(
            bill=current,
            kind=kind,
            amount=value,
            effective_date=effective_date or timezone.localdate(),
            reason=reason,
            approved_by=approved_by,
            created_by=_real(user),
        )
        audit_record(
            user=user,
            action=f"账单{ADJUST_KINDS[kind]}",
            obj=current,
            project=current.project_id,
            changes={
                "kind": kind,
                "amount": value,
                "reason": reason,
                "approved_by": approved_by.pk,
            },
        )
    return adjustment


def account_compensate(
    *,
    user: User | None,
    account: Account,
    amount: Decimal | str,
    reason: str,
    approved_by: User,
    effective_date: datetime.date | None = None,
) -> list[BillAdjustment]:
    """A compensation the company grants a household (e.g. 1,000 yuan to settle a leak dispute), spread
    over its unpaid bills oldest first."""
    value = _amount(amount, label="补偿金额")
    reason = require_reason(reason)
    check_approver(approved_by, account.project_id, requested_by=_real(user), four_eyes=True)
    on = effective_date or timezone.localdate()
    with transaction.atomic():
        Account.objects.select_for_update().filter(pk=account.pk).first()
        bills = open_bills(account)
        owed = sum((b.outstanding for b in bills), ZERO)
        if value > owed:
            raise ValidationFailed(
                f"补偿金额 {value} 元超过该户未缴合计 {owed} 元；多出部分请在收银台作为预存款处理",
                field="amount",
            )
        left = value
        adjustments = []
        for bill in bills:
            if left <= 0:
                break
            share = min(left, bill.outstanding)
            adjustments.append(
                BillAdjustment.objects.create(
                    bill=bill,
                    kind=AdjustmentKind.COMPENSATION,
                    amount=share,
                    effective_date=on,
                    reason=reason,
                    approved_by=approved_by,
                    created_by=_real(user),
                )
            )
            left -= share
        audit_record(
            user=user,
            action="补偿抵扣",
            obj=account,
            project=account.project_id,
            changes={
                "amount": value,
                "reason": reason,
                "approved_by": approved_by.pk,
                "bills": [a.bill_id for a in adjustments],
            },
        )
    return adjustments
