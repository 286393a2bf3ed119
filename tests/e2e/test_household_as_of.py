"""Issue 16 item 4 in the browser: 查询某日欠费 on the household page lists the bills as of that day."""

import pytest
from playwright.sync_api import expect

from tests.ledger import factories
from tests.ledger.factories import D
from wuye.core.roles import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_as_of_query_lists_the_bills_unpaid_on_that_day(
    live_server, page, project, make_user, screenshot_dir
):
    cashier = make_user("shouyin", Role.CASHIER, project)
    cashier.set_password("wuye-e2e-pass")
    cashier.save()
    account = factories.account(project, "3-2-1502", owner="张三")
    item = factories.fee_item(project)
    factories.bill(account, item, "100.00", D(2024, 1, 1))
    factories.bill(account, item, "120.50", D(2024, 2, 1))
    factories.pay(cashier, account, "220.50", business_date=D(2024, 3, 1))

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "shouyin")
    page.fill("#id_password", "wuye-e2e-pass")
    page.press("#id_password", "Enter")
    page.goto(f"{live_server.url}/rooms/{account.room_id}/")
    expect(page.locator("#unpaid-bills")).to_contain_text("没有未缴账单")
    page.fill("#owed-on-date", "2024-02-20")
    page.locator("form.owed-on button").click()
    expect(page.locator("#owed-then")).to_contain_text("截至 2024-02-20")
    expect(page.locator("#unpaid-bills tbody tr")).to_have_count(2)
    expect(page.locator("#bills-as-of")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "household-as-of.png"), full_page=True)
