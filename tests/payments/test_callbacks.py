"""Callbacks: accepted only with a valid signature, answered as each platform expects, posted through
payment_record exactly once with the platform's transaction id as key and reference."""

import json
from decimal import Decimal

from tests.payments.helpers import (
    alipay_paid,
    order_for,
    post_alipay,
    post_wechat,
    wechat_paid,
)
from wuye.ledger.models import Payment, PaymentLine
from wuye.ledger.selectors.prepaid import prepaid_balance
from wuye.ledger.selectors.window import unpaid_bills
from wuye.payments.enums import IssueKind, OrderStatus
from wuye.payments.fake.keys import KeyPair
from wuye.payments.models import Notification, OrderIssue


def test_wechat_callback_posts_the_payment_with_the_transaction_id(payments_fake, household):
    order = order_for(household, n=2)
    headers, body = wechat_paid(payments_fake, order)
    response = post_wechat(headers, body)
    assert response.status_code == 204
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    line = PaymentLine.objects.get(payment=order.payment)
    assert (line.method, line.amount) == ("wechat", Decimal("200.00"))
    assert line.reference == order.transaction_id
    assert order.payment.idempotency_key == f"wechat-{order.transaction_id}"
    open_ids = [b.pk for b in unpaid_bills(household)]
    assert open_ids == [household.test_bills[2].pk]


def test_alipay_callback_posts_the_payment_and_answers_success(payments_fake, household):
    order = order_for(household, channel="alipay", scene="qr")
    response = post_alipay(alipay_paid(payments_fake, order))
    assert response.content == b"success"
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.payment.lines.get().reference == order.transaction_id


def test_replayed_callback_pays_once(payments_fake, household):
    order = order_for(household)
    headers, body = wechat_paid(payments_fake, order)
    for _ in range(3):
        assert post_wechat(headers, body).status_code == 204
    assert Payment.objects.filter(account=household).count() == 1


def test_callback_signed_with_another_key_is_refused_and_nothing_posted(payments_fake, household):
    order = order_for(household)
    headers, body = wechat_paid(payments_fake, order)
    forger = KeyPair()
    stamp, nonce = headers["Wechatpay-Timestamp"], headers["Wechatpay-Nonce"]
    forged = {**headers, "Wechatpay-Signature": forger.sign(f"{stamp}\n{nonce}\n{body.decode()}\n")}
    response = post_wechat(forged, body)
    assert response.status_code == 400
    assert json.loads(response.content)["code"] == "FAIL"
    assert not Payment.objects.filter(account=household).exists()
    assert Notification.objects.filter(verified=False).count() == 1


def test_altered_wechat_callback_body_is_refused(payments_fake, household):
    order = order_for(household)
    headers, body = wechat_paid(payments_fake, order)
    data = json.loads(body)
    data["resource"]["ciphertext"] = data["resource"]["ciphertext"][:-4] + "AAAA"
    response = post_wechat(headers, json.dumps(data).encode())
    assert response.status_code == 400
    assert not Payment.objects.filter(account=household).exists()


def test_callback_with_an_old_timestamp_is_refused(payments_fake, household):
    order = order_for(household)
    payments_fake.wechat.pay(order.out_trade_no)
    headers, body = payments_fake.wechat.pay_notification(order.out_trade_no)
    stamp = str(int(headers["Wechatpay-Timestamp"]) - 3600)
    nonce = headers["Wechatpay-Nonce"]
    old = {
        **headers,
        "Wechatpay-Timestamp": stamp,
        "Wechatpay-Signature": payments_fake.wechat.platform.sign(
            f"{stamp}\n{nonce}\n{body.decode()}\n"
        ),
    }
    assert post_wechat(old, body).status_code == 400
    assert not Payment.objects.filter(account=household).exists()


def test_altered_alipay_amount_is_refused(payments_fake, household):
    order = order_for(household, channel="alipay", scene="qr")
    body = alipay_paid(payments_fake, order).replace(b"total_amount=300.00", b"total_amount=3.00")
    assert post_alipay(body).content == b"failure"
    assert not Payment.objects.filter(account=household).exists()


def test_alipay_callback_signed_by_a_forger_is_refused(payments_fake, household):
    order = order_for(household, channel="alipay", scene="qr")
    real = payments_fake.alipay.platform
    payments_fake.alipay.platform = KeyPair()
    try:
        body = alipay_paid(payments_fake, order)
    finally:
        payments_fake.alipay.platform = real
    assert post_alipay(body).content == b"failure"
    assert not Payment.objects.filter(account=household).exists()


def test_wrong_amount_is_not_posted_and_finance_is_warned(payments_fake, household):
    order = order_for(household)
    headers, body = wechat_paid(payments_fake, order, paid=100)  # 1 yuan for a 300-yuan order
    assert post_wechat(headers, body).status_code == 204  # received; the platform need not retry
    order.refresh_from_db()
    assert order.payment is None
    assert order.status == OrderStatus.FAILED
    assert OrderIssue.objects.filter(order=order, kind=IssueKind.WRONG_AMOUNT).exists()
    assert not Payment.objects.filter(account=household).exists()


def test_bills_paid_at_the_window_meanwhile_go_to_prepaid_and_finance_is_told(
    payments_fake, household, cashier
):
    from tests.ledger.factories import pay

    order = order_for(household)
    pay(cashier, household, "300.00", bill_ids=[b.pk for b in household.test_bills])
    headers, body = wechat_paid(payments_fake, order)
    assert post_wechat(headers, body).status_code == 204
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert prepaid_balance(household) == Decimal("300.00")
    assert OrderIssue.objects.filter(order=order, kind=IssueKind.BILLS_TAKEN).exists()


def test_part_of_the_bills_paid_at_the_window_pays_the_rest_then_prepaid(
    payments_fake, household, cashier
):
    from tests.ledger.factories import pay

    order = order_for(household)
    pay(cashier, household, "100.00", bill_ids=[household.test_bills[0].pk])
    headers, body = wechat_paid(payments_fake, order)
    post_wechat(headers, body)
    assert unpaid_bills(household) == []
    assert prepaid_balance(household) == Decimal("100.00")


def test_callback_after_the_order_expired_is_still_posted_and_flagged(payments_fake, household):
    order = order_for(household)
    payments_fake.wechat.pay(order.out_trade_no)
    order.status = OrderStatus.EXPIRED
    order.save(update_fields=["status"])
    headers, body = payments_fake.wechat.pay_notification(order.out_trade_no)
    assert post_wechat(headers, body).status_code == 204
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert OrderIssue.objects.filter(order=order, kind=IssueKind.LATE_PAYMENT).exists()


def test_callback_for_an_unknown_order_posts_nothing(payments_fake, household):
    order = order_for(household)
    payments_fake.wechat.pay(order.out_trade_no)
    trade = payments_fake.wechat.trades[order.out_trade_no]
    trade["out_trade_no"] = "WY-NOT-OURS"
    headers, body = payments_fake.wechat.notification(
        payments_fake.wechat.resource(trade), "TRANSACTION.SUCCESS"
    )
    assert post_wechat(headers, body).status_code == 204
    assert not Payment.objects.exists()
