"""Talking points on a steward's phone, the case page's demand and SMS actions, the supervisor's
outbox (screenshots)."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.dunning import factories
from wuye.core.roles import Role
from wuye.dunning.contacts import contact_record
from wuye.dunning.enums import Channel, RefusalReason
from wuye.messaging.models import TemplateKind
from wuye.messaging.services import send_sms

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
DAY = datetime.timedelta(days=1)
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
PASSWORD = "wuye-e2e-pass"


@pytest.fixture
def seeded(project, make_user):
    steward = make_user("louguan", Role.STEWARD, project)
    boss = make_user("zhuguan", Role.SUPERVISOR, project)
    for user in (steward, boss):
        user.set_password(PASSWORD)
        user.save()
    today = timezone.localdate()
    item = factories.fee_item(project)
    acct = factories.debtor(project, "3-2-1502", steward=steward, phones=("13812345678",))
    factories.bill(acct, item, "1280.00", today - 60 * DAY, today - 40 * DAY)
    factories.run(project)
    case = factories.case_of(acct)
    morning = factories.at(today, 10)
    contact_record(
        user=steward,
        case=case,
        channel=Channel.PHONE,
        reached=True,
        refusal_reason=RefusalReason.LEAK,
        owner_said="楼上漏水没人管",
        at=morning,
        now=morning,
    )
    case.refresh_from_db()
    send_sms(case, TemplateKind.SMS, steward, now=morning + datetime.timedelta(hours=1))
    return case


def _login(page, url, username):
    page.goto(f"{url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")


def test_talking_points_demand_and_outbox(browser, live_server, seeded, screenshot_dir):
    case = seeded
    phone = browser.new_context(**PHONE).new_page()
    _login(phone, live_server.url, "louguan")
    phone.goto(f"{live_server.url}/dunning/today/")
    card = phone.locator(f"#case-{case.pk}")
    if card.count():  # today's list shows the case when its next task is due
        card.locator("summary", has_text="话术建议").click()
        expect(card).to_contain_text("漏水")
        phone.screenshot(path=str(screenshot_dir / "messaging-today-talking-points.png"))

    phone.goto(f"{live_server.url}/dunning/cases/{case.pk}/")
    points = phone.locator(f"#talking-points-{case.pk}")
    expect(points).to_contain_text("漏水/渗水")
    expect(points).to_contain_text("远程缴费方式")
    expect(phone.locator("#messaging-actions")).to_contain_text("生成 PDF")
    phone.locator(f"#talking-points-{case.pk}").scroll_into_view_if_needed()
    phone.screenshot(path=str(screenshot_dir / "messaging-case-talking-points.png"))

    # The deadline is asked for, pre-filled (15 days ahead, said beside it) in ISO the browser keeps.
    deadline = phone.locator("#messaging-actions input[name=deadline]").input_value()
    assert deadline == f"{timezone.localdate() + datetime.timedelta(days=15):%Y-%m-%d}"
    answer = phone.request.get(
        f"{live_server.url}/messaging/cases/{case.pk}/demand.pdf?kind=written_demand"
        f"&deadline={deadline}"
    )
    assert answer.headers["content-type"] == "application/pdf"
    (screenshot_dir / "messaging-demand.pdf").write_bytes(answer.body())

    desk = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    _login(desk, live_server.url, "zhuguan")
    desk.goto(f"{live_server.url}/messaging/outbox/")
    expect(desk.locator("#outbox")).to_contain_text("3-2-1502")
    expect(desk.locator("#outbox")).to_contain_text("已发出")
    desk.screenshot(path=str(screenshot_dir / "messaging-outbox.png"), full_page=True)
