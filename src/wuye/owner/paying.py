"""The owner page's side of an online payment: orders through wuye.payments (one interface for
WeChat Pay and Alipay), for the link's own account only."""

from __future__ import annotations

from wuye.core.errors import ValidationFailed
from wuye.owner.models import OwnerLink

CHANNELS = {"wechat": "微信支付", "alipay": "支付宝"}


def scene_for(user_agent: str) -> str:
    """JSAPI inside WeChat, H5 in another phone browser, a QR code (Native) on a desktop."""
    ua = (user_agent or "").lower()
    if "micromessenger" in ua:
        return "jsapi"
    if any(word in ua for word in ("mobile", "android", "iphone")):
        return "h5"
    return "native"


def order_create(
    link: OwnerLink,
    *,
    bill_ids: list[int],
    channel: str,
    scene: str,
    pay_ahead_months: int = 0,
    client_ip: str = "",
    openid: str = "",
):
    from wuye.payments import services  # noqa: PLC0415 - the app lands beside this one

    if channel not in CHANNELS:
        raise ValidationFailed("请选择微信支付或支付宝", field="channel")
    if not bill_ids and not pay_ahead_months:
        raise ValidationFailed("本户没有待缴费用", field="bill_ids")
    return services.order_create(
        account=link.account,
        bill_ids=bill_ids,
        channel=channel,
        scene=scene,
        openid=openid,
        pay_ahead_months=pay_ahead_months,
        client_ip=client_ip,
    )


def order_of(link: OwnerLink, out_trade_no: str, *, refresh: bool = True):
    """The household's order ``out_trade_no`` (refreshed from the platform while open), or
    ``None`` — an order of another household is not found."""
    from wuye.payments import selectors, services  # noqa: PLC0415

    order = selectors.order_by_no(out_trade_no)
    if order is None or order.account_id != link.account_id:
        return None
    if refresh and order.status == "open":
        services.order_refresh(order)
        order = selectors.order_by_no(out_trade_no)
    return order
