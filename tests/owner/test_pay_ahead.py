"""预交 from the owner page and the owner API: every open bill first, then N months ahead under the
project's pay-ahead rule, priced by the server; refused without a rule or beyond the cap."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.ledger import factories as lf
from tests.owner.test_api import _verified_headers
from wuye.billing.models import Bill
from wuye.core.roles import Role
from wuye.ledger.selectors.window import unpaid_bills
from wuye.payments.models import PaymentOrder

pytestmark = pytest.mark.django_db
D = datetime.date
PHONE = {"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"}


@pytest.fixture
def yearly_offer(item, make_user, project):
    """100.00 a month; 预交一年九五折."""
    return lf.yearly_offer(item, make_user("manager", Role.PROJECT_MANAGER, project))


def ahead_bills():
    return Bill.objects.filter(period_start__gte=timezone.localdate().replace(day=1))


def test_the_verified_page_offers_pay_ahead_months_with_the_rule(
    verified_client, token, yearly_offer
):
    shown = verified_client.get(f"/o/{token}/").content.decode()
    assert 'id="ahead-form"' in shown
    assert "12 个月（预交一年九五折，优惠 5%）" in shown
    assert 'value="13"' not in shown  # the cap is 12


def test_an_unverified_page_offers_no_pay_ahead(client, token, yearly_offer):
    shown = client.get(f"/o/{token}/").content.decode()
    assert "ahead-form" not in shown


def test_without_a_rule_the_page_says_so(verified_client, token):
    shown = verified_client.get(f"/o/{token}/").content.decode()
    assert 'id="ahead-none"' in shown and "ahead-form" not in shown


def test_paying_ahead_from_the_page_pays_every_open_bill_and_a_year(
    verified_client, token, acct, payments_fake, yearly_offer
):
    answer = verified_client.post(
        f"/o/{token}/pay/", {"channel": "wechat", "ahead": "12"}, headers=PHONE
    )
    assert answer.status_code == 302
    order = PaymentOrder.objects.get()
    assert (order.pay_ahead_months, order.pay_ahead_amount) == (12, Decimal("1140.00"))
    assert order.amount == Decimal("1740.00")  # six open bills of 100 + 12 × 95
    assert order.bills.count() == 6
    shown = verified_client.get(answer["Location"]).content.decode()
    assert "预交 12 个月 ¥1140.00" in shown
    payments_fake.wechat.pay(order.out_trade_no)
    shown = verified_client.get(answer["Location"]).content.decode()  # the page asks (主动查单)
    assert 'id="paid"' in shown
    assert unpaid_bills(acct) == []
    assert ahead_bills().count() == 12


def test_a_forwarded_link_cannot_pay_ahead(client, token, payments_fake, yearly_offer):
    answer = client.post(f"/o/{token}/pay/", {"channel": "wechat", "ahead": "12"}, headers=PHONE)
    assert answer.status_code == 302 and not PaymentOrder.objects.exists()


def test_api_order_with_pay_ahead(client, acct, token, payments_fake, yearly_offer):
    headers = _verified_headers(client, acct, token)
    bills = client.get("/api/owner/bills", headers=headers).json()
    assert bills["pay_ahead_choices"] == list(range(1, 13))
    answer = client.post(
        "/api/owner/orders",
        {"channel": "wechat", "scene": "native", "pay_ahead_months": 12},
        content_type="application/json",
        headers=headers,
    )
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert Decimal(body["amount"]) == Decimal("1740.00")
    assert (body["pay_ahead_months"], Decimal(body["pay_ahead_amount"])) == (12, Decimal("1140"))


def test_api_refuses_months_beyond_the_cap_naming_the_field(
    client, acct, token, payments_fake, yearly_offer
):
    headers = _verified_headers(client, acct, token)
    answer = client.post(
        "/api/owner/orders",
        {"channel": "wechat", "scene": "native", "pay_ahead_months": 13},
        content_type="application/json",
        headers=headers,
    )
    assert answer.status_code == 400
    assert answer.json()["field"] == "pay_ahead_months"
    assert "超过本项目预收上限 12 个月" in answer.json()["message"]
    assert not PaymentOrder.objects.exists()


def test_api_refuses_pay_ahead_without_a_rule(client, acct, token, payments_fake):
    headers = _verified_headers(client, acct, token)
    answer = client.post(
        "/api/owner/orders",
        {"channel": "wechat", "scene": "native", "pay_ahead_months": 12},
        content_type="application/json",
        headers=headers,
    )
    assert answer.status_code == 400
    assert answer.json()["field"] == "pay_ahead_months"
    assert "预交优惠" in answer.json()["message"]


def test_api_refuses_pay_ahead_with_only_some_open_bills(
    client, acct, token, payments_fake, yearly_offer
):
    headers = _verified_headers(client, acct, token)
    answer = client.post(
        "/api/owner/orders",
        {"channel": "wechat", "scene": "native", "pay_ahead_months": 12, "up_to": "2025-02"},
        content_type="application/json",
        headers=headers,
    )
    assert answer.status_code == 400 and answer.json()["field"] == "bill_ids"
