"""The staff pages: orders with finance's issues, an order with its refund form, the reconciliation
page per day and channel with its Excel export; other projects' orders stay out."""

import datetime
import io

import openpyxl
import pytest

from tests.payments.helpers import order_for, post_wechat, wechat_paid
from wuye.payments.models import PaymentOrder


@pytest.fixture
def paid(payments_fake, household):
    order = order_for(household)
    post_wechat(*wechat_paid(payments_fake, order, paid=100))  # wrong amount: an issue
    return order


def test_orders_page_lists_orders_and_finance_issues(client, cashier, paid):
    client.force_login(cashier)
    page = client.get("/payments/").content.decode()
    assert paid.account.room.code in page
    assert "支付金额与订单不符" in page


def test_order_of_another_project_is_not_found(client, make_user, other_project, paid):
    from wuye.core.roles import Role

    stranger = make_user("stranger", Role.CASHIER, other_project)
    client.force_login(stranger)
    assert client.get(f"/payments/orders/{paid.pk}/").status_code == 404


def test_reconciliation_page_and_export(client, finance, payments_fake, household):
    order = order_for(household)
    post_wechat(*wechat_paid(payments_fake, order))
    day = datetime.date.today() - datetime.timedelta(days=1)
    trade = payments_fake.wechat.trades[order.out_trade_no]
    when = datetime.datetime.fromisoformat(trade["success_time"]) - datetime.timedelta(days=1)
    trade["success_time"] = when.isoformat()
    PaymentOrder.objects.filter(pk=order.pk).update(paid_at=when)
    client.force_login(finance)
    response = client.post("/payments/reconciliation/run/", {"day": day, "channel": "wechat"})
    assert response.status_code == 302
    page = client.get(f"/payments/reconciliation/?day={day}&channel=wechat").content.decode()
    assert "一致" in page and household.room.code in page
    export = client.get(f"/payments/reconciliation.xlsx?day={day}&channel=wechat")
    sheet = openpyxl.load_workbook(io.BytesIO(export.content)).active
    values = [c.value for row in sheet.iter_rows() for c in row]
    assert order.out_trade_no in values


def test_cashier_cannot_open_the_reconciliation(client, cashier, payments_fake):
    client.force_login(cashier)
    assert client.get("/payments/reconciliation/").status_code == 403
