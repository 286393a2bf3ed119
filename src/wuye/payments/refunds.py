"""Refunds of online payments back through the platform (LAW.md §11: reason and a supervisor's
approval, as every refund).

The ledger entry is written once, when the platform says the money went back (the refund callback,
or the platform's synchronous answer): the whole payment is reversed (冲红: its bills ask for the
money again, its prepaid deposit is cancelled), or, for part of it, the amount is refunded out of
the household's prepaid balance (预存款退款, method 微信/支付宝). Both are checked before the platform
is asked, so the platform never refunds money the ledger cannot give back.
"""

from __future__ import annotations

import secrets

from django.db import transaction
from django.utils import timezone

from wuye.billing.adjustments import bill_reverse
from wuye.billing.enums import BillKind
from wuye.billing.models import Bill
from wuye.core import roles
from wuye.core.approvals import approver_check, four_eyes_check
from wuye.core.audit import audit_record
from wuye.core.errors import NotInScope, ValidationFailed
from wuye.core.models import User
from wuye.core.money import money, to_decimal
from wuye.core.scope import role_in
from wuye.ledger.locking import lock_accounts
from wuye.ledger.selectors.payments import payment_is_reversed
from wuye.ledger.selectors.prepaid import prepaid_available
from wuye.ledger.services.reversals import payment_reverse, prepaid_refund
from wuye.payments import selectors
from wuye.payments.channels.base import Notice, channel_for
from wuye.payments.enums import IssueKind, OrderStatus, RefundStatus
from wuye.payments.issues import issue_raise
from wuye.payments.models import OnlineRefund, PaymentOrder


def refund_request(
    *, user: User, order: PaymentOrder, amount, reason: str, approved_by: User
) -> OnlineRefund:
    """退款 of a paid online order through its platform: ``amount`` up to what was paid and not yet
    refunded; the whole amount reverses the payment, a part comes out of the prepaid balance (what
    the account's partial refunds still in flight will take from it is not available)."""
    if role_in(user, order.project_id) not in roles.COLLECTOR_ROLES:
        raise NotInScope("您的角色不能办理退款。")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("请填写退款原因", field="reason")
    if len(reason) > 200:
        raise ValidationFailed("退款原因最多 200 字", field="reason")
    approver_check(
        project=order.project_id, approver=approved_by, roles=roles.PAYMENT_APPROVER_ROLES
    )
    four_eyes_check(
        approver=approved_by,
        requested_by=user,
        roles=roles.PAYMENT_APPROVER_ROLES,
        doing="线上支付退款",
    )
    try:
        value = money(to_decimal(amount))
    except Exception as exc:  # noqa: BLE001 - any unreadable amount is the user's input
        raise ValidationFailed(f"退款金额“{amount}”无效", field="amount") from exc
    if value <= 0:
        raise ValidationFailed("退款金额须大于 0", field="amount")
    with transaction.atomic():
        locked = PaymentOrder.objects.select_for_update().get(pk=order.pk)
        if locked.status != OrderStatus.PAID or locked.payment_id is None:
            raise ValidationFailed("只有已入账的线上支付可以退款", field="order")
        if payment_is_reversed(locked.payment):
            raise ValidationFailed("该笔收款已冲红，不能再退款", field="order")
        taken = sum(
            (r.amount for r in locked.refunds.exclude(status=RefundStatus.FAILED)), money(0)
        )
        left = locked.paid_amount - taken
        if value > left:
            raise ValidationFailed(f"退款金额 {value} 元超过可退金额 {left} 元", field="amount")
        if taken > 0 and value == locked.paid_amount:
            raise ValidationFailed("已有部分退款，不能再全额退款", field="amount")
        if value < locked.paid_amount:
            lock_accounts([locked.account_id])  # two orders of one account refunded at once
            held = selectors.partial_refunds_in_flight(locked.account_id)
            available = money(prepaid_available(locked.account, timezone.localdate()) - held)
            if value > available:
                waiting = f"（另有 {held} 元退款处理中）" if held else ""
                raise ValidationFailed(
                    f"部分退款从该户预存款中退回，可用预存款仅 {available} 元{waiting}；"
                    "如需退回已缴账单的款项，请全额退款（冲红该笔收款）",
                    field="amount",
                )
        refund = OnlineRefund.objects.create(
            order=locked,
            out_refund_no=f"RF{locked.out_trade_no[2:]}{secrets.randbelow(10**4):04d}"[:64],
            amount=value,
            reason=reason,
            requested_by=user,
            approved_by=approved_by,
        )
        audit_record(
            user=user,
            action="线上支付退款申请",
            obj=refund,
            project=locked.project_id,
            changes={"amount": value, "reason": reason, "approved_by": approved_by.pk},
        )
    result = channel_for(order.channel).refund(
        locked, out_refund_no=refund.out_refund_no, amount=value, reason=reason
    )
    OnlineRefund.objects.filter(pk=refund.pk).update(refund_id=result.refund_id[:64])
    if result.state == "success":
        return refund_complete(refund.pk, refund_id=result.refund_id)
    if result.state == "failed":
        return refund_failed(refund.pk, result.message)
    refund.refresh_from_db()
    return refund


