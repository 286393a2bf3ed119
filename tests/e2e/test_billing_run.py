"""A manager previews the month's billing, commits it and watches the progress reach 100%."""

import datetime
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.billing.conftest import fee_item, room
from wuye.billing import runs, services
from wuye.core.roles import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
D = datetime.date


@pytest.fixture
def seeded(project, make_user):
    user = make_user("jingli", Role.PROJECT_MANAGER, project)
    user.set_password("wuye-e2e-pass")
    user.save()
    fee_item(project, "WYF", "area", "2.50", name="物业服务费", sort=1)
    fee_item(project, "LJ", "fixed", "10", name="垃圾处理费", sort=2)
    fee_item(project, "SF", "metered", "3.50", name="水费", sort=3)
    for n in range(1, 7):
        room(project, f"1-1-{n}01", area=f"{80 + n * 10}.00", owner=f"业主{n}")
    room(project, "2-1-101", area=None, owner="无面积")
    return user


def login(page, live_server):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "jingli")
    page.fill("#id_password", "wuye-e2e-pass")
    page.click("button[type=submit]")


def test_manager_previews_and_commits_the_months_bills(live_server, page, seeded, screenshot_dir):
    login(page, live_server)
    page.click("nav summary:has-text('收费')")  # the 收费 menu
    page.click("nav >> text=计费")
    expect(page.locator("h1")).to_contain_text("计费")
    page.fill("#id_period", "2026-11")
    page.click("button:has-text('预览')")

    expect(page.locator("h1")).to_contain_text("2026-11")
    expect(page.locator(".figures")).to_contain_text("13")  # 6 物业费 + 7 垃圾费
    expect(page.locator("#exceptions")).to_contain_text("2-1-101")
    expect(page.locator("#exceptions")).to_contain_text("未登记面积")
    page.screenshot(path=str(screenshot_dir / "billing-run-preview.png"), full_page=True)

    page.click("#commit")
    progress = page.locator("#progress")
    expect(progress).to_contain_text("100%", timeout=15_000)
    expect(progress).to_contain_text("已生成 13 / 13 张账单")
    expect(page.locator("h1")).to_contain_text("已生成")
    page.screenshot(path=str(screenshot_dir / "billing-run-committed.png"), full_page=True)


def test_billing_pages_render_for_a_manager(live_server, page, seeded, project, screenshot_dir):
    water = project.fee_items.get(code="SF")
    services.late_fee_rule_set(
        user=None, project=project, enabled=True, daily_rate="0.003", start_date=D(2026, 1, 1)
    )
    login(page, live_server)
    page.click("nav summary:has-text('收费')")  # the 收费 menu
    page.click("nav >> text=收费项目")
    expect(page.locator("table")).to_contain_text("物业服务费")
    page.screenshot(path=str(screenshot_dir / "billing-fee-items.png"), full_page=True)

    page.click("text=物业服务费")
    page.fill("#id_unit_price", "-1")
    page.fill("#id_valid_from", "2027-01-01")
    page.click("button:has-text('添加标准')")
    expect(page.locator("#id_unit_price-error")).to_have_text("单价不能为负")
    page.screenshot(path=str(screenshot_dir / "billing-fee-item-error.png"), full_page=True)

    building = project.buildings.get(code="1")
    page.goto(
        f"{live_server.url}/billing/readings/?fee_item={water.pk}&building={building.pk}&period=2026-11"
    )
    first = page.locator("input.current").first
    expect(first).to_be_focused()
    page.locator("input[name^=previous_]").first.fill("100")
    first.fill("90")
    first.press("Enter")
    expect(page.locator("input.current").nth(1)).to_be_focused()
    page.click("button:has-text('保存本页读数')")
    expect(page.locator(".field-error").first).to_contain_text("低于上期读数")
    page.screenshot(path=str(screenshot_dir / "billing-readings-error.png"), full_page=True)

    page.goto(f"{live_server.url}/billing/late-fees/")
    expect(page.locator(".rates")).to_contain_text("合同利率高于上限")
    page.screenshot(path=str(screenshot_dir / "billing-late-fees.png"), full_page=True)

    runs.run_commit(
        run=runs.run_preview(project=project, period_start=D(2026, 11, 1), user=None),
        user=None,
    )
    r = project.rooms.get(code="1-1-101")
    page.goto(f"{live_server.url}/rooms/{r.pk}/")
    page.click("text=减免与补偿")
    expect(page.locator("table")).to_contain_text(str(Decimal("225.00")))
    page.screenshot(path=str(screenshot_dir / "billing-room-adjust.png"), full_page=True)

    page.goto(f"{live_server.url}/billing/settings/")
    page.screenshot(path=str(screenshot_dir / "billing-settings.png"), full_page=True)
