"""Paying from the owner page through wuye.payments and its fake WeChat Pay."""

import pytest

from wuye.billing.models import Bill
from wuye.ledger.selectors.window import unpaid_bills
from wuye.payments.models import PaymentOrder

pytestmark = pytest.mark.django_db
PHONE = {"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"}


def test_paying_two_months_from_the_page_posts_them_and_shows_the_receipt(
    verified_client, token, acct, payments_fake
):
    page = verified_client.post(
        f"/o/{token}/pay/", {"channel": "wechat", "up_to": "2025-02"}, headers=PHONE
    )
    assert page.status_code == 302
    order = PaymentOrder.objects.get()
    assert order.scene == "h5" and order.account_id == acct.pk
    assert sorted(order.bills.values_list("bill_id", flat=True)) == sorted(
        Bill.objects.filter(account=acct).order_by("period_start").values_list("pk", flat=True)[:2]
    )
    payments_fake.wechat.pay(order.out_trade_no)  # the owner confirms on the platform
    shown = verified_client.get(page["Location"]).content.decode()
    assert 'id="paid"' in shown and 'id="receipt"' in shown
    assert len(unpaid_bills(acct)) == 4


def test_a_forwarded_link_can_pay_everything_but_not_choose(client, token, acct, payments_fake):
    client.post(f"/o/{token}/pay/", {"channel": "alipay", "up_to": "2025-01"}, headers=PHONE)
    order = PaymentOrder.objects.get()
    assert order.bills.count() == 6 and order.scene == "wap"


def test_another_households_order_is_not_found(client, token, other_acct, payments_fake):
    from wuye.owner import links

    other = links.token_for(links.link_for(other_acct))
    client.post(f"/o/{other}/pay/", {"channel": "wechat"}, headers=PHONE)
    theirs = PaymentOrder.objects.get()
    assert client.get(f"/o/{token}/orders/{theirs.out_trade_no}/").status_code == 404
