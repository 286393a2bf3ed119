"""Online payment orders and the platforms' callbacks: every write of the app except refunds
(``refunds``) and reconciliation (``reconcile``).

**Exactly once.** A paid order reaches the ledger only in ``order_settle``: it locks the order row,
and posts through ``ledger.services.payment_record`` with the platform's transaction id as the
payment line's reference and (``<channel>-<transaction id>``) as the idempotency key. A repeated,
late or concurrent callback, or a callback racing the order query (主动查单) or the window's
payment-code flow, finds the order already posted under the lock — and the ledger's unique key
would refuse a second payment even if it did not.

**The amount** of an order is computed here from the chosen bills at order time: each bill's
outstanding principal plus its late fee at the legally capped figure (``ledger.selectors.unpaid_bills``,
the window's figure; LAW.md §6 — the contract figure is never charged online). A callback with
another amount is not posted; finance get an issue (待财务处理). When the bills were paid at the
window meanwhile, the money goes to the prepaid balance (预存款) and finance are told.
"""

from __future__ import annotations

import datetime
import logging
import secrets
from decimal import Decimal
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.http.request import validate_host
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from wuye.billing.models import Account, FeeItem
from wuye.billing.pay_ahead import window_ahead_choice
from wuye.core import roles
from wuye.core.audit import audit_record
from wuye.core.errors import NotInScope, ValidationFailed
from wuye.core.models import Project, User
from wuye.core.money import ZERO, money
from wuye.core.scope import role_in
from wuye.core.system_users import system_user_for
from wuye.ledger.selectors.window import unpaid_bills
from wuye.ledger.services.payments import payment_record
from wuye.payments import ahead, selectors
from wuye.payments.channels.base import (
    ChannelError,
    PlatformTrade,
    channel_for,
)
from wuye.payments.enums import SCENES_OF, Channel, IssueKind, OrderStatus, Scene
from wuye.payments.issues import issue_raise
from wuye.payments.models import (
    PaymentOrder,
    PaymentOrderBill,
    PaymentSettings,
)

log = logging.getLogger(__name__)


def order_minutes() -> int:
    return int(settings.WUYE_PAYMENTS.get("order_minutes", 15))


def _new_out_trade_no(now: datetime.datetime) -> str:
    return f"WY{timezone.localtime(now):%Y%m%d%H%M%S}{secrets.randbelow(10**10):010d}"


def payment_settings(project: Project | int) -> PaymentSettings:
    project_id = project.pk if isinstance(project, Project) else project
    found = PaymentSettings.objects.filter(project_id=project_id).first()
    return found or PaymentSettings(project_id=project_id)


# --- orders ----------------------------------------------------------------------------------------


def _clean_channel(channel: str, scene: str, openid: str) -> tuple[str, str]:
    channel = str(channel or "").strip()
    scene = str(scene or "").strip()
    if channel not in Channel.values:
        raise ValidationFailed(f"支付渠道“{channel}”无效，可选：微信支付、支付宝", field="channel")
    if scene not in {s.value for s in SCENES_OF[Channel(channel)]}:
        allowed = "、".join(str(Scene(s).label) for s in sorted(SCENES_OF[Channel(channel)]))
        raise ValidationFailed(
            f"{Channel(channel).label}不支持“{scene}”支付场景，可选：{allowed}", field="scene"
        )
    if scene == Scene.JSAPI and not (openid or "").strip():
        raise ValidationFailed("微信内支付需要付款人的 openid（公众号授权后取得）", field="openid")
    return channel, scene


def _clean_months(value) -> int:
    try:
        months = int(value or 0)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(f"预交月数“{value}”无效", field="pay_ahead_months") from exc
    if months < 0:
        raise ValidationFailed("预交月数不能为负数", field="pay_ahead_months")
    return months


def _our_hosts() -> list[str]:
    """The hosts a payer may be sent back to: the site's own (``WUYE_SITE_URL``) and the hosts it
    answers on (``ALLOWED_HOSTS``, a wildcard "*" excepted)."""
    hosts = [h for h in settings.ALLOWED_HOSTS if h and h != "*"]
    site = urlsplit(getattr(settings, "WUYE_SITE_URL", "") or "").hostname
    return [*hosts, site] if site else hosts


