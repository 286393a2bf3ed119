"""The daily chain: in order, at its times, once per step, project and day; a restarted scheduler
catches up the day it missed once, not twice; failures are recorded and the chain goes on."""

import datetime
from types import SimpleNamespace

import pytest

from tests.ops import steps as fake
from tests.ops.conftest import D, at
from wuye.ops.models import JobRun, RunStatus, SchedulerBeat
from wuye.ops.tasks import advance, tick

pytestmark = pytest.mark.django_db
TUESDAY = D(2026, 3, 10)
DAY = datetime.timedelta(days=1)


def keys(calls, day=TUESDAY):
    return [k for k, _, d in calls if d == day.isoformat()]


def test_the_chain_runs_in_the_configured_order(chain, project):
    tick(at(TUESDAY, 10))
    assert keys(chain) == ["first", "broken", "texts", "last"]


def test_a_second_tick_the_same_day_runs_nothing_again(chain, project):
    tick(at(TUESDAY, 10))
    tick(at(TUESDAY, 11))
    tick(at(TUESDAY, 23))
    assert keys(chain) == ["first", "broken", "texts", "last"]
    assert JobRun.objects.filter(day=TUESDAY).count() == 5  # the weekly step recorded as skipped


def test_each_project_gets_its_own_chain(chain, project, other_project):
    tick(at(TUESDAY, 10))
    assert sorted({p for _, p, _ in chain}) == sorted([project.pk, other_project.pk])
    assert len(chain) == 8


def test_nothing_starts_before_the_chain_time(chain, project):
    tick(at(TUESDAY, 5, 29))
    assert chain == []
    assert not JobRun.objects.exists()


def test_steps_after_a_message_step_wait_for_the_message_time(chain, project):
    tick(at(TUESDAY, 6))
    assert keys(chain) == ["first", "broken"]
    tick(at(TUESDAY, 9, 30))
    assert keys(chain) == ["first", "broken", "texts", "last"]


def test_a_message_step_of_a_missed_day_waits_for_the_lawful_window(chain, project):
    """Catching up at 03:00 does not send Monday's messages at night (LAW.md §8: 08:00–21:00)."""
    monday = TUESDAY - DAY
    tick(at(monday - DAY, 10))  # Sunday ran; Monday was missed
    chain.clear()
    tick(at(TUESDAY, 3))
    assert keys(chain, monday) == ["first", "broken"]
    assert keys(chain, TUESDAY) == []  # before today's chain time
    tick(at(TUESDAY, 8))
    assert keys(chain, monday) == ["first", "broken", "texts", "last"]
    assert keys(chain, TUESDAY) == ["first", "broken"]  # today's messages wait for 09:30


def test_a_weekly_step_runs_on_its_day(chain, project):
    sunday = D(2026, 3, 15)
    tick(at(sunday, 10))
    assert keys(chain, sunday) == ["first", "broken", "texts", "last", "sundays"]


def test_the_weekly_step_is_recorded_as_skipped_on_other_days(chain, project):
    tick(at(TUESDAY, 10))
    run = JobRun.objects.get(step="sundays", day=TUESDAY)
    assert run.status == RunStatus.SKIPPED and "sundays" not in keys(chain)


def test_a_restarted_scheduler_runs_the_missed_day_once_not_twice(chain, project):
    monday = TUESDAY - DAY
    sunday = TUESDAY - 2 * DAY
    tick(at(sunday, 10))  # ran on Sunday, then stopped for the whole of Monday
    tick(at(TUESDAY, 10))  # restarted on Tuesday
    tick(at(TUESDAY, 10, 5))  # and ticks again, twice
    tick(at(TUESDAY, 10, 10))
    assert keys(chain, monday) == ["first", "broken", "texts", "last"]
    assert keys(chain, TUESDAY) == ["first", "broken", "texts", "last"]
    assert keys(chain, sunday) == ["first", "broken", "texts", "last", "sundays"]
    assert JobRun.objects.filter(day=monday, status=RunStatus.OK).count() == 4


