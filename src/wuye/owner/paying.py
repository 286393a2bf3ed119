"""The owner page's side of an online payment: orders through wuye.payments (one interface for
WeChat Pay and Alipay), for the link's own account only."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils import timezone

from wuye.core.errors import ValidationFailed
from wuye.owner.models import OwnerLink
from wuye.payments import notices as payment_notices
from wuye.payments import selectors as payment_selectors
from wuye.payments import services as payment_services
from wuye.payments.channels import wechat_oauth
from wuye.payments.enums import Channel, OrderStatus

CHANNELS = dict(Channel.choices)


def allow_skip(link: OwnerLink) -> bool:
    """Whether the project lets an owner pay a later bill before an older one (线上缴费设置)."""
    return payment_services.payment_settings(link.project_id).allow_skip_older


def in_wechat(user_agent: str) -> bool:
    """WeChat's own browser (公众号 pages, links opened in a chat): JSAPI, not H5, pays there."""
    return "micromessenger" in (user_agent or "").lower()


def jsapi_ready(channel: str, user_agent: str) -> bool:
    """Whether paying with WeChat here goes through the official account's OAuth step and JSAPI:
    inside WeChat, with an official account AppID and AppSecret configured (or the fake)."""
    return channel == Channel.WECHAT and in_wechat(user_agent) and wechat_oauth.oauth_ready()


def scene_for(channel: str, user_agent: str) -> str:
    """A phone browser pays on the platform's phone page (WeChat H5, Alipay wap); a desktop shows
    a QR code (WeChat Native, Alipay precreate). Inside WeChat, WeChat Pay is JSAPI with the payer's
    openid (``jsapi_ready``: the page takes the OAuth step first); without an official account
    configured it falls back to H5."""
    ua = (user_agent or "").lower()
    phone = any(word in ua for word in ("mobile", "android", "iphone", "micromessenger"))
    if channel == Channel.ALIPAY:
        return "wap" if phone else "qr"
    if jsapi_ready(channel, user_agent):
        return "jsapi"
    return "h5" if phone else "native"


def order_create(
    link: OwnerLink,
    *,
    bill_ids: list[int],
    channel: str,
    scene: str,
    pay_ahead_months: int = 0,
    client_ip: str = "",
    openid: str = "",
    return_url: str = "",
):
    if channel not in CHANNELS:
        raise ValidationFailed("请选择微信支付或支付宝", field="channel")
    if not bill_ids and not pay_ahead_months:
        raise ValidationFailed("本户没有待缴费用", field="bill_ids")
    # Anyone holding the link may order without a code, and each order asks the platform for one.
    per_hour = int(getattr(settings, "WUYE_OWNER_ORDERS_PER_HOUR", 20))
    since = timezone.now() - datetime.timedelta(hours=1)
    if payment_selectors.owner_orders_since(link.account_id, since) >= per_hour:
        raise ValidationFailed(
            f"下单过于频繁（每小时最多 {per_hour} 次），请稍后再试",
            field="channel",
        )
    return payment_services.order_create(
        account=link.account,
        bill_ids=bill_ids,
        channel=channel,
        scene=scene,
        openid=openid,
        pay_ahead_months=pay_ahead_months,
        client_ip=client_ip,
        return_url=return_url,
    )


def order_of(link: OwnerLink, out_trade_no: str, *, refresh: bool = True):
    """The household's order ``out_trade_no`` (asked of the platform while open: 主动查单), or
    ``None`` — an order of another household is not found."""
    order = payment_selectors.order_by_no(out_trade_no)
    if order is None or order.account_id != link.account_id:
        return None
    if refresh and order.status == OrderStatus.OPEN:
        # A callback stored but not yet posted by the queue: post it now; else ask the platform.
        order = payment_notices.notice_settle_pending(order)
    if refresh and order.status == OrderStatus.OPEN:
        order = payment_services.order_refresh(order)
    return order


def latest_order_no(link: OwnerLink) -> str:
    order = (
        payment_selectors.orders_in([link.project_id])
        .filter(account_id=link.account_id)
        .order_by("-created_at", "-id")
        .first()
    )
    return order.out_trade_no if order else ""
