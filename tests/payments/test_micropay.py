"""The window takes a payment code (付款码) through the same interface, posted exactly once."""

from decimal import Decimal

import pytest

from wuye.core.errors import ValidationFailed
from wuye.ledger.models import Payment
from wuye.payments import services
from wuye.payments.enums import OrderStatus

WECHAT_CODE = "134567890123456789"
ALIPAY_CODE = "287654321098765432"


def test_wechat_payment_code_is_taken_and_posted(payments_fake, household, cashier):
    order = services.micropay_take(
        user=cashier,
        account=household,
        bill_ids=[b.pk for b in household.test_bills],
        auth_code=WECHAT_CODE,
    )
    assert order.status == OrderStatus.PAID
    assert order.channel == "wechat"
    assert order.payment.lines.get().reference == order.transaction_id
    assert order.created_by == cashier


def test_alipay_payment_code_is_recognised(payments_fake, household, cashier):
    order = services.micropay_take(
        user=cashier,
        account=household,
        bill_ids=[household.test_bills[0].pk],
        auth_code=ALIPAY_CODE,
    )
    assert (order.channel, order.status, order.amount) == ("alipay", "paid", Decimal("100.00"))


def test_payer_still_confirming_leaves_the_order_open_until_the_query(
    payments_fake, household, cashier
):
    order = services.micropay_take(
        user=cashier,
        account=household,
        bill_ids=[b.pk for b in household.test_bills],
        auth_code="134567890123450000",  # the fake answers USERPAYING
    )
    assert order.status == OrderStatus.OPEN
    payments_fake.wechat.pay(order.out_trade_no)
    services.order_refresh(order)
    services.order_refresh(order)
    assert Payment.objects.filter(account=household).count() == 1


def test_unknown_payment_code_is_refused(payments_fake, household, cashier):
    with pytest.raises(ValidationFailed) as caught:
        services.micropay_take(
            user=cashier, account=household, bill_ids=[household.test_bills[0].pk], auth_code="999"
        )
    assert caught.value.field == "auth_code"


def test_window_shows_the_payment_code_form_and_takes_the_ticked_bills(
    client, payments_fake, household, cashier
):
    client.force_login(cashier)
    page = client.get(f"/ledger/window/rooms/{household.room_id}/").content.decode()
    assert 'id="micropay-form"' in page
    response = client.post(
        f"/payments/accounts/{household.pk}/micropay/",
        {"auth_code": WECHAT_CODE, "bill": [household.test_bills[0].pk]},
    )
    assert response.status_code == 302
    payment = Payment.objects.get(account=household)
    assert response["Location"].endswith(f"/payments/{payment.pk}/done/")
    assert payment.amount == Decimal("100.00")
