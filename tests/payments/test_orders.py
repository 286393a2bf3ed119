"""Orders: the server computes the amount from the chosen bills; bills must be the household's open
bills, oldest first; the platform hands back what the front end needs to pay."""

from decimal import Decimal

import pytest

from wuye.core.errors import ValidationFailed
from wuye.payments import selectors, services
from wuye.payments.enums import OrderStatus
from wuye.payments.models import PaymentSettings


def _ids(account, n=None):
    bills = account.test_bills if n is None else account.test_bills[:n]
    return [b.pk for b in bills]


def test_order_amount_is_computed_from_the_chosen_bills(payments_fake, household):
    order = services.order_create(
        account=household, bill_ids=_ids(household, 2), channel="wechat", scene="native"
    )
    assert order.amount == Decimal("200.00")
    assert order.status == OrderStatus.OPEN
    assert order.pay_params["code_url"].startswith(payments_fake.base_url)
    assert sorted(order.bills.values_list("bill_id", flat=True)) == _ids(household, 2)
    assert selectors.order_by_no(order.out_trade_no) == order
    assert payments_fake.wechat.trades[order.out_trade_no]["total"] == 20000


def test_order_refuses_a_bill_of_another_household(payments_fake, household, project, item):
    from tests.ledger.factories import account, monthly_bills

    other = account(project, owner="李四")
    theirs = monthly_bills(other, item, household.test_bills[0].period_start, 1)
    with pytest.raises(ValidationFailed) as caught:
        services.order_create(
            account=household, bill_ids=[theirs[0].pk], channel="wechat", scene="native"
        )
    assert caught.value.field == "bill_ids"


def test_order_refuses_skipping_an_older_bill(payments_fake, household):
    with pytest.raises(ValidationFailed) as caught:
        services.order_create(
            account=household, bill_ids=[household.test_bills[1].pk], channel="alipay", scene="qr"
        )
    assert caught.value.code == "payments.older_bill_first"


def test_project_may_allow_skipping_an_older_bill(payments_fake, household):
    PaymentSettings.objects.create(project=household.project, allow_skip_older=True)
    order = services.order_create(
        account=household, bill_ids=[household.test_bills[1].pk], channel="alipay", scene="qr"
    )
    assert order.amount == Decimal("100.00")


def test_jsapi_needs_the_payers_openid(payments_fake, household):
    with pytest.raises(ValidationFailed) as caught:
        services.order_create(
            account=household, bill_ids=_ids(household), channel="wechat", scene="jsapi"
        )
    assert caught.value.field == "openid"


def test_jsapi_params_are_signed_by_the_merchant_key(payments_fake, household):
    order = services.order_create(
        account=household,
        bill_ids=_ids(household),
        channel="wechat",
        scene="jsapi",
        openid="o-owner",
    )
    js = order.pay_params["jsapi"]
    text = f"{js['appId']}\n{js['timeStamp']}\n{js['nonceStr']}\n{js['package']}\n"
    assert payments_fake.wechat.merchant.verify(text, js["paySign"])


def test_alipay_wap_order_gives_a_signed_pay_url(payments_fake, household):
    order = services.order_create(
        account=household, bill_ids=_ids(household, 1), channel="alipay", scene="wap"
    )
    assert order.pay_params["pay_url"].startswith(payments_fake.base_url + "/gateway.do?")
    assert "sign=" in order.pay_params["pay_url"]


def test_scene_must_belong_to_the_channel(payments_fake, household):
    with pytest.raises(ValidationFailed) as caught:
        services.order_create(
            account=household, bill_ids=_ids(household), channel="alipay", scene="native"
        )
    assert caught.value.field == "scene"


def test_project_without_online_payment_refuses_orders(payments_fake, household):
    PaymentSettings.objects.create(project=household.project, enabled=False)
    with pytest.raises(ValidationFailed) as caught:
        services.order_create(
            account=household, bill_ids=_ids(household), channel="wechat", scene="native"
        )
    assert caught.value.code == "payments.disabled"
