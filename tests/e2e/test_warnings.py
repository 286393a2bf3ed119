"""A supervisor opens the warnings page and acknowledges one with a note (htmx swaps the row); a
steward shares a success story from a closed case; the household's reminders (screenshots to
/tmp/shots/)."""

import datetime
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from tests.dunning import factories
from wuye.alerts.courtesy import courtesy_run
from wuye.alerts.early_warnings import warnings_run
from wuye.alerts.models import Warning
from wuye.core.roles import Role
from wuye.dunning.contacts import contact_record
from wuye.dunning.enums import Channel, RefusalReason
from wuye.dunning.limitation import add_years

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
DAY = datetime.timedelta(days=1)
PASSWORD = "wuye-e2e-pass"
SHOTS = Path("/tmp/shots")  # noqa: S108 - where the brief asks for them


@pytest.fixture
def seeded(project, make_user, cashier):
    steward = make_user("louguan", Role.STEWARD, project)
    boss = make_user("zhuguan", Role.SUPERVISOR, project)
    for user in (steward, boss):
        user.set_password(PASSWORD)
        user.save()
    today = timezone.localdate()
    item = factories.fee_item(project)
    shop = factories.debtor(project, "1-1-0101", owner="钱七", steward=steward)
    factories.bill(shop, item, "8600.00", today - 40 * DAY, today - 8 * DAY)
    old = factories.debtor(project, "3-2-1502", steward=steward, phones=("13912345678",))
    due = add_years(today + 45 * DAY, -3)
    factories.bill(old, item, "1280.00", due - 30 * DAY, due)
    factories.run(project)
    warnings_run(project=project, on=today)

    # A closed case that overcame a leak refusal, and a reminder sent to a household.
    paid = factories.debtor(
        project, "5-1-0101", owner="孙八", steward=steward, phones=("13700000000",)
    )
    factories.bill(paid, item, "300.00", today - 60 * DAY, today - 40 * DAY)
    factories.run(project)
    case = factories.case_of(paid)
    morning = factories.at(today, 10)
    contact_record(
        user=steward,
        case=case,
        channel=Channel.PHONE,
        reached=True,
        refusal_reason=RefusalReason.LEAK,
        at=morning,
        now=morning,
    )
    factories.pay(cashier, paid, "300.00", include_late_fees=False)
    factories.run(project)
    case.refresh_from_db()
    reliable = factories.debtor(project, "6-1-0601", owner="周九", phones=("13600000000",))
    factories.bill(reliable, item, "300.00", today - 20 * DAY, today + 3 * DAY)
    courtesy_run(project=project, now=morning, on=today)
    return {"room": reliable.room_id, "case": case.pk}


def _login(page, url, username):
    page.goto(f"{url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda u: "/login/" not in u)


def test_a_supervisor_acknowledges_a_warning(browser, live_server, seeded):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    _login(page, live_server.url, "zhuguan")

    page.goto(f"{live_server.url}/alerts/warnings/")
    rows = page.locator("#warnings tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#warnings")).to_contain_text("大额新增逾期")
    expect(page.locator("#warnings")).to_contain_text("诉讼时效临近")
    page.screenshot(path=str(SHOTS / "warnings-list.png"), full_page=True)

    large = Warning.objects.get(kind="large_overdue")
    row = page.locator(f"#warning-{large.pk}")
    row.locator("input[name=note]").fill("已安排管家明天上门了解情况")
    row.locator("button", has_text="确认").click()
    expect(page.locator(f"#warning-{large.pk}")).to_contain_text("已确认")
    expect(page.locator(f"#warning-{large.pk}")).to_contain_text("已安排管家明天上门了解情况")
    page.screenshot(path=str(SHOTS / "warnings-acknowledged.png"), full_page=True)

    large.refresh_from_db()
    assert large.acknowledged_by.username == "zhuguan"
    assert large.ack_note == "已安排管家明天上门了解情况"

    page.goto(f"{live_server.url}/dunning/report/")
    expect(page.locator("#report-warnings")).to_contain_text("预警")
    page.screenshot(path=str(SHOTS / "report-warnings.png"), full_page=True)


def test_a_steward_shares_a_success_story_and_reads_it_beside_the_talking_points(
    browser, live_server, seeded
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    _login(page, live_server.url, "louguan")

    page.goto(live_server.url + reverse("dunning:case", args=[seeded["case"]]))
    box = page.locator("#success-story")
    box.locator("summary", has_text="标记为成功案例").click()
    expect(box.locator("select[name=refusal_reason]")).to_have_value("leak")
    box.locator("select[name=channel]").select_option("visit_home")
    box.locator("textarea[name=what_worked]").fill(
        "当天请工程部上门查漏水点，拍照发给业主并约好维修时间；修好后业主主动缴清。"
    )
    box.screenshot(path=str(SHOTS / "case-success-story-form.png"))
    box.locator("button", has_text="保存为成功案例").click()
    expect(page.locator("#success-story")).to_contain_text("已作为成功案例")
    page.locator("#success-story").screenshot(path=str(SHOTS / "case-success-story.png"))

    page.goto(f"{live_server.url}/alerts/stories/")
    expect(page.locator("#reason-leak")).to_contain_text("工程部上门查漏水点")
    page.locator("#reason-leak").screenshot(path=str(SHOTS / "stories-leak.png"))

    page.goto(live_server.url + reverse("registry:household", args=[seeded["room"]]))
    expect(page.locator("#courtesy tbody")).to_contain_text("到期前提醒")
    expect(page.locator("#courtesy tbody")).to_contain_text("300.00元将于")
    page.locator("#courtesy").screenshot(path=str(SHOTS / "household-courtesy.png"))
