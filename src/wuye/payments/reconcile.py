"""Daily reconciliation (对账) of each platform's statement with the ledger.

For a day and a channel: the platform's trade bill (WeChat 交易账单, Alipay 业务明细) is downloaded and
compared line by line with the online orders posted that day (by the platform's payment time) and
the online refunds completed that day:

* on both, same amount → 一致;
* on the platform, not in the ledger (a lost callback the order query missed, a wrong amount held
  back) → 平台有、账上无: finance review it and post it from the page (``line_post``);
* in the ledger, not on the platform → 账上有、平台无: flagged for finance (never removed here);
* both, amounts differ → 金额不符: flagged.

The platform's service fee (手续费) is summed for finance. A re-run rebuilds the day's lines (they are
derived from the statement and the ledger) and so reflects what was posted since.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from wuye.core import roles
from wuye.core.audit import audit_record
from wuye.core.errors import NotInScope, ValidationFailed
from wuye.core.models import User
from wuye.core.money import money
from wuye.core.scope import role_in
from wuye.payments import selectors, services
from wuye.payments.channels.base import ChannelError, StatementRow, channel_for
from wuye.payments.enums import Channel, LineKind, ReconStatus, RefundStatus
from wuye.payments.models import (
    OnlineRefund,
    PaymentOrder,
    Reconciliation,
    ReconciliationLine,
)


def _day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    return start, start + datetime.timedelta(days=1)


def reconcile_day(channel: str, day: datetime.date, *, user: User | None = None) -> Reconciliation:
    """Downloads the statement of ``day`` from ``channel`` and (re)builds the day's comparison."""
    if channel not in Channel.values:
        raise ValidationFailed(f"未知的支付渠道“{channel}”", field="channel")
    if day >= timezone.localdate():
        raise ValidationFailed("只能对账今天以前的日期（平台次日出账单）", field="day")
    try:
        rows = channel_for(channel).statement(day)
    except ChannelError as exc:
        raise ValidationFailed(str(exc), code="payments.channel_error", field="channel") from exc
    return reconcile_rows(channel, day, rows, user=user)


def reconcile_rows(
    channel: str, day: datetime.date, rows: list[StatementRow], *, user: User | None = None
) -> Reconciliation:
    start, end = _day_bounds(day)
    posted = {
        o.transaction_id: o
        for o in PaymentOrder.objects.filter(
            channel=channel, payment__isnull=False, paid_at__gte=start, paid_at__lt=end
        ).select_related("payment")
    }
    refunds = {
        r.out_refund_no: r
        for r in OnlineRefund.objects.filter(
            order__channel=channel,
            status=RefundStatus.SUCCESS,
            done_at__gte=start,
            done_at__lt=end,
        ).select_related("order")
    }
    pay_rows = [r for r in rows if r.kind == LineKind.PAY]
    by_no = {
        o.out_trade_no: o
        for o in PaymentOrder.objects.filter(out_trade_no__in=[r.out_trade_no for r in pay_rows])
    }
    lines: list[ReconciliationLine] = []
    seen_txn: set[str] = set()
    for row in pay_rows:
        seen_txn.add(row.transaction_id)
        order = posted.get(row.transaction_id) or by_no.get(row.out_trade_no)
        amount = money(row.amount)
        if order is None or order.payment_id is None or order.transaction_id != row.transaction_id:
            status, ledger_amount = ReconStatus.MISSING_IN_LEDGER, None
        elif order.payment.amount != amount:
            status, ledger_amount = ReconStatus.AMOUNT_DIFFERS, order.payment.amount
        else:
            status, ledger_amount = ReconStatus.MATCHED, order.payment.amount
        lines.append(
            ReconciliationLine(
                kind=LineKind.PAY,
                status=status,
                out_trade_no=row.out_trade_no[:64],
                transaction_id=row.transaction_id[:64],
                platform_amount=amount,
                ledger_amount=ledger_amount,
                fee=money(row.fee),
                trade_time=row.time[:30],
                order=order,
                payment_id=order.payment_id if order is not None else None,
            )
        )
    for txn, order in posted.items():
        if txn not in seen_txn:
            lines.append(
                ReconciliationLine(
                    kind=LineKind.PAY,
                    status=ReconStatus.MISSING_ON_PLATFORM,
                    out_trade_no=order.out_trade_no,
                    transaction_id=txn,
                    ledger_amount=order.payment.amount,
                    trade_time=timezone.localtime(order.paid_at).strftime("%Y-%m-%d %H:%M:%S"),
                    order=order,
                    payment_id=order.payment_id,
                )
            )
    seen_refunds: set[str] = set()
    for row in (r for r in rows if r.kind == LineKind.REFUND):
        seen_refunds.add(row.out_refund_no)
        refund = refunds.get(row.out_refund_no)
        amount = money(row.amount)
        if refund is None:
            status, ledger_amount = ReconStatus.MISSING_IN_LEDGER, None
        elif refund.amount != amount:
            status, ledger_amount = ReconStatus.AMOUNT_DIFFERS, refund.amount
        else:
            status, ledger_amount = ReconStatus.MATCHED, refund.amount
        lines.append(
            ReconciliationLine(
                kind=LineKind.REFUND,
                status=status,
                out_trade_no=row.out_trade_no[:64],
                transaction_id=row.transaction_id[:64],
                out_refund_no=row.out_refund_no[:64],
                platform_amount=amount,
                ledger_amount=ledger_amount,
                fee=money(row.fee),
                trade_time=row.time[:30],
                order=refund.order if refund else by_no.get(row.out_trade_no),
            )
        )
    for no, refund in refunds.items():
        if no not in seen_refunds:
            lines.append(
                ReconciliationLine(
                    kind=LineKind.REFUND,
                    status=ReconStatus.MISSING_ON_PLATFORM,
                    out_trade_no=refund.order.out_trade_no,
                    transaction_id=refund.order.transaction_id,
                    out_refund_no=no,
                    ledger_amount=refund.amount,
                    trade_time=timezone.localtime(refund.done_at).strftime("%Y-%m-%d %H:%M:%S"),
                    order=refund.order,
                )
            )
    with transaction.atomic():
        recon, _ = Reconciliation.objects.select_for_update().get_or_create(
            channel=channel, day=day
        )
        recon.lines.all().delete()
        for line in lines:
            line.reconciliation = recon
        ReconciliationLine.objects.bulk_create(lines, batch_size=1000)
        pays = [line for line in lines if line.kind == LineKind.PAY]
        for name, value in vars(selectors.recon_totals(lines)).items():
            setattr(recon, name, value)
        recon.save()
        audit_record(
            user=user,
            action="线上缴费对账",
            obj=recon,
            changes={
                "lines": len(lines),
                "payments": len(pays),
                "differences": recon.difference_count,
                "fee": recon.fee_amount,
            },
        )
    return recon