def _clean_return_url(value) -> str:
    """The address the platform sends the payer back to after paying: empty, or a page of our own
    site. Any other address is refused (an open redirect would send a payer who has just paid on
    WeChat/Alipay to someone else's page, e.g. one asking to “pay again”)."""
    url = str(value or "").strip()
    if not url:
        return ""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if (
        len(url) > 500
        or parts.scheme not in ("http", "https")
        or not host
        or not validate_host(host, _our_hosts())
        or not url_has_allowed_host_and_scheme(url, allowed_hosts={parts.netloc})
    ):
        raise ValidationFailed(
            "支付完成后的跳回地址（return_url）须为本系统的网址", field="return_url"
        )
    return url


def _clean_ids(bill_ids) -> list[int]:
    return _clean_bill_ids(bill_ids) if bill_ids else []


def _clean_bill_ids(bill_ids) -> list[int]:
    ids: list[int] = []
    for value in bill_ids or []:
        try:
            ids.append(int(value))
        except (TypeError, ValueError) as exc:
            raise ValidationFailed(f"账单编号“{value}”无效", field="bill_ids") from exc
    ids = list(dict.fromkeys(ids))
    if not ids:
        raise ValidationFailed("请选择要缴的账单", field="bill_ids")
    return ids


def _clean_expected(value) -> Decimal:
    try:
        return money(Decimal(str(value).strip().replace(",", "")))
    except (ArithmeticError, ValueError) as exc:
        raise ValidationFailed(f"应收金额“{value}”无效", field="expected") from exc


def order_quote(*, account: Account, bill_ids: list[int], on: datetime.date | None = None):
    """The bills an order would pay (``unpaid_bills`` rows: outstanding and capped late fee) and
    its principal and late fee; refuses bills that are not this account's open bills, and an older
    open bill left out unless the project allows skipping."""
    on = on or timezone.localdate()
    ids = _clean_bill_ids(bill_ids)
    unpaid = unpaid_bills(account, on)
    by_id = {b.pk: b for b in unpaid}
    for bill_id in ids:
        if bill_id not in by_id:
            raise ValidationFailed(
                f"账单 {bill_id} 不是该户待缴的账单（可能已缴清或不属于该户），请刷新后重新选择",
                code="payments.bill_not_open",
                field="bill_ids",
            )
    chosen = [by_id[i] for i in ids]
    chosen.sort(key=lambda b: (b.due_date, b.period_start, b.pk))
    if not payment_settings(account.project_id).allow_skip_older:
        newest = max(b.due_date for b in chosen)
        wanted = set(ids)
        skipped = [b for b in unpaid if b.pk not in wanted and b.due_date < newest]
        if skipped:
            first = skipped[0]
            raise ValidationFailed(
                f"请先缴较早的账单：{first.fee_item.name} {first.period_start:%Y-%m}"
                f"（应缴 {first.outstanding} 元）；本项目要求按账期从早到晚缴费",
                code="payments.older_bill_first",
                field="bill_ids",
            )
    principal = money(sum((b.outstanding for b in chosen), ZERO))
    late_fee = money(sum((b.late_fee.due for b in chosen), ZERO))
    return chosen, principal, late_fee


