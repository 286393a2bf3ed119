"""Bank statements in the browser: finance uploads a statement exported from web banking, confirms the
preview's mapping, sees the automatic matches, then resolves the rest from 待认领款 — one suggestion in
one click, one unidentified line by searching the household."""

import pytest
from playwright.sync_api import expect

from tests.banking import factories as f
from tests.banking.test_statements import xlsx
from wuye.banking.models import StatementLine
from wuye.core.roles import Role
from wuye.ledger.models import Payment

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

STATEMENT = [
    ["中国工商银行 账户明细"],
    ["账号：6222020200112233445", None, "户名：锦绣花园物业服务中心"],
    [],
    [
        "交易日期",
        "交易时间",
        "摘要",
        "收入金额(元)",
        "支出金额(元)",
        "对方户名",
        "对方账号",
        "附言",
        "交易流水号",
    ],
    [
        "2026-11-30",
        "09:12:30",
        "转账",
        "600.00",
        "",
        "张三",
        "6217000011112222",
        "5栋1单元803物业费",
        "SN001",
    ],
    ["2026-11-30", "10:00:00", "手续费", "", "5.00", "", "", "", "SN002"],
    ["2026-12-01", "11:30:00", "转账", "77.00", "", "李四", "", "物业费", "SN003"],
    ["2026-12-01", "15:02:00", "转账", "500.00", "", "王建国", "", "交费", "SN004"],
    ["合计", None, None, "1177.00", "5.00"],
]


@pytest.fixture
def finance_user(project, make_user):
    user = make_user("caiwu", Role.FINANCE, project)
    user.set_password("wuye-e2e-pass")
    user.save()
    item = f.fee_item(project)
    a = f.account(project, "5-1-803", owner="张三")
    b = f.account(project, "5-2-803", owner="李四")
    f.monthly_bills(a, item, f.D(2025, 1, 1), 3, "200.00")
    f.monthly_bills(b, item, f.D(2025, 1, 1), 2, "150.00")
    return user


def test_finance_imports_a_statement_and_resolves_the_queue(
    live_server, page, finance_user, screenshot_dir, tmp_path
):
    path = tmp_path / "工行11月.xlsx"
    path.write_bytes(xlsx(STATEMENT))
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "caiwu")
    page.fill("#id_password", "wuye-e2e-pass")
    page.press("#id_password", "Enter")
    page.click("nav summary:has-text('收费')")
    page.get_by_role("link", name="银行流水").click()
    page.set_input_files("#id_file", str(path))
    page.get_by_role("button", name="上传并预览").click()

    expect(page.locator("h1")).to_contain_text("流水导入预览")
    expect(page.locator("#summary")).to_contain_text("6222020200112233445")
    expect(page.locator("#incoming-count")).to_have_text("3")
    page.click("#mapping summary")
    expect(page.locator("#map-credit")).to_have_value("4")  # 收入金额(元) found by its synonym
    page.screenshot(path=str(screenshot_dir / "bank-import-preview.png"), full_page=True)
    page.get_by_role("button", name="确认导入并自动匹配").click()

    expect(page.locator(".messages")).to_contain_text("自动入账 1 笔，待认领 2 笔")
    expect(page.locator("#lines")).to_contain_text("5-1-803 600.00（自动匹配）")
    page.screenshot(path=str(screenshot_dir / "bank-import-result.png"), full_page=True)

    page.click("nav summary:has-text('收费')")
    page.get_by_role("link", name="待认领款").click()
    expect(page.locator("#queue tbody tr")).to_have_count(2)
    page.screenshot(path=str(screenshot_dir / "bank-queue.png"), full_page=True)
    page.get_by_role("button", name="确认 5-2-803").click()
    expect(page.locator(".messages")).to_contain_text("已认领并入账：5-2-803 77.00 元")
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
