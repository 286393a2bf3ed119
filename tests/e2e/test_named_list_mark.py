"""A manager opens 欠费大户: the internal-use marking is visible on screen and on the printed page."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.ledger.factories import monthly_bills
from tests.reports.builders import D, account, bill, fee_item
from wuye.core.privacy import NAMED_LIST_MARK
from wuye.core.roles import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SHOTS = Path(os.environ.get("WUYE_SHOTS_DIR", "/tmp/shots"))  # noqa: S108


@pytest.fixture
def manager(project, make_user):
    user = make_user("jingli", Role.PROJECT_MANAGER, project)
    user.set_password("wuye-e2e-pass")
    user.save()
    item = fee_item(project)
    for code, owner in (("1-1-101", "张三丰"), ("3-1-301", "赵六")):
        acct = account(project, code, owner=owner)
        bill(acct, item, "100.00", D(2024, 1, 1))
        monthly_bills(acct, item, D(2025, 1, 1), 6)
    return user


def test_the_top_debtors_page_shows_the_internal_marking_on_screen_and_in_print(
    browser, live_server, manager
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "jingli")
    page.fill("#id_password", "wuye-e2e-pass")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/reports/debtors/?as_of=2025-06-30")
    mark = page.locator(".named-list-mark")
    expect(mark).to_have_text(NAMED_LIST_MARK)
    expect(mark).to_be_visible()
    page.screenshot(path=f"{SHOTS}/e2e-debtors-marked.png", full_page=True)
    page.emulate_media(media="print")
    expect(mark).to_be_visible()
    expect(page.locator("#filters")).to_be_hidden()
    page.screenshot(path=f"{SHOTS}/e2e-debtors-marked-print.png", full_page=True)