def order_create(
    *,
    account: Account,
    bill_ids: list[int],
    channel: str,
    scene: str,
    openid: str = "",
    pay_ahead_months: int = 0,
    pay_ahead_fee_item: FeeItem | None = None,
    client_ip: str = "",
    now: datetime.datetime | None = None,
    return_url: str = "",
    created_by: User | None = None,
    expected_amount: Decimal | str | None = None,
) -> PaymentOrder:
    """An order for ``bill_ids`` of ``account`` (each bill's outstanding principal plus its late fee
    at the capped figure, as the window quotes it), on ``channel``/``scene``; asks the platform
    for what the front end needs to pay (``pay_params``: ``code_url``, ``h5_url``, ``jsapi`` or
    ``pay_url``). Expires after ``WUYE_PAYMENTS['order_minutes']`` (default 15).

    Refused (``ValidationFailed`` naming the field): an unknown channel or scene, JSAPI without
    openid, 付款码 (micropay) without the cashier who takes it, a ``return_url`` off our own site,
    no bills, a bill that is not an open bill of this account, an older open bill left out (unless
    the project allows skipping), a zero amount, a platform that refuses the order (the order is
    kept as failed, with the platform's message).

    ``pay_ahead_months`` (预交) adds that many months ahead under the project's pay-ahead rule, priced
    by the window's own service (``payments.ahead``); it needs every open bill paid with it (no
    skipping), a rule in force and at most the project's prepayment cap. ``pay_ahead_fee_item``
    (the window's 付款码 with its 预交 choice): that fee item only, and only as the window offers it
    — the order carries the item and its settlement bills exactly that. ``expected_amount`` (the
    total a cashier's panel showed): an order for another figure is refused before it is made.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    channel, scene = _clean_channel(channel, scene, openid)
    return_url = _clean_return_url(return_url)
    months = _clean_months(pay_ahead_months)
    if scene == Scene.MICROPAY and created_by is None:
        # 付款码 is taken by a cashier at the window (micropay_take); never asked for by an owner.
        raise ValidationFailed(
            "付款码收款只在物业服务中心收银台办理，请选择其他支付方式", field="scene"
        )
    if pay_ahead_fee_item is not None and not months:
        raise ValidationFailed("请选择预交月数", field="pay_ahead_months")
    if scene != Scene.MICROPAY and not payment_settings(account.project_id).enabled:
        raise ValidationFailed(
            "本项目未开通线上缴费，请到物业服务中心缴费", code="payments.disabled", field="channel"
        )
    quote = None
    if months:
        open_ids = [b.pk for b in unpaid_bills(account, today)]
        if set(_clean_ids(bill_ids)) != set(open_ids):
            raise ValidationFailed(
                "预交以后月份前须先缴清全部欠费（不能跳过未缴账单），"
                + ("请勾选全部未缴账单" if scene == Scene.MICROPAY else "请选择“全部缴清并预交”"),
                code="payments.ahead_open_bills",
                field="bill_ids",
            )
        quote = ahead.ahead_quote(
            account=account, months=months, on=today, fee_item=pay_ahead_fee_item
        )
    if quote is not None and not bill_ids:
        chosen, principal, late_fee = [], ZERO, ZERO
    else:
        chosen, principal, late_fee = order_quote(account=account, bill_ids=bill_ids, on=today)
    ahead_amount = quote.amount if quote is not None else ZERO
    amount = money(principal + late_fee + ahead_amount)
    if amount <= 0:
        raise ValidationFailed("所选账单无需缴费（金额为 0）", field="bill_ids")
    if expected_amount not in (None, "") and amount != _clean_expected(expected_amount):
        raise ValidationFailed(
            f"应收金额已变为 {amount} 元（页面显示 {_clean_expected(expected_amount)} 元），"
            "请核对金额后重新收款",
            code="payments.amount_changed",
            field="expected",
        )
    project = account.project
    room = account.room
    with transaction.atomic():
        order = PaymentOrder.objects.create(
            out_trade_no=_new_out_trade_no(now),
            project=project,
            account=account,
            channel=channel,
            scene=scene,
            amount=amount,
            principal=principal,
            late_fee=late_fee,
            pay_ahead_months=months,
            pay_ahead_amount=ahead_amount,
            pay_ahead_fee_item=pay_ahead_fee_item,
            description=(
                f"{project.name} {room.code} 物业费" + (f"（含预交{months}个月）" if months else "")
            )[:60],
            expires_at=now + datetime.timedelta(minutes=order_minutes()),
            openid=(openid or "")[:128],
            client_ip=(client_ip or "")[:45],
            created_by=created_by,
        )
        PaymentOrderBill.objects.bulk_create(
            [
                PaymentOrderBill(
                    order=order, bill=b, principal=b.outstanding, late_fee=b.late_fee.due
                )
                for b in chosen
            ]
        )
        audit_record(
            user=created_by,
            action="线上支付下单",
            obj=order,
            project=project,
            changes={
                "channel": channel,
                "scene": scene,
                "amount": amount,
                "principal": principal,
                "late_fee": late_fee,
                "bills": [b.pk for b in chosen],
                **(
                    {
                        "pay_ahead_months": months,
                        "pay_ahead_amount": ahead_amount,
                        "pay_ahead": quote.items,
                        **(
                            {"pay_ahead_fee_item": pay_ahead_fee_item.pk}
                            if pay_ahead_fee_item is not None
                            else {}
                        ),
                    }
                    if quote is not None
                    else {}
                ),
            },
        )
    if scene == Scene.MICROPAY:
        return order  # the cashier's payment-code flow calls the platform itself
    try:
        params = channel_for(channel).create(
            order, openid=openid, client_ip=client_ip, return_url=return_url
        )
    except ChannelError as exc:
        PaymentOrder.objects.filter(pk=order.pk).update(
            status=OrderStatus.FAILED, last_error=str(exc)[:200]
        )
        raise ValidationFailed(
            f"支付平台暂不可用：{exc}", code="payments.channel_error", field="channel"
        ) from exc
    order.pay_params = params
    PaymentOrder.objects.filter(pk=order.pk).update(pay_params=params)
    return order


# --- posting, exactly once -------------------------------------------------------------------------


def online_user_for(project: Project | int) -> User:
    """The user online payments post as (``online_pay_<company>``)."""
    if not isinstance(project, Project):
        project = Project.objects.get(pk=project)
    return system_user_for(
        project, username=f"online_pay_{project.company_id}", display_name="线上缴费"
    )


def _post(order: PaymentOrder, user: User, amount: Decimal, day: datetime.date, txn: str, **kw):
    key = f"{order.channel}-{txn}"[:64]
    return payment_record(
        user=user,
        account=order.account,
        lines=[(order.channel, amount, txn)],
        business_date=day,
        include_late_fees=True,
        idempotency_key=key,
        note=f"{order.get_channel_display()}线上缴费 {order.out_trade_no}"[:200],
        **kw,
    )


def order_settle(
    order: PaymentOrder | int,
    *,
    transaction_id: str,
    amount: Decimal,
    paid_at: datetime.datetime | None = None,
    source: str = "callback",
    reviewed_by: User | None = None,
) -> PaymentOrder:
    """Posts a paid order to the ledger, once: the callback, the order query, the window's payment
    code and the reconciliation all end here. Under the order's row lock: an order already posted
    is returned as it is; a wrong amount is not posted (finance told); bills paid meanwhile send
    the money to the prepaid balance (finance told); a payment after the order was closed or
    expired is still posted (the owner paid) and finance told. ``reviewed_by`` (finance, from the
    reconciliation page) posts an amount held back after review."""
    pk = order.pk if isinstance(order, PaymentOrder) else order
    transaction_id = (transaction_id or "").strip()
    if not transaction_id:
        raise ValidationFailed("平台交易号为空", field="transaction_id")
    amount = money(amount)
    paid_at = paid_at or timezone.now()
    today = timezone.localdate()
    day = min(timezone.localdate(paid_at), today)
    with transaction.atomic():
        # The order's row only: without ``of`` PostgreSQL also locked the joined project row FOR
        # UPDATE, which every payment's deferred foreign-key check (FOR KEY SHARE) waits for, and a
        # window payment holding the receipt sequence deadlocked against this callback (load test).
        order = (
            PaymentOrder.objects.select_for_update(of=("self",))
            .select_related("account__project", "account__room", "pay_ahead_fee_item")
            .get(pk=pk)
        )
        if order.payment_id is not None:
            if order.transaction_id != transaction_id:
                issue_raise(
                    order,
                    IssueKind.WRONG_AMOUNT,
                    f"同一订单收到第二笔支付（交易号 {transaction_id}，{amount} 元），未入账，请核对并退款",
                )
            return order
        held = order.transaction_id and order.paid_amount is not None
        if held and reviewed_by is None:
            return order  # already refused for its amount: finance decide
        order.transaction_id = transaction_id
        order.paid_amount = amount
        order.paid_at = paid_at
        if amount != order.amount and reviewed_by is None:
            order.status = OrderStatus.FAILED
            order.last_error = f"支付金额 {amount} 元与订单金额 {order.amount} 元不符，未入账"
            order.save(
                update_fields=["transaction_id", "paid_amount", "paid_at", "status", "last_error"]
            )
            issue_raise(
                order,
                IssueKind.WRONG_AMOUNT,
                f"订单 {order.out_trade_no} 支付 {amount} 元，订单金额 {order.amount} 元，未入账；"
                "请核对后在对账页入账或退款",
            )
            return order
        if order.status in (OrderStatus.CLOSED, OrderStatus.EXPIRED):
            issue_raise(
                order,
                IssueKind.LATE_PAYMENT,
                f"订单 {order.out_trade_no} 已{order.get_status_display()}后收到支付 {amount} 元，已入账",
            )
        user = online_user_for(order.account.project)
        bill_ids = list(order.bills.values_list("bill_id", flat=True))
        ahead_changed = False
        if order.pay_ahead_months and amount == order.amount:
            # 预交: the months ahead billed now by the window's service, at the quoted figure only.
            made = ahead.ahead_bill(
                user=user,
                account=order.account,
                months=order.pay_ahead_months,
                on=day,
                expected=order.pay_ahead_amount,
                fee_item=order.pay_ahead_fee_item,
            )
            if made is None:
                ahead_changed = True
            else:
                bill_ids += [b.pk for b in made]
        payment = None
        taken = False
        for attempt_day in dict.fromkeys([day, today]):
            try:
                try:
                    payment = _post(
                        order,
                        user,
                        amount,
                        attempt_day,
                        transaction_id,
                        **({"bill_ids": bill_ids} if bill_ids else {"deposit_only": True}),
                    )
                except ValidationFailed as exc:
                    if exc.code != "ledger.bill_already_paid":
                        raise
                    taken = True
                    still = [
                        b.pk
                        for b in unpaid_bills(order.account, attempt_day)
                        if b.pk in set(bill_ids)
                    ]
                    payment = _post(
                        order,
                        user,
                        amount,
                        attempt_day,
                        transaction_id,
                        **({"bill_ids": still} if still else {"deposit_only": True}),
                    )
                break
            except ValidationFailed as exc:
                if exc.code != "ledger.day_closed" or attempt_day == today:
                    raise
        if taken:
            issue_raise(
                order,
                IssueKind.BILLS_TAKEN,
                f"订单 {order.out_trade_no} 的账单在付款期间已在窗口缴清，{amount} 元中未用于账单的部分"
                f"已转入 {order.account.room.code} 的预存款（收据 No.{payment.receipt_no:08d}）",
            )
        if ahead_changed:
            issue_raise(
                order,
                IssueKind.AHEAD_CHANGED,
                f"订单 {order.out_trade_no} 预交 {order.pay_ahead_months} 个月的金额在付款期间已变化"
                f"（下单时 {order.pay_ahead_amount} 元），未预交出账；预交部分已转入 "
                f"{order.account.room.code} 的预存款（收据 No.{payment.receipt_no:08d}），"
                "请联系业主在窗口办理预交或退款",
            )
        order.payment = payment
        order.status = OrderStatus.PAID
        order.last_error = ""
        order.save(
            update_fields=[
                "transaction_id",
                "paid_amount",
                "paid_at",
                "payment",
                "status",
                "last_error",
            ]
        )
        audit_record(
            user=user,
            action="线上缴费入账",
            obj=order,
            project=order.project_id,
            changes={
                "transaction_id": transaction_id,
                "amount": amount,
                "receipt_no": payment.receipt_no,
                "source": source,
                **({"reviewed_by": reviewed_by.pk} if reviewed_by else {}),
            },
        )
        if reviewed_by is not None:
            order.issues.filter(resolved_at__isnull=True).update(
                resolved_at=timezone.now(), resolved_by=reviewed_by
            )
    return order


def _apply_trade(order: PaymentOrder, trade: PlatformTrade, *, source: str) -> PaymentOrder:
    if trade.state == "paid" and trade.transaction_id and trade.amount is not None:
        return order_settle(
            order,
            transaction_id=trade.transaction_id,
            amount=trade.amount,
            paid_at=trade.paid_at,
            source=source,
        )
    if trade.state in ("closed", "failed") and order.status == OrderStatus.OPEN:
        status = OrderStatus.CLOSED if trade.state == "closed" else OrderStatus.FAILED
        PaymentOrder.objects.filter(pk=order.pk, status=OrderStatus.OPEN).update(
            status=status, closed_at=timezone.now()
        )
        order.refresh_from_db()
    return order


def order_refresh(order: PaymentOrder, *, now: datetime.datetime | None = None) -> PaymentOrder:
    """主动查单: asks the platform about an open order and posts it when paid (a lost callback);
    an expired unpaid order is closed on the platform too, then marked expired."""
    now = now or timezone.now()
    if order.status != OrderStatus.OPEN:
        return order
    channel = channel_for(order.channel)
    trade = channel.query(order)
    order = _apply_trade(order, trade, source="query")
    if order.status == OrderStatus.OPEN and order.expires_at <= now and trade.state != "paying":
        if trade.state != "missing":
            channel.close(order)
        # Closed on the platform now: a callback can no longer come, unless it was paid just
        # before the close — ask once more, then mark it expired.
        trade = channel.query(order) if trade.state != "missing" else trade
        if trade.state == "paid":
            order = _apply_trade(order, trade, source="query")
        if order.status == OrderStatus.OPEN:
            PaymentOrder.objects.filter(pk=order.pk, status=OrderStatus.OPEN).update(
                status=OrderStatus.EXPIRED, closed_at=now
            )
            order.refresh_from_db()
    return order


def order_close(order: PaymentOrder) -> PaymentOrder:
    """Closes an open order on the platform and here (the owner chose another way to pay)."""
    if order.status != OrderStatus.OPEN:
        return order
    channel = channel_for(order.channel)
    trade = channel.query(order)
    order = _apply_trade(order, trade, source="query")
    if order.status == OrderStatus.OPEN:
        if trade.state != "missing":
            channel.close(order)
        PaymentOrder.objects.filter(pk=order.pk, status=OrderStatus.OPEN).update(
            status=OrderStatus.CLOSED, closed_at=timezone.now()
        )
        order.refresh_from_db()
    return order


def orders_sweep(*, now: datetime.datetime | None = None, limit: int = 500) -> dict:
    """The periodic order query (主动查单): every open order older than a minute is asked about
    (a lost callback is posted), and expired ones are closed on the platform. Returns counts."""
    now = now or timezone.now()
    counts = {"checked": 0, "paid": 0, "expired": 0, "errors": 0}
    for order in selectors.open_orders(created_before=now - datetime.timedelta(minutes=1))[:limit]:
        counts["checked"] += 1
        try:
            order = order_refresh(order, now=now)
        except (ChannelError, ValidationFailed) as exc:
            counts["errors"] += 1
            PaymentOrder.objects.filter(pk=order.pk).update(last_error=str(exc)[:200])
            continue
        if order.status == OrderStatus.PAID:
            counts["paid"] += 1
        elif order.status == OrderStatus.EXPIRED:
            counts["expired"] += 1
    return counts


# --- the window: payment codes (付款码) -----------------------------------------------------------


def channel_of_auth_code(code: str) -> str:
    """WeChat payment codes are 18 digits starting 10–15; Alipay's 16–24 digits starting 25–30."""
    code = (code or "").strip()
    if not code.isdigit():
        raise ValidationFailed("付款码须为数字（请扫描顾客手机上的付款码）", field="auth_code")
    if len(code) == 18 and code[:2] in {"10", "11", "12", "13", "14", "15"}:
        return Channel.WECHAT
    if 16 <= len(code) <= 24 and code[:2] in {"25", "26", "27", "28", "29", "30"}:
        return Channel.ALIPAY
    raise ValidationFailed(
        "无法识别的付款码（微信付款码 18 位、以 10–15 开头；支付宝以 25–30 开头）",
        field="auth_code",
    )


