"""待认领款 in the browser: finance opens the queue from the menu, confirms a suggestion in one click,
and assigns an unidentified line to a household found by search."""

import pytest
from playwright.sync_api import expect

from tests.banking import factories as f
from wuye.banking import services
from wuye.banking.models import StatementLine
from wuye.core.roles import Role
from wuye.ledger.models import Payment

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def finance_with_a_queue(project, make_user):
    user = make_user("caiwu", Role.FINANCE, project)
    user.set_password("wuye-e2e-pass")
    user.save()
    item = f.fee_item(project)
    a = f.account(project, "5-1-803", owner="张三")
    b = f.account(project, "5-2-803", owner="李四")
    f.monthly_bills(a, item, f.D(2025, 1, 1), 3, "200.00")
    f.monthly_bills(b, item, f.D(2025, 1, 1), 2, "150.00")
    bank = f.bank(project)
    services.statement_import(
        user=user,
        account=bank,
        filename="工行流水.xlsx",
        lines=[
            f.line("600.00", name="张三", remark="5栋1单元803物业费"),
            f.line("77.00", name="李四", remark="物业费"),
            f.line("500.00", name="王建国", remark="交费"),
        ],
    )
    return user


def test_finance_resolves_lines_from_the_queue(
    live_server, page, finance_with_a_queue, screenshot_dir
):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "caiwu")
    page.fill("#id_password", "wuye-e2e-pass")
    page.press("#id_password", "Enter")
    page.click("nav summary:has-text('收费')")
    page.get_by_role("link", name="待认领款").click()
    expect(page.locator("#queue tbody tr")).to_have_count(2)  # 张三's line matched by itself
    page.screenshot(path=str(screenshot_dir / "bank-queue.png"), full_page=True)

    page.get_by_role("button", name="确认 5-2-803").click()
    expect(page.locator(".messages")).to_contain_text("已认领并入账：5-2-803 77.00 元")
    expect(page.locator("#claim")).to_contain_text("No.")
    page.screenshot(path=str(screenshot_dir / "bank-line-claimed.png"), full_page=True)

    page.get_by_role("link", name="待认领款").first.click()
    page.get_by_role("row", name="王建国").get_by_role("link", name="处理").click()
    page.fill("#search #q", "5-1-803")
    page.click("#search button:has-text('查找')")
    page.get_by_role("button", name="全部 500.00 元认领到此户").click()
    expect(page.locator("#claim")).to_contain_text("5-1-803")
    page.screenshot(path=str(screenshot_dir / "bank-line-searched.png"), full_page=True)
    assert Payment.objects.count() == 3
    assert not StatementLine.objects.filter(status="review").exists()
