"""Issue 17 items 4, 7, 8 in a browser: finding who owes (search and building view), the building's
floors and arrears colours, the error pages, the audit lines and the admin in Chinese."""

import datetime

import pytest
from playwright.sync_api import expect

from tests.dunning import factories
from tests.e2e.test_dashboard import seeded  # noqa: F401  (the dashboard's manager and bills)
from wuye.core.audit import audit_record
from wuye.core.models import User
from wuye.core.roles import Role
from wuye.dunning.enums import Stage
from wuye.dunning.models import ArrearsCase
from wuye.registry import services
from wuye.registry.models import Building

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
DAY = datetime.timedelta(days=1)
PASSWORD = "wuye-e2e-pass"


def login(page, live_server, username):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator(".topbar")).to_be_visible()
    page.wait_for_load_state("load")  # the page's scripts (deferred) have bound their handlers


@pytest.fixture
def supervisor(make_user, project):
    user = make_user("zhuguan", Role.SUPERVISOR, project)
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture
def building_with_debts(project):
    """Building 8, unit 1, floors 17 and 18 with four rooms each; some owe, one in a case, one legal."""
    item = factories.fee_item(project)
    today = factories.today()
    accounts = {}
    for floor in (17, 18):
        for n in (1, 2, 3, 4):
            code = f"8-1-{floor}{n:02d}"
            accounts[code] = factories.debtor(
                project, code, owner=f"王{floor}{n}", phones=(f"1381234{floor}{n:02d}",)
            )
    for code, amount in (("8-1-1802", "1200.00"), ("8-1-1703", "860.50"), ("8-1-1804", "3600.00")):
        factories.bill(accounts[code], item, amount, today - 60 * DAY, today - 40 * DAY)
    factories.run(project)
    ArrearsCase.objects.filter(account=accounts["8-1-1703"]).update(state="closed", closed_on=today)
    ArrearsCase.objects.filter(account=accounts["8-1-1802"]).update(case_class="B")
    ArrearsCase.objects.filter(account=accounts["8-1-1804"]).update(
        case_class="E", stage=Stage.LEGAL
    )
    services.room_create(user=None, project=project, code="8-2-101")
    return Building.objects.get(project=project, code="8")


def test_search_shows_arrears_and_says_when_cut(
    live_server, page, supervisor, building_with_debts, screenshot_dir, settings
):
    settings.WUYE_SEARCH_LIMIT = 5
    login(page, live_server, "zhuguan")
    page.fill("#q", "王")
    hits = page.locator("#search-results a.hit")
    expect(hits.filter(has_text="8-1-1703")).to_contain_text("欠 ¥860.50")
    expect(page.locator("#search-results a.more")).to_contain_text("只显示了前 5 条")
    page.screenshot(path=str(screenshot_dir / "search-arrears-cut.png"))
    page.locator("#search-results a.more").click()
    expect(page.locator("h1")).to_contain_text("搜索结果")
    expect(page.locator(".search-list a.hit")).to_have_count(8)
    expect(page.locator(".search-list")).to_contain_text("律师函/诉讼")
    page.screenshot(path=str(screenshot_dir / "search-all.png"), full_page=True)


def test_building_view_floors_and_arrears_colours(
    live_server, page, supervisor, building_with_debts, screenshot_dir
):
    login(page, live_server, "zhuguan")
    page.goto(f"{live_server.url}/buildings/{building_with_debts.id}/")
    rows = page.locator(".card").first.locator(".floor-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator(".num")).to_have_text(["1801", "1802", "1803", "1804"])
    expect(rows.nth(1).locator(".num")).to_have_text(["1701", "1702", "1703", "1704"])
    page.screenshot(path=str(screenshot_dir / "building-occupancy.png"), full_page=True)
    page.click("text=按欠费")
    expect(page.locator("#legend")).to_contain_text("律师函/诉讼")
    expect(page.locator("a.room.lv-case")).to_contain_text("1802")
    expect(page.locator("a.room.lv-overdue")).to_contain_text("1703")
    expect(page.locator("a.room.lv-legal")).to_contain_text("¥3600")
    page.screenshot(path=str(screenshot_dir / "building-arrears.png"), full_page=True)


def test_error_pages_in_chinese_with_a_way_home(
    live_server, page, make_user, project, screenshot_dir
):
    steward = make_user("louguan", Role.STEWARD, project)
    steward.set_password(PASSWORD)
    steward.save()
    login(page, live_server, "louguan")
    page.goto(f"{live_server.url}/no-such-page/")
    expect(page.locator("#error-page h1")).to_contain_text("页面不存在")
    expect(page.locator(".topbar")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "error-404.png"))
    page.goto(f"{live_server.url}/audit/")
    expect(page.locator("#error-page h1")).to_contain_text("没有权限")
    expect(page.locator("#error-page")).to_contain_text("楼管")
    page.screenshot(path=str(screenshot_dir / "error-403.png"))
    page.click("#error-home")  # home (a steward is then taken on to today's list)
    expect(page.locator("#error-page")).to_have_count(0)


def test_audit_log_lines_and_admin_in_chinese(live_server, page, company, project, screenshot_dir):
    root = User.objects.create_superuser("root", "root@example.com", PASSWORD, company=company)
    audit_record(
        user=root,
        action="打印收据",
        project=project,
        changes={"paper": "a4", "is_reprint": False},
    )
    audit_record(
        user=root,
        action="修改分类",
        project=project,
        model="dunning.ArrearsCase",
        changes={"class": ["A", "C"], "reason": "电话停机"},
    )
    login(page, live_server, "root")
    page.goto(f"{live_server.url}/audit/")
    expect(page.locator("td.changes").first).to_contain_text("分类：A 近期交纳 → C 无法联系")
    expect(page.locator("table")).to_contain_text("补打：否")
    expect(page.locator("table")).not_to_contain_text("{'")
    page.screenshot(path=str(screenshot_dir / "audit-lines.png"))
    page.goto(f"{live_server.url}/admin/")
    expect(page.locator("#content-main")).to_contain_text("后台任务记录")
    expect(page.locator("#content-main")).to_contain_text("收据打印记录")
    expect(page.locator("#content-main")).not_to_contain_text("Task results")
    page.screenshot(path=str(screenshot_dir / "admin-index.png"), full_page=True)


def test_rate_tooltips_show_percent(browser, live_server, seeded, screenshot_dir):  # noqa: F811
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "jingli")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/reports/?as_of=2025-06-30&window=year")
    page.wait_for_function("window.wuyeCharts && window.wuyeCharts.length === 4")
    x, y = page.evaluate(
        """() => {
          const chart = window.wuyeCharts[0];
          const box = chart.getDom().getBoundingClientRect();
          const [x, y] = chart.convertToPixel({xAxisIndex: 0, yAxisIndex: 0}, [5, 50]);
          return [box.left + x, box.top + y];
        }"""
    )
    page.mouse.move(x, y)
    tip = page.locator("div").filter(has_text="当期收缴率").filter(has_text="元").last
    expect(tip).to_contain_text("%")
    expect(tip).to_contain_text("元")
    page.locator("#chart-trend").screenshot(path=str(screenshot_dir / "chart-rate-tooltip.png"))
