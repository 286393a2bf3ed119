"""A steward opens today's list on a phone: the cases come in the model's order (expected money
recovered per contact) with the chance of payment and two or three reasons beside each case."""

import datetime
import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.scoring.synthetic import build_history
from wuye.core.roles import Role
from wuye.dunning.daily_run import dunning_run
from wuye.scoring.services import scoring_train

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
DAY = datetime.timedelta(days=1)
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
# Where the reviewer looks at them (the brief of issue 6); var/screenshots gets a copy too.
SHOTS = Path(os.environ.get("WUYE_SHOTS", "/tmp/shots"))  # noqa: S108


@pytest.fixture
def seeded(project, make_user):
    steward = make_user("louguan", Role.STEWARD, project)
    steward.set_password("wuye-e2e-pass")
    steward.save()
    supervisor = make_user("zhuguan", Role.SUPERVISOR, project)
    supervisor.set_password("wuye-e2e-pass")
    supervisor.save()
    cashier = make_user("shoufei", Role.CASHIER, project)
    build_history(project, cashier=cashier, steward=steward, per_kind=30)
    dunning_run(project=project)
    scoring_train(project=project)
    return steward


def _login(page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "wuye-e2e-pass")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)


def _shot(page, name: str, screenshot_dir: Path, full_page: bool) -> None:
    page.screenshot(path=str(SHOTS / name), full_page=full_page)
    shutil.copy(SHOTS / name, screenshot_dir / name)


def test_today_list_shows_the_reasons_beside_each_case(
    browser, live_server, seeded, screenshot_dir
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(**PHONE)
    page = context.new_page()
    _login(page, live_server.url, "louguan")

    page.goto(f"{live_server.url}/dunning/today/")
    expect(page.locator("h1")).to_contain_text("我的今日催缴")
    expect(page.locator(".today > p.muted").first).to_contain_text("按预计回收金额")
    cards = page.locator("article.task-card")
    expect(cards.first).to_be_visible()
    for i in range(min(cards.count(), 5)):
        reasons = cards.nth(i).locator(".rank-reasons")
        expect(reasons).to_contain_text("回款概率")
        expect(reasons).to_contain_text("排序理由")
    _shot(page, "today-ranked.png", screenshot_dir, full_page=False)
    context.close()


def test_model_page_shows_quality_and_comparison(browser, live_server, seeded, screenshot_dir):
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    _login(page, live_server.url, "zhuguan")

    page.goto(f"{live_server.url}/scoring/")
    expect(page.locator("#figures")).to_contain_text("AUC")
    expect(page.locator("#baseline")).to_contain_text("按欠费金额")
    expect(page.locator("#coefficients")).to_contain_text("近12个月按时缴费率")
    _shot(page, "scoring-model.png", screenshot_dir, full_page=True)
    context.close()
