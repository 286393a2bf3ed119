"""预交 at the fee window, in the browser: the cashier picks 12 months with the yearly offer, the
amount follows the server's new total, F4 pays the open bills and the year at once."""

from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.ledger import factories
from tests.ledger.factories import D
from wuye.billing.models import Bill
from wuye.core.roles import Role
from wuye.ledger.models import Payment

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def seeded(project, make_user):
    user = make_user("shouyin", Role.CASHIER, project)
    user.set_password("wuye-e2e-pass")
    user.save()
    account = factories.account(project, "3-2-1502", owner="张三")
    item = factories.fee_item(project)
    factories.monthly_bills(account, item, D(2025, 1, 1), 2, "100.00")
    factories.yearly_offer(item, make_user("jingli", Role.PROJECT_MANAGER, project))
    return account, item


def at_window(page, live_server, account):
    """The cashier logs in and opens the household's window."""
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "shouyin")
    page.fill("#id_password", "wuye-e2e-pass")
    page.press("#id_password", "Enter")
    page.goto(f"{live_server.url}/ledger/window/rooms/{account.room_id}/")


def test_cashier_takes_a_year_ahead_with_the_open_bills(live_server, page, seeded, screenshot_dir):
    account, item = seeded
    at_window(page, live_server, account)
    expect(page.locator("#amount-1")).to_have_value("200.00")

    page.select_option("#ahead", f"{item.pk}:12")

    summary = page.locator("#summary")
    expect(summary).to_contain_text("1140.00 元")
    expect(summary).to_contain_text("优惠 60.00")
    expect(page.locator("#server-due")).to_have_text("1340.00")
    expect(page.locator("#amount-1")).to_have_value("1340.00")  # the single line follows
    expect(summary).to_contain_text("金额正好")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(screenshot_dir / "window-pay-ahead.png"), full_page=True)

    page.keyboard.press("F4")
    expect(page.locator("#receipt-no")).to_contain_text("No.00000001")
    page.screenshot(path=str(screenshot_dir / "window-pay-ahead-done.png"), full_page=True)
    assert Payment.objects.get().amount == Decimal("1340.00")
    ahead = Bill.objects.filter(period_start__gte=timezone.localdate().replace(day=1))
    assert ahead.count() == 12


def test_cashier_takes_a_year_ahead_by_wechat_payment_code(
    live_server, page, seeded, fake_platforms, screenshot_dir
):
    """付款码 with 预交: the panel's total follows the server's quote incl. the year ahead; the fake
    WeChat payment code pays it; the receipt lists the open bills and the twelve months billed."""
    account, item = seeded
    at_window(page, live_server, account)
    expect(page.locator("#micropay-due")).to_have_text("200.00")

    page.select_option("#ahead", f"{item.pk}:12")

    expect(page.locator("#server-due")).to_have_text("1340.00")
    panel = page.locator("#micropay-form")
    expect(page.locator("#micropay-due")).to_have_text("1340.00")
    expect(panel).to_contain_text("含预交 1140.00 元")
    expect(panel).to_contain_text("预交 12 个月")
    expect(page.locator("#summary")).to_contain_text("金额正好")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(screenshot_dir / "window-micropay-ahead.png"), full_page=True)

    page.fill("#auth_code", "134567890123456789")  # a WeChat payment code, as the scanner types it
    page.press("#auth_code", "Enter")
    expect(page.locator("#receipt-no")).to_contain_text("No.00000001")
    expect(page.locator("#paid-amount")).to_have_text("1340.00")
    ahead = Bill.objects.filter(period_start__gte=timezone.localdate().replace(day=1))
    assert ahead.count() == 12
    last = ahead.order_by("-period_start").first().period_start
    expect(page.locator("body")).to_contain_text(f"{last:%Y-%m}")
    expect(page.locator("body")).to_contain_text("微信支付付款码收款 1340.00 元已入账")
    page.screenshot(path=str(screenshot_dir / "window-micropay-ahead-done.png"), full_page=True)
    payment = Payment.objects.get()
    assert payment.amount == Decimal("1340.00")
    assert payment.online_order.pay_ahead_fee_item_id == item.pk
