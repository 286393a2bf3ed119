"""Shortcuts: an order, a payment on the fake platform, and its callback through the real view."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.test import Client
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from wuye.billing import fee_settings, pay_ahead
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


# --- 预交: a pay-ahead offer, and hypothesis's range of offers (online and at the window) ---------

AHEAD_EXAMPLES = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
AHEAD_OFFERS = {
    "min_months": st.integers(min_value=1, max_value=12),
    "rate": st.decimals(min_value=Decimal("0"), max_value=Decimal("0.3"), places=3),
    "free": st.integers(min_value=0, max_value=2),
    "price": st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999.99"), places=2),
}


def ahead_rule(item, manager, months=12, rate="0.05", free=0, name="预交一年九五折"):
    return pay_ahead.pay_ahead_rule_add(
        user=None,
        fee_item=item,
        name=name,
        min_months=months,
        valid_from=datetime.date(2020, 1, 1),
        approved_by=manager,
        discount_rate=rate,
        free_months=free,
    )


def ahead_offer(item, manager, *, min_months, rate, free, price):
    """The item at ``price`` a month and a rule of ``min_months`` (hypothesis's draw; a rule needs a
    discount or free months, so a zero rate gives one free month)."""
    fee_settings.fee_standard_add(
        user=None, fee_item=item, unit_price=price, valid_from=datetime.date(2020, 1, 1)
    )
    ahead_rule(item, manager, months=min_months, rate=str(rate), free=free or int(rate == 0))
