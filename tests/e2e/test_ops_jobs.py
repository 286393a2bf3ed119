"""The company administrator opens 系统任务 after the daily chain ran (one step failed), reruns a step
with 立即运行, and sees the warning on the dashboard; a steward is refused the page. Screenshots in
var/screenshots/ops-*.png."""

import datetime

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from playwright.sync_api import expect

from tests.billing.conftest import fee_item, room
from tests.ops import steps as fake
from tests.ops.conftest import at
from wuye.billing import fee_settings
from wuye.core.roles import Role
from wuye.ops.models import JobRun
from wuye.ops.tasks import tick

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "wuye-e2e-pass"
DAY = datetime.timedelta(days=1)


@pytest.fixture
def ran(project, make_user, settings):
    # The broken step goes before the late-morning reconciliation, which would hold it back.
    steps = [s for s in django_settings.WUYE_DAILY_STEPS if not s.endswith("online_reconcile")]
    settings.WUYE_DAILY_STEPS = [*steps, "tests.ops.steps.broken"]
    fake.FAIL.clear()
    fake.FAIL.add("broken")
    boss = make_user("boss", Role.COMPANY_ADMIN, company_role=Role.COMPANY_ADMIN)
    steward = make_user("louguan", Role.STEWARD, project)
    for user in (boss, steward):
        user.set_password(PASSWORD)
        user.save()
    fee_item(project, "WYF", "area", "2.50", name="物业服务费", sort=1)
    room(project, "1-1-101", area="100.00", owner="甲")
    room(project, "1-1-102", area="80.00", owner="乙")
    yesterday = timezone.localdate() - DAY
    fee_settings.billing_settings_update(
        user=None, project=project, auto_billing=True, auto_billing_day=min(yesterday.day, 28)
    )
    tick(at(yesterday, 10))
    yield yesterday
    fake.FAIL.clear()


def _login(page, url, username):
    page.goto(f"{url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda u: "/login/" not in u)


def test_the_admin_reads_the_runs_reruns_a_step_and_sees_the_dashboard_warning(
    browser, live_server, ran, screenshot_dir
):
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    _login(page, live_server.url, "boss")

    page.goto(f"{live_server.url}/ops/jobs/")
    expect(page.locator("h1")).to_contain_text("系统任务")
    expect(page.locator("#problems")).to_contain_text("会失败的一步")
    expect(page.locator("#problems")).to_contain_text("运行失败")
    expect(page.locator("#runs")).to_contain_text("催缴日运行")
    expect(page.locator("#runs")).to_contain_text("自动计费")
    page.screenshot(path=str(screenshot_dir / "ops-jobs.png"), full_page=True)

    page.locator("#step-dunning button", has_text="立即运行").click()
    expect(page.locator("#step-dunning")).to_contain_text("成功")
    expect(page.locator("#step-dunning")).to_contain_text("手动")
    page.screenshot(path=str(screenshot_dir / "ops-jobs-run-now.png"), full_page=True)
    run = JobRun.objects.get(step="dunning", day=timezone.localdate())
    assert (run.status, run.trigger, run.triggered_by.username) == ("ok", "manual", "boss")

    page.goto(f"{live_server.url}/reports/")
    expect(page.locator("[data-notice]").first).to_contain_text("系统任务失败")
    page.locator("[data-notice]").first.locator("a").click()
    expect(page).to_have_url(f"{live_server.url}/ops/jobs/")
    page.goto(f"{live_server.url}/reports/")
    page.screenshot(path=str(screenshot_dir / "ops-dashboard-warning.png"))


def test_a_steward_is_refused_the_page(browser, live_server, ran):
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    _login(page, live_server.url, "louguan")
    response = page.goto(f"{live_server.url}/ops/jobs/")
    assert response.status == 403
    expect(page.locator("body")).not_to_contain_text("立即运行")