def refund_failed(refund_pk: int, message: str) -> OnlineRefund:
    with transaction.atomic():
        refund = OnlineRefund.objects.select_for_update(of=("self",)).get(pk=refund_pk)
        if refund.status == RefundStatus.PROCESSING:
            refund.status = RefundStatus.FAILED
            refund.error = message[:200]
            refund.done_at = timezone.now()
            refund.save(update_fields=["status", "error", "done_at"])
            issue_raise(
                refund.order,
                IssueKind.REFUND_FAILED,
                f"退款 {refund.out_refund_no} 失败：{message}",
            )
    return refund


def refund_complete(refund_pk: int, *, refund_id: str = "") -> OnlineRefund:
    """The platform refunded: the ledger entry, once (under the refund's row lock)."""
    with transaction.atomic():
        refund = (
            OnlineRefund.objects.select_for_update(of=("self",))
            .select_related("order__payment", "order__account", "requested_by", "approved_by")
            .get(pk=refund_pk)
        )
        if refund.status == RefundStatus.SUCCESS:
            return refund
        order = refund.order
        reason = f"线上支付退款 {refund.out_refund_no}：{refund.reason}"[:200]
        if refund.amount == order.paid_amount:
            refund.reversal = payment_reverse(
                user=refund.requested_by,
                payment=order.payment,
                reason=reason,
                approved_by=refund.approved_by,
            )
            if order.pay_ahead_months:
                _ahead_bills_reverse(refund, order, reason)
        else:
            refund.ledger_refund = prepaid_refund(
                user=refund.requested_by,
                account=order.account,
                amount=refund.amount,
                method=order.channel,
                reason=reason,
                approved_by=refund.approved_by,
            )
        refund.status = RefundStatus.SUCCESS
        refund.refund_id = refund_id[:64] or refund.refund_id
        refund.done_at = timezone.now()
        refund.save(update_fields=["status", "refund_id", "done_at", "reversal", "ledger_refund"])
        audit_record(
            user=refund.requested_by,
            action="线上支付退款完成",
            obj=refund,
            project=order.project_id,
            changes={"amount": refund.amount, "refund_id": refund.refund_id},
        )
    return refund


def _ahead_bills_reverse(refund: OnlineRefund, order: PaymentOrder, reason: str) -> None:
    """A whole pay-ahead payment refunded: the months it billed ahead (with their discount) would
    otherwise stay on the account as owed. They are reversed (冲红) when the refund's approver may
    reverse bills (项目经理/公司管理员); otherwise finance are told to have them reversed."""
    chosen = set(order.bills.values_list("bill_id", flat=True))
    ahead_bills = [
        b
        for b in Bill.objects.filter(allocations__payment_id=order.payment_id, kind=BillKind.CHARGE)
        .distinct()
        .order_by("period_start", "pk")
        if b.pk not in chosen
    ]
    if not ahead_bills:
        return
    try:
        with transaction.atomic():
            for bill in ahead_bills:
                bill_reverse(
                    user=refund.requested_by,
                    bill=bill,
                    reason=f"{reason}（预交账单随退款冲红）"[:200],
                    approved_by=refund.approved_by,
                )
    except ValidationFailed as exc:
        first, last = ahead_bills[0].period_start, ahead_bills[-1].period_end
        issue_raise(
            order,
            IssueKind.REFUND_FAILED,
            f"订单 {order.out_trade_no} 已全额退款，预交出账的 {len(ahead_bills)} 笔账单"
            f"（{first:%Y-%m} 至 {last:%Y-%m}，含预交优惠）仍在账上：{exc.message}；"
            "请项目经理在一户一档中冲红这些账单",
        )


def refund_notice_apply(channel: str, notice: Notice) -> str:
    refund = (
        OnlineRefund.objects.filter(out_refund_no=notice.out_refund_no, order__channel=channel)
        .select_related("order")
        .first()
    )
    if refund is None:
        return "未知退款单，已忽略"
    if not notice.success:
        refund_failed(refund.pk, "平台通知退款未成功")
        return "退款失败，已通知财务"
    if notice.amount is not None and notice.amount != refund.amount:
        issue_raise(
            refund.order,
            IssueKind.REFUND_FAILED,
            f"退款 {refund.out_refund_no} 平台金额 {notice.amount} 元与申请 {refund.amount} 元不符",
        )
        return "退款金额不符，已通知财务"
    refund_complete(refund.pk, refund_id=notice.refund_id)
    return "退款已入账"
