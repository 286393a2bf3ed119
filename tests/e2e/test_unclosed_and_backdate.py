"""Issue 13 item 12 in the browser: the closing page flags an earlier day never closed, and the fee
window asks for a reason and a supervisor's approval when the payment date is before today."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.ledger import factories
from tests.ledger.factories import D
from wuye.core.roles import Role
from wuye.ledger.models import Payment

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_unclosed_day_is_flagged_and_a_back_dated_payment_needs_a_supervisor(
    live_server, page, project, make_user, screenshot_dir
):
    cashier = make_user("shouyin", Role.CASHIER, project)
    cashier.set_password("wuye-e2e-pass")
    cashier.save()
    boss = make_user("zhuguan", Role.SUPERVISOR, project)
    boss.set_password("wuye-e2e-boss")
    boss.save()
    account = factories.account(project, "3-2-1502", owner="张三")
    item = factories.fee_item(project)
    factories.bill(account, item, "256.30", D(2024, 1, 1))
    factories.bill(account, item, "256.30", D(2024, 2, 1))
    three_days_ago = timezone.localdate() - datetime.timedelta(days=3)
    factories.pay(cashier, account, "256.30", business_date=three_days_ago)

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "shouyin")
    page.fill("#id_password", "wuye-e2e-pass")
    page.press("#id_password", "Enter")
    page.goto(f"{live_server.url}/ledger/closing/")
    expect(page.locator("#unclosed-days")).to_contain_text(three_days_ago.isoformat())
    page.screenshot(path=str(screenshot_dir / "closing-unclosed-days.png"), full_page=True)

    page.goto(f"{live_server.url}/ledger/window/rooms/{account.room_id}/")
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    page.fill("#id_business_date", yesterday.isoformat())
    page.locator("#pay").click()
    expect(page.locator("#backdate")).to_contain_text("授权")
    assert Payment.objects.count() == 1
    page.fill("#id_backdate_reason", "停电当天手工收据补录")
    page.fill("#id_approver_username", "zhuguan")
    page.fill("#id_approver_password", "wuye-e2e-boss")
    page.screenshot(path=str(screenshot_dir / "window-backdate.png"), full_page=True)
    page.locator("#pay").click()
    expect(page.locator("body")).to_contain_text("收据")
    assert Payment.objects.filter(business_date=yesterday).count() == 1
