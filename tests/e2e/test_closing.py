"""日结 in the browser: a cashier who took money today opens 日结, sees the totals, closes the day and
sees 已日结; the day is then locked."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.ledger import factories
from tests.ledger.factories import D
from wuye.core.roles import Role
from wuye.ledger.selectors.closing import day_is_closed

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def cashier_with_a_payment(project, make_user):
    user = make_user("shouyin", Role.CASHIER, project)
    user.set_password("wuye-e2e-pass")
    user.save()
    account = factories.account(project, "3-2-1502", owner="张三")
    item = factories.fee_item(project)
    factories.bill(account, item, "256.30", D(2024, 1, 1))
    factories.pay(user, account, "256.30", method="wechat")
    factories.pay(user, account, "100.00", method="cash")
    return user


def test_cashier_closes_the_day_and_sees_it_closed(
    live_server, page, cashier_with_a_payment, project, screenshot_dir
):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "shouyin")
    page.fill("#id_password", "wuye-e2e-pass")
    page.press("#id_password", "Enter")
    page.click("nav summary:has-text('收费')")  # the 收费 menu
    page.get_by_role("link", name="日结").click()

    expect(page.locator("#open-badge")).to_have_text("未日结")
    expect(page.locator("#handed-over")).to_have_text("356.30")
    expect(page.locator("#handed-over-cash")).to_have_text("100.00")
    expect(page.locator("#handed-over-electronic")).to_have_text("256.30")
    expect(page.locator("#receipts tbody tr")).to_have_count(2)
    page.screenshot(path=str(screenshot_dir / "closing-open.png"), full_page=True)

    page.once("dialog", lambda dialog: dialog.accept())  # "确认日结？"
    page.locator("#close-day").click()
    expect(page.locator("#closed-badge")).to_have_text("已日结")
    expect(page.locator("#closed-note")).to_contain_text("已锁定")
    expect(page.locator("#close-day")).to_have_count(0)
    page.screenshot(path=str(screenshot_dir / "closing-closed.png"), full_page=True)

    assert day_is_closed(project.pk, cashier_with_a_payment.pk, timezone.localdate())
