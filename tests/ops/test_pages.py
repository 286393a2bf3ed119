"""The 系统任务 page, 立即运行, and the schedule's warnings on the dashboard: for the company
administrator only."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.ops import steps as fake
from tests.ops.conftest import at
from wuye.core.models import AuditEntry
from wuye.core.roles import Role
from wuye.ops.models import JobRun, RunStatus
from wuye.ops.tasks import tick

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


@pytest.fixture
def boss(admin_user, project):
    return admin_user


def test_a_steward_gets_403_on_the_jobs_page(client, steward, project):
    client.force_login(steward)
    assert client.get(reverse("ops:jobs")).status_code == 403


def test_a_project_manager_gets_403_on_the_jobs_page(client, manager, project):
    client.force_login(manager)
    assert client.get(reverse("ops:jobs")).status_code == 403


def test_a_steward_cannot_run_a_step_by_hand(client, steward, project, chain):
    client.force_login(steward)
    assert client.post(reverse("ops:run"), {"step": "first"}).status_code == 403
    assert fake.CALLS == [] and not JobRun.objects.exists()


def test_an_anonymous_visitor_is_sent_to_the_login(client, project):
    response = client.get(reverse("ops:jobs"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_admin_sees_todays_chain_and_recent_runs(client, boss, project, chain):
    fake.FAIL.add("broken")
    tick(at(timezone.localdate() - DAY, 10))
    client.force_login(boss)
    response = client.get(reverse("ops:jobs"))
    assert response.status_code == 200
    text = response.content.decode()
    assert "系统任务" in text and "第一步" in text and "立即运行" in text
    assert "broken broke on purpose" in text


def test_the_menu_offers_the_jobs_page_to_the_admin_only(client, boss, steward, project):
    client.force_login(boss)
    assert reverse("ops:jobs") in client.get(reverse("overview")).content.decode()
    client.force_login(steward)
    assert reverse("ops:jobs") not in client.get(reverse("overview")).content.decode()


def test_run_now_runs_the_step_for_today_and_records_who(client, boss, project, chain):
    client.force_login(boss)
    response = client.post(reverse("ops:run"), {"step": "first"})
    assert response.status_code == 302
    run = JobRun.objects.get(step="first", day=timezone.localdate())
    assert (run.status, run.trigger, run.triggered_by) == (RunStatus.OK, "manual", boss)
    assert AuditEntry.objects.filter(action="手动运行系统任务").count() == 1


def test_run_now_again_reruns_the_same_row(client, boss, project, chain):
    fake.FAIL.add("first")
    client.force_login(boss)
    client.post(reverse("ops:run"), {"step": "first"})
    fake.FAIL.clear()
    client.post(reverse("ops:run"), {"step": "first"})
    run = JobRun.objects.get(step="first", day=timezone.localdate())
    assert (run.status, run.attempts, run.error) == (RunStatus.OK, 2, "")


def test_run_now_is_refused_while_the_step_is_running(client, boss, project, chain):
    JobRun.objects.create(
        step="first",
        project=project,
        day=timezone.localdate(),
        status="running",
        started_at=timezone.now(),
    )
    client.force_login(boss)
    response = client.post(reverse("ops:run"), {"step": "first"}, follow=True)
    assert "正在运行中" in response.content.decode()
    assert fake.CALLS == []


def test_run_now_is_refused_for_a_step_not_due_today(client, boss, project, chain):
    if timezone.localdate().weekday() == 6:
        pytest.skip("the weekly step is due on Sundays")
    client.force_login(boss)
    response = client.post(reverse("ops:run"), {"step": "sundays"}, follow=True)
    assert "今天不需运行" in response.content.decode()
    assert fake.CALLS == []


def test_run_now_of_an_unknown_step_is_refused(client, boss, project, chain):
    client.force_login(boss)
    response = client.post(reverse("ops:run"), {"step": "drop_tables"}, follow=True)
    assert "没有名为" in response.content.decode()


# --- the dashboard ---------------------------------------------------------------------------


def dashboard(client, user):
    client.force_login(user)
    return client.get(reverse("reports:dashboard")).content.decode()


def test_the_dashboard_warns_the_admin_when_a_step_failed(client, boss, project, chain):
    fake.FAIL.add("broken")
    tick(at(timezone.localdate() - DAY, 10))
    text = dashboard(client, boss)
    assert "系统任务失败 1 项" in text and "会失败的一步" in text
    assert reverse("ops:jobs") in text


def test_the_dashboard_warns_when_a_step_did_not_run(client, boss, project, chain):
    yesterday = timezone.localdate() - DAY
    JobRun.objects.create(step="first", project=project, day=yesterday, status="ok")
    text = dashboard(client, boss)
    assert "系统任务未按时运行" in text


def test_the_dashboard_is_quiet_when_yesterdays_chain_ran(client, boss, project, chain, settings):
    tick(at(timezone.localdate() - DAY, 10))
    settings.WUYE_SCHEDULE_AT = settings.WUYE_SCHEDULE_MESSAGES_AT = "23:59"  # today's not due yet
    text = dashboard(client, boss)
    assert "系统任务失败" not in text and "系统任务未按时运行" not in text


def test_a_manager_does_not_get_the_schedules_warning(client, manager, project, chain):
    fake.FAIL.add("broken")
    tick(at(timezone.localdate() - DAY, 10))
    assert "系统任务失败" not in dashboard(client, manager)


def test_the_dashboard_still_opens_when_the_notice_hook_breaks(client, boss, project, settings):
    settings.WUYE_DASHBOARD_NOTICES = ["tests.ops.test_pages.broken_hook"]
    client.force_login(boss)
    assert client.get(reverse("reports:dashboard")).status_code == 200


def broken_hook(**kwargs):
    raise RuntimeError("boom")


def test_a_company_admin_of_another_company_sees_nothing_of_ours(client, project, chain, make_user):
    from wuye.core.models import Company

    other = Company.objects.create(name="别家物业", short_name="别家")
    stranger = make_user("stranger", Role.COMPANY_ADMIN, company_role=Role.COMPANY_ADMIN)
    stranger.company = other
    stranger.save()
    fake.FAIL.add("broken")
    tick(at(timezone.localdate() - DAY, 10))
    client.force_login(stranger)
    assert client.get(reverse("ops:jobs")).status_code in (403, 404)
