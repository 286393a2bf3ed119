"""The household page shows the credit file: figures, segment, strategy and the 24-month chart; the
supervisor's 客户分群 page counts the households per segment."""

import datetime
import os
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from tests.credit.factories import monthly, pay, recompute
from tests.dunning import factories
from wuye.core.roles import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
DAY = datetime.timedelta(days=1)
SHOTS = Path(os.environ.get("WUYE_SHOTS", "/tmp/shots"))  # noqa: S108 (screenshots only)


@pytest.fixture
def seeded(project, make_user):
    user = make_user("zhuguan", Role.SUPERVISOR, project)
    user.set_password("wuye-e2e-pass")
    user.save()
    cashier = make_user("shouyin", Role.CASHIER, project)
    today = timezone.localdate()
    item = factories.fee_item(project)
    acct = factories.debtor(project, "3-2-1502", steward=user)
    bills = monthly(acct, item, today, 20)
    for n, b in enumerate(bills[:-2]):
        late = 12 if n % 5 == 3 else -2  # mostly on time, a few late
        pay(cashier, acct, "100.00", bill_ids=[b.pk], business_date=b.due_date + late * DAY)
    recompute(project, today)
    return acct


def test_household_page_shows_the_credit_file(browser, live_server, seeded):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "zhuguan")
    page.fill("#id_password", "wuye-e2e-pass")
    page.click("button[type=submit]")

    page.goto(live_server.url + reverse("registry:household", args=[seeded.room_id]))
    panel = page.locator("section#credit")
    expect(panel).to_contain_text("按时缴费率")
    expect(panel.locator("#credit-segment")).to_be_visible()
    expect(panel).to_contain_text("¥200.00")  # the two months still unpaid
    assert panel.locator(".credit-col").count() == 20
    panel.scroll_into_view_if_needed()
    panel.screenshot(path=str(SHOTS / "credit-household-panel.png"))

    page.goto(live_server.url + reverse("credit:segments"))
    expect(page.locator("#segments")).to_contain_text("按时缴费")
    page.screenshot(path=str(SHOTS / "credit-segments.png"), full_page=True)

    page.locator("#segments a.btn").first.click()
    expect(page.locator("#segment-form")).to_contain_text("策略")
    page.screenshot(path=str(SHOTS / "credit-segment-edit.png"), full_page=True)
