"""The 日结单's total to hand to finance separates cash (counted by hand) from electronic payments
(already in the bank), issue 17 item 6."""

from decimal import Decimal

import pytest
from django.utils import timezone

from tests.ledger import factories
from tests.ledger.factories import D
from wuye.ledger.selectors.closing import cashier_day

pytestmark = pytest.mark.django_db


@pytest.fixture
def day(project, cashier):
    account = factories.account(project, "3-2-1502", owner="张三")
    item = factories.fee_item(project)
    factories.bill(account, item, "500.00", D(2024, 1, 1))
    factories.pay(cashier, account, "256.30", method="wechat")
    factories.pay(cashier, account, "100.00", method="cash")
    factories.pay(cashier, account, "40.00", method="card")
    return cashier_day(project, cashier, timezone.localdate())


def test_cash_is_counted_apart_from_electronic_payments(day):
    assert day.cash_handed_over == Decimal("100.00")
    assert day.electronic_handed_over == Decimal("296.30")


def test_cash_and_electronic_add_up_to_the_total_handed_over(day):
    assert day.cash_handed_over + day.electronic_handed_over == day.handed_over


def test_the_closing_sheet_shows_both_lines(client, cashier, day):
    client.force_login(cashier)
    from django.urls import reverse

    html = client.get(reverse("ledger:closing")).content.decode()
    assert 'id="handed-over-cash">100.00' in html
    assert 'id="handed-over-electronic">296.30' in html
    assert "当面点交财务" in html