def test_catch_up_goes_back_no_further_than_the_setting(chain, project, settings):
    settings.WUYE_SCHEDULE_CATCH_UP_DAYS = 2
    tick(at(TUESDAY - 10 * DAY, 10))
    chain.clear()
    tick(at(TUESDAY, 10))
    assert sorted({d for _, _, d in chain}) == [
        (TUESDAY - 2 * DAY).isoformat(),
        (TUESDAY - DAY).isoformat(),
        TUESDAY.isoformat(),
    ]


def test_a_new_installation_starts_today_without_back_filling(chain, project):
    tick(at(TUESDAY, 10))
    assert {d for _, _, d in chain} == {TUESDAY.isoformat()}


def test_a_failed_step_is_recorded_with_its_error_and_the_chain_goes_on(chain, project):
    fake.FAIL.add("broken")
    tick(at(TUESDAY, 10))
    run = JobRun.objects.get(step="broken", day=TUESDAY)
    assert run.status == RunStatus.FAILED
    assert "broken broke on purpose" in run.error
    assert run.finished_at is not None
    assert keys(chain) == ["first", "broken", "texts", "last"]


def test_a_failed_step_is_not_retried_by_the_next_tick(chain, project):
    fake.FAIL.add("broken")
    tick(at(TUESDAY, 10))
    tick(at(TUESDAY, 11))
    assert keys(chain).count("broken") == 1


def test_a_run_records_rows_and_times(chain, project):
    tick(at(TUESDAY, 10))
    run = JobRun.objects.get(step="first", day=TUESDAY)
    assert (run.status, run.rows, run.detail, run.attempts) == ("ok", 3, {"key": "first"}, 1)
    assert run.started_at <= run.finished_at


def test_a_step_already_claimed_is_not_run_again_by_another_scheduler(chain, project):
    """Another scheduler claimed the first step (its row exists, queued): this one waits."""
    JobRun.objects.create(
        step="first", project=project, day=TUESDAY, status="queued", enqueued_at=at(TUESDAY, 10)
    )
    advance(project, TUESDAY, at(TUESDAY, 10, 1))
    assert chain == []


def test_a_step_stuck_running_past_the_stale_limit_is_failed_and_the_chain_goes_on(
    chain, project, settings
):
    settings.WUYE_SCHEDULE_STALE_MINUTES = 60
    JobRun.objects.create(
        step="first", project=project, day=TUESDAY, status="running", started_at=at(TUESDAY, 6)
    )
    tick(at(TUESDAY, 6, 30))
    assert chain == []
    tick(at(TUESDAY, 10))
    stuck = JobRun.objects.get(step="first", day=TUESDAY)
    assert stuck.status == RunStatus.FAILED and "60 分钟" in stuck.error
    assert keys(chain) == ["broken", "texts", "last"]


def test_a_second_delivery_of_the_same_task_does_not_run_the_step_twice(chain, project):
    from wuye.ops.tasks import run_step

    tick(at(TUESDAY, 10))
    run = JobRun.objects.get(step="first", day=TUESDAY)
    run_step.enqueue(run.pk, at(TUESDAY, 10).isoformat())
    assert keys(chain).count("first") == 1


def test_a_queue_that_refuses_the_task_is_recorded_as_a_failure(chain, project, monkeypatch):
    from wuye.ops import tasks

    def refuse(*args, **kwargs):
        raise ConnectionError("redis is down")

    refusing = SimpleNamespace(enqueue=refuse)
    monkeypatch.setattr(tasks, "run_step", SimpleNamespace(using=lambda **kw: refusing))
    tick(at(TUESDAY, 10))
    run = JobRun.objects.get(step="first", day=TUESDAY)
    assert run.status == RunStatus.FAILED and "redis is down" in run.error


def test_inactive_projects_are_left_alone(chain, project):
    project.is_active = False
    project.save()
    tick(at(TUESDAY, 10))
    assert chain == []


def test_each_tick_leaves_a_heartbeat(chain, project):
    tick(at(TUESDAY, 10))
    assert SchedulerBeat.objects.get(name="scheduler").last_tick is not None


def test_the_scheduler_command_ticks_once(chain, project):
    from django.core.management import call_command

    call_command("scheduler", "--once")
    assert SchedulerBeat.objects.filter(name="scheduler").exists()
