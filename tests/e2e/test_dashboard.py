"""A manager opens the dashboard: the charts render, and a figure, a table number and a chart bar each
open the households behind them."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.ledger.factories import monthly_bills
from tests.reports.builders import D, account, bill, fee_item, pay
from wuye.core.roles import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
# Screenshots for a person to look at (the issue asks for them there); not a secret, not shared state.
SHOTS = Path(os.environ.get("WUYE_SHOTS_DIR", "/tmp/shots"))  # noqa: S108
FILTERS = "as_of=2025-06-30&window=year"


@pytest.fixture
def seeded(project, other_project, make_user):
    manager = make_user("jingli", Role.PROJECT_MANAGER, project)
    manager.set_password("wuye-e2e-pass")
    manager.save()
    cashier = make_user("shouyin", Role.CASHIER, project)
    item = fee_item(project)
    owing = account(project, "1-1-101", owner="张三丰")
    late = account(project, "3-1-301", owner="赵六")
    paid = account(project, "2-1-201", owner="李四")
    bill(owing, item, "100.00", D(2024, 1, 1))
    monthly_bills(owing, item, D(2025, 1, 1), 6)
    monthly_bills(paid, item, D(2025, 1, 1), 6)
    bill(late, item, "880.00", D(2023, 1, 1))  # over two years overdue on 30 June 2025
    pay(cashier, owing, "300.00", business_date=D(2025, 3, 20))
    pay(cashier, paid, "600.00", business_date=D(2025, 6, 1))
    far = account(other_project, "9-9-901", owner="王五")
    bill(far, fee_item(other_project), "9999.00", D(2025, 1, 1))
    return manager


def rooms(page):
    return page.locator("#households-table tbody a.room-code").all_inner_texts()


def test_dashboard_charts_render_and_every_figure_opens_its_households(
    browser, live_server, seeded
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "jingli")
    page.fill("#id_password", "wuye-e2e-pass")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/reports/?{FILTERS}")
    for chart in ("chart-trend", "chart-aging", "chart-classes", "chart-reasons"):
        expect(page.locator(f"#{chart} canvas")).to_have_count(1)
    expect(page.locator("#kpi-owed strong")).to_have_text("1,280.00")
    page.screenshot(path=f"{SHOTS}/e2e-dashboard.png", full_page=True)

    # The 欠费总额 card: every household owing on 30 June, none of the other project.
    page.click("#kpi-owed")
    expect(page.locator("h1")).to_contain_text("账龄段内的欠费住户")
    assert sorted(rooms(page)) == ["1-1-101", "3-1-301"]
    page.screenshot(path=f"{SHOTS}/e2e-households-owed.png", full_page=True)

    # A number in the aging table: 3–6 months is only 1-1-101's March bill.
    page.go_back()
    page.click('#aging-table a.figure[data-bucket="1"]')
    assert rooms(page) == ["1-1-101"]
    expect(page.locator("#households-table")).to_contain_text("100.00")

    # A bar of the aging chart: 2–3 years is 3-1-301's bill of January 2023.
    page.go_back()
    page.wait_for_function("window.wuyeCharts && window.wuyeCharts.length === 4")
    x, y = page.evaluate(
        """() => {
          const chart = window.wuyeCharts[1];
          const [x, y] = chart.convertToPixel({seriesIndex: 0}, [4, 440]);
          return [x, y];
        }"""
    )
    box = page.locator("#chart-aging").bounding_box()
    with page.expect_navigation():
        page.mouse.click(box["x"] + x, box["y"] + y)
    assert "bucket=4" in page.url
    assert rooms(page) == ["3-1-301"]
    page.screenshot(path=f"{SHOTS}/e2e-households-chart-click.png", full_page=True)
