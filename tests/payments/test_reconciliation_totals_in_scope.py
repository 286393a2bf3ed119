"""The reconciliation page and its Excel show a finance user the totals of the lines they may see:
one merchant account's statement covers every project (and company) of the installation, and the
day's figures of a project outside the user's scope are not theirs to read."""

import datetime
import io
from decimal import Decimal

import openpyxl
import pytest

from tests.ledger.factories import account, fee_item, monthly_bills
from tests.payments.helpers import order_for, post_wechat, wechat_paid
from wuye.core.models import Company, Project
from wuye.payments import reconcile
from wuye.payments.models import PaymentOrder

pytestmark = pytest.mark.django_db


def _paid_yesterday(fake, acct, n):
    order = order_for(acct, n=n)
    post_wechat(*wechat_paid(fake, order))
    trade = fake.wechat.trades[order.out_trade_no]
    when = datetime.datetime.fromisoformat(trade["success_time"]) - datetime.timedelta(days=1)
    trade["success_time"] = when.isoformat()
    PaymentOrder.objects.filter(pk=order.pk).update(paid_at=when)
    return order


def test_a_finance_user_sees_the_totals_of_their_own_projects_only(
    client, finance, payments_fake, household
):
    other_company = Company.objects.create(name="别家物业有限公司", short_name="别家")
    theirs = Project.objects.create(company=other_company, code="X001", name="别家小区")
    stranger = account(theirs, owner="王五")
    year = datetime.date.today().year - 1
    stranger.test_bills = monthly_bills(
        stranger, fee_item(theirs, late_fee_applies=False), datetime.date(year, 1, 1), 3, "777.00"
    )
    _paid_yesterday(payments_fake, household, 2)  # ours: 200.00
    _paid_yesterday(payments_fake, stranger, 3)  # theirs: 2331.00
    day = datetime.date.today() - datetime.timedelta(days=1)
    assert reconcile.reconcile_day("wechat", day).platform_amount == Decimal("2531.00")
    client.force_login(finance)
    page = client.get(f"/payments/reconciliation/?day={day}&channel=wechat").content.decode()
    assert "<b>200.00</b>" in page
    assert "2531.00" not in page and "2331.00" not in page
    export = client.get(f"/payments/reconciliation.xlsx?day={day}&channel=wechat")
    values = [
        c.value
        for row in openpyxl.load_workbook(io.BytesIO(export.content)).active.iter_rows()
        for c in row
    ]
    assert Decimal("200.00") in values or 200 in values
    assert not {Decimal("2531.00"), 2531, Decimal("2331.00"), 2331} & set(values)
