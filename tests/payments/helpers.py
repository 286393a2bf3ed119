"""Shortcuts: an order, a payment on the fake platform, and its callback through the real view."""

from __future__ import annotations

from django.test import Client

from wuye.payments import services

WECHAT_URL = "/payments/notify/wechat/"
ALIPAY_URL = "/payments/notify/alipay/"


def order_for(account, *, n: int | None = None, channel="wechat", scene="native"):
    bills = account.test_bills if n is None else account.test_bills[:n]
    return services.order_create(
        account=account, bill_ids=[b.pk for b in bills], channel=channel, scene=scene
    )


def post_wechat(headers: dict, body: bytes, client: Client | None = None):
    client = client or Client()
    return client.post(WECHAT_URL, data=body, content_type="application/json", headers=headers)


def post_alipay(body: bytes, client: Client | None = None):
    client = client or Client()
    return client.post(
        ALIPAY_URL, data=body, content_type="application/x-www-form-urlencoded; charset=utf-8"
    )


def wechat_paid(fake, order, **kwargs):
    """The payer pays on the fake WeChat Pay; returns the callback (headers, body)."""
    fake.wechat.pay(order.out_trade_no, **kwargs)
    return fake.wechat.pay_notification(order.out_trade_no)


def alipay_paid(fake, order, **kwargs) -> bytes:
    fake.alipay.pay(order.out_trade_no, **kwargs)
    return fake.alipay.notification(order.out_trade_no)
