"""Early in a month the dashboard's household figure says 未到期 with the share that has paid
everything, and the rates page shows both household figures (screenshots for a person to look at)."""

import pytest
from playwright.sync_api import expect

from tests.reports.builders import D, account, bill, fee_item, pay
from wuye.core.roles import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def seeded(project, make_user):
    manager = make_user("jingli", Role.PROJECT_MANAGER, project)
    manager.set_password("wuye-e2e-pass")
    manager.save()
    cashier = make_user("shouyin", Role.CASHIER, project)
    item = fee_item(project)
    accts = [account(project, c) for c in ("1-1-101", "1-1-102", "1-1-103")]
    for a in accts:
        bill(a, item, "100.00", D(2025, 12, 1), due_date=D(2025, 12, 15))
    pay(cashier, accts[0], "100.00", business_date=D(2025, 12, 2))
    return manager


def test_household_rate_early_in_the_month(live_server, page, seeded, screenshot_dir):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "jingli")
    page.fill("#id_password", "wuye-e2e-pass")
    page.press("#id_password", "Enter")
    page.goto(f"{live_server.url}/reports/?as_of=2025-12-04&window=month")
    kpi = page.locator("#kpi-households")
    expect(kpi).to_contain_text("未到期")
    expect(kpi).to_contain_text("已全部缴清 1 / 3 户")
    page.locator("#kpis").screenshot(path=str(screenshot_dir / "dashboard-households-early.png"))
    page.goto(f"{live_server.url}/reports/rates/?as_of=2025-12-04&window=month&group=steward")
    expect(page.locator("#rates-table")).to_contain_text("未到期")
    page.locator("#rates-table").screenshot(path=str(screenshot_dir / "rates-early.png"))