def micropay_take(
    *,
    user: User,
    account: Account,
    bill_ids: list[int],
    auth_code: str,
    pay_ahead: str = "",
    expected: Decimal | str | None = None,
) -> PaymentOrder:
    """收银台 takes the owner's WeChat/Alipay payment code for ``bill_ids`` through the same orders
    and the same exactly-once posting. Returns the order: paid (posted), or open while the payer
    confirms on the phone (the window asks again with ``order_refresh``).

    ``pay_ahead`` is the window's 预交 choice (``"fee item id:months"``, one of
    ``window_ahead_choices``): the order then carries that fee item and months, priced by
    ``payments.ahead`` exactly as the cash path prices it, with every open bill; the months are
    billed only when the platform says paid (``order_settle``). ``expected`` is the total the panel
    showed the cashier: an order for another figure is refused before the platform is asked."""
    if role_in(user, account.project_id) not in roles.COLLECTOR_ROLES:
        raise NotInScope("您的角色不能收费。")
    channel = channel_of_auth_code(auth_code)
    choice = window_ahead_choice(account, pay_ahead, timezone.localdate()) if pay_ahead else None
    order = order_create(
        account=account,
        bill_ids=bill_ids,
        channel=channel,
        scene=Scene.MICROPAY,
        pay_ahead_months=choice.months if choice else 0,
        pay_ahead_fee_item=choice.fee_item if choice else None,
        expected_amount=expected,
        created_by=user,
    )
    try:
        trade = channel_for(channel).micropay(order, auth_code.strip())
    except ChannelError as exc:
        PaymentOrder.objects.filter(pk=order.pk).update(
            status=OrderStatus.FAILED, last_error=str(exc)[:200]
        )
        raise ValidationFailed(str(exc), code="payments.channel_error", field="auth_code") from exc
    return _apply_trade(order, trade, source="micropay")
