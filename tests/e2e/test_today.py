"""A steward opens today's list on a phone, records a call with a promise in ten days, and the case
shows class A with its next task the day before the promise."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.dunning import factories
from wuye.core.roles import Role
from wuye.registry import services as registry

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
DAY = datetime.timedelta(days=1)
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def seeded(project, make_user):
    user = make_user("louguan", Role.STEWARD, project)
    user.set_password("wuye-e2e-pass")
    user.save()
    today = timezone.localdate()
    item = factories.fee_item(project)
    acct = factories.debtor(project, "3-2-1502", steward=user, phones=("13812345678",))
    factories.bill(acct, item, "1280.00", today - 60 * DAY, today - 40 * DAY)
    registry.legacy_issue_create(
        user=None,
        room=acct.room,
        title="卫生间楼板渗漏",
        responsible_party="developer",
        reported_on=datetime.date(2024, 6, 3),
    )
    other = factories.debtor(
        project, "3-2-1501", steward=user, owner="李四", phones=("13900001111",)
    )
    factories.bill(other, item, "320.00", today - 45 * DAY, today - 25 * DAY)
    factories.run(project)
    return user, factories.case_of(acct)


def test_steward_records_a_promise_from_todays_list(browser, live_server, seeded, screenshot_dir):
    _, case = seeded
    today = timezone.localdate()
    promise = today + 10 * DAY
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "louguan")
    page.fill("#id_password", "wuye-e2e-pass")
    page.click("button[type=submit]")

    page.goto(f"{live_server.url}/dunning/today/")
    card = page.locator(f"#case-{case.pk}")
    expect(card).to_contain_text("¥1280.00")
    expect(card.locator("a.tel").first).to_have_attribute("href", "tel:13812345678")
    expect(card).to_contain_text("遗留问题")
    page.screenshot(path=str(screenshot_dir / "dunning-today.png"), full_page=True)

    # The talking points come when the steward opens them (the list itself carries none).
    expect(card.locator(".talking-point")).to_have_count(0)
    card.locator("summary", has_text="话术建议").click()
    expect(card.locator(".talking-point").first).to_be_visible()
    expect(card).to_contain_text("远程缴费方式")
    card.locator(".talking-points").screenshot(
        path=str(screenshot_dir / "dunning-today-points.png")
    )

    card.locator("a", has_text="登记结果").click()
    card.locator("input[name=promise_date]").fill(promise.isoformat())
    card.locator("input[name=promise_amount]").fill("1280")
    card.locator("textarea[name=owner_said]").fill("发工资后一次交清")
    # A call made yesterday morning, recorded now (the form keeps the real time of the call).
    card.locator("summary", has_text="更多").click()
    card.locator("input[name=at]").fill(f"{today - DAY}T10:30")
    page.screenshot(path=str(screenshot_dir / "dunning-today-form.png"), full_page=True)
    card.locator("button[value=promise]").click()

    done = page.locator(f"#case-{case.pk}.done")
    expect(done).to_contain_text("A 近期交纳")
    expect(done).to_contain_text(f"{promise - DAY:%Y-%m-%d}")
    expect(done).to_contain_text("承诺日前一天提醒")
    page.screenshot(path=str(screenshot_dir / "dunning-today-recorded.png"), full_page=True)

    page.goto(f"{live_server.url}/dunning/cases/{case.pk}/")
    expect(page.locator("h1")).to_contain_text("A 近期交纳")
    expect(page.locator("#summary")).to_contain_text(f"承诺日前一天提醒 {promise - DAY:%Y-%m-%d}")
    expect(page.locator("#contacts")).to_contain_text("发工资后一次交清")
    page.screenshot(path=str(screenshot_dir / "dunning-case-phone.png"), full_page=True)
    context.close()
