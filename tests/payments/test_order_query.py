"""The periodic order query (主动查单): a lost callback is caught; expired orders are closed on the
platform; a callback racing the query still posts once."""

import datetime

from tests.payments.helpers import order_for, post_wechat, wechat_paid
from wuye.ledger.models import Payment
from wuye.payments import services
from wuye.payments.enums import OrderStatus


def _later(minutes=2):
    return datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=minutes)


def test_order_query_catches_a_lost_callback(payments_fake, household):
    order = order_for(household)
    payments_fake.wechat.pay(order.out_trade_no)  # paid, but the callback never arrives
    counts = services.orders_sweep(now=_later())
    assert counts["paid"] == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.payment.lines.get().reference == order.transaction_id


def test_alipay_order_query_catches_a_lost_callback(payments_fake, household):
    order = order_for(household, channel="alipay", scene="qr")
    payments_fake.alipay.pay(order.out_trade_no)
    services.orders_sweep(now=_later())
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_callback_after_the_query_posted_it_pays_once(payments_fake, household):
    order = order_for(household)
    headers, body = wechat_paid(payments_fake, order)
    services.order_refresh(order)
    assert post_wechat(headers, body).status_code == 204
    assert Payment.objects.filter(account=household).count() == 1


def test_expired_unpaid_order_is_closed_on_the_platform(payments_fake, household):
    order = order_for(household)
    counts = services.orders_sweep(now=_later(20))
    assert counts["expired"] == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.EXPIRED
    assert payments_fake.wechat.trades[order.out_trade_no]["state"] == "CLOSED"


def test_expired_alipay_order_is_closed_on_the_platform(payments_fake, household):
    order = order_for(household, channel="alipay", scene="qr")
    services.orders_sweep(now=_later(20))
    order.refresh_from_db()
    assert order.status == OrderStatus.EXPIRED
    assert payments_fake.alipay.trades[order.out_trade_no]["status"] == "TRADE_CLOSED"


def test_young_open_order_is_left_alone(payments_fake, household):
    order_for(household)
    assert services.orders_sweep()["checked"] == 0


def test_order_paid_just_before_expiry_is_posted_not_expired(payments_fake, household):
    order = order_for(household)
    payments_fake.wechat.pay(order.out_trade_no)
    services.orders_sweep(now=_later(20))
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