def line_post(*, user: User, line: ReconciliationLine) -> ReconciliationLine:
    """核对后入账: finance post a payment the platform has and the ledger does not (a lost callback,
    an amount held back), after review, through the same exactly-once posting."""
    if line.kind != LineKind.PAY or line.status not in (
        ReconStatus.MISSING_IN_LEDGER,
        ReconStatus.AMOUNT_DIFFERS,
    ):
        raise ValidationFailed("只有“平台有、账上无”的收款可以核对后入账", field="line")
    order = line.order
    if order is None:
        raise ValidationFailed(
            f"商户订单号 {line.out_trade_no} 不是本系统的订单，无法确定住户；请在收银台按实际住户收款",
            field="line",
        )
    if role_in(user, order.project_id) not in roles.RECONCILE_ROLES:
        raise NotInScope("只有财务或公司管理员可以核对入账。")
    if order.payment_id is not None and order.transaction_id == line.transaction_id:
        raise ValidationFailed("该笔已入账，请重新对账", field="line")
    services.order_settle(
        order,
        transaction_id=line.transaction_id,
        amount=line.platform_amount,
        source="reconciliation",
        reviewed_by=user,
    )
    with transaction.atomic():
        line = ReconciliationLine.objects.select_for_update().get(pk=line.pk)
        order.refresh_from_db()
        if order.payment_id is not None:
            line.status = ReconStatus.RESOLVED
            line.payment_id = order.payment_id
            line.ledger_amount = order.payment.amount
            line.resolved_by = user
            line.resolved_at = timezone.now()
            line.save(
                update_fields=["status", "payment", "ledger_amount", "resolved_by", "resolved_at"]
            )
        audit_record(
            user=user,
            action="对账核对入账",
            obj=order,
            project=order.project_id,
            changes={"transaction_id": line.transaction_id, "amount": line.platform_amount},
        )
    return line


def reconcile_all(day: datetime.date) -> dict:
    """Both channels for ``day``; a channel that cannot be reached is reported, not raised."""
    result = {}
    for channel in Channel.values:
        try:
            recon = reconcile_day(channel, day)
        except ValidationFailed as exc:
            result[channel] = {"error": exc.message}
            continue
        result[channel] = {"lines": recon.lines.count(), "differences": recon.difference_count}
    return result


def reconcile_yesterday() -> dict:
    return reconcile_all(timezone.localdate() - datetime.timedelta(days=1))
