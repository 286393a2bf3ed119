"""A recorded promise sets the next task to the day before it (SPEC §5 step 6) whatever the stage;
a broken promise is flagged on the lists and in the daily check and puts the case back in class B;
the case list and today's list show the same next step and date. Fixed calendar: a bill due
2026-01-10, the case opened 2026-02-01, escalated to a door visit on 2026-03-03."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.dunning import factories
from wuye.dunning.contacts import contact_record
from wuye.dunning.enums import CaseClass, NextAction, Stage
from wuye.dunning.selectors import daily_check

D = datetime.date
DAY = datetime.timedelta(days=1)
pytestmark = pytest.mark.django_db


@pytest.fixture
def visit_case(project, steward, item):
    acct = factories.debtor(project, "3-2-1502", steward=steward)
    factories.bill(acct, item, "300.00", D(2026, 1, 1), D(2026, 1, 10))
    factories.run(project, D(2026, 2, 1))
    case = factories.case_of(acct)
    call(steward, case, D(2026, 2, 2), owner_said="再说吧")  # B
    factories.run(project, D(2026, 3, 3))  # 30 days not A: a door visit, deadline 03-18
    case.refresh_from_db()
    assert case.stage == Stage.VISIT
    return case


def call(steward, case, day, **kwargs):
    at = factories.at(day, 10)
    return contact_record(
        user=steward, case=case, channel="phone", reached=True, at=at, now=at, **kwargs
    )


def test_a_promise_on_the_visit_stage_sets_the_task_to_the_day_before_it(steward, visit_case):
    call(steward, visit_case, D(2026, 3, 5), promise_date=D(2026, 3, 25), owner_said="别再上门")

    visit_case.refresh_from_db()
    assert visit_case.case_class == CaseClass.A
    assert (visit_case.next_action, visit_case.next_action_on, visit_case.next_action_due) == (
        NextAction.PROMISE_EVE_CALL,
        D(2026, 3, 24),
        D(2026, 3, 24),
    )


def test_the_daily_run_keeps_the_promise_task_on_the_visit_stage(project, steward, visit_case):
    call(steward, visit_case, D(2026, 3, 5), promise_date=D(2026, 3, 25))

    for day in (6, 10, 19, 24):
        factories.run(project, D(2026, 3, day))
        visit_case.refresh_from_db()
        assert visit_case.next_action == NextAction.PROMISE_EVE_CALL
        assert visit_case.next_action_on == D(2026, 3, 24)


def test_a_broken_promise_goes_back_to_class_b_and_the_visit_resumes_not_overdue(
    project, steward, visit_case
):
    call(steward, visit_case, D(2026, 3, 5), promise_date=D(2026, 3, 25))

    factories.run(project, D(2026, 3, 26))

    visit_case.refresh_from_db()
    assert visit_case.case_class == CaseClass.B
    assert visit_case.promise_date == D(2026, 3, 25)  # kept: the flag and the 7-day rule need it
    assert visit_case.next_action == NextAction.VISIT
    # The visit comes back from the day after the promise, not from its old date, and is not
    # already overdue on the day it comes back (its 03-18 deadline passed during the promise).
    assert visit_case.next_action_on == D(2026, 3, 26)
    assert visit_case.next_action_due >= D(2026, 3, 26)
    event = visit_case.events.filter(kind="class").latest("id")
    assert (event.from_value, event.to_value) == ("A", "B")
    assert "承诺未兑现" in event.reason


def test_a_broken_promise_on_the_reminder_stage_escalates_after_seven_days_not_at_once(
    project, steward, item
):
    acct = factories.debtor(project, "5-1-301", steward=steward, owner="李四")
    factories.bill(acct, item, "300.00", D(2026, 1, 1), D(2026, 1, 10))
    factories.run(project, D(2026, 2, 1))
    case = factories.case_of(acct)
    call(steward, case, D(2026, 2, 2), promise_date=D(2026, 3, 5))

    factories.run(project, D(2026, 3, 6))  # broken; the case is 33 days old
    case.refresh_from_db()
    assert (case.case_class, case.stage) == (CaseClass.B, Stage.REMINDER)
    assert (case.next_action, case.next_action_on) == (NextAction.DAILY_CALL, D(2026, 3, 6))

    factories.run(project, D(2026, 3, 12))
    case.refresh_from_db()
    assert case.stage == Stage.VISIT
    assert "承诺缴费日 2026-03-05 已过 7 天" in case.events.get(kind="stage").reason


def test_a_broken_promise_is_flagged_in_the_daily_check(project, steward, visit_case):
    call(steward, visit_case, D(2026, 3, 5), promise_date=D(2026, 3, 25))
    factories.run(project, D(2026, 3, 26))

    days = daily_check(project_id=project.pk, on=D(2026, 3, 26))

    mine = next(d for d in days if d.user == steward)
    assert [c.pk for c in mine.broken_promises] == [visit_case.pk]
    assert daily_check(project_id=project.pk, on=D(2026, 3, 25))[0].broken_promises == []


def _next_step(html: str) -> str:
    return re.search(r'class="next-step">([^<]+)<', html).group(1).strip()


def test_the_case_list_and_todays_list_show_the_same_next_step_and_flag(
    client, project, steward, supervisor, item
):
    today = timezone.localdate()
    acct = factories.debtor(project, "6-1-101", steward=steward, owner="王五")
    factories.bill(acct, item, "300.00", today - 80 * DAY, today - 70 * DAY)
    factories.run(project, today - 20 * DAY)
    case = factories.case_of(acct)
    at = factories.at(today - 19 * DAY, 10)
    contact_record(
        user=steward, case=case, channel="visit_home", reached=True, at=at, now=at,
        promise_date=today - 3 * DAY,
    )  # fmt: skip
    factories.run(project, today)

    client.force_login(steward)
    mine = client.get(reverse("dunning:today")).content.decode()
    client.force_login(supervisor)
    listed = client.get(reverse("dunning:cases")).content.decode()

    assert _next_step(mine) == _next_step(listed)
    assert "承诺未兑现" in mine and "承诺未兑现" in listed


def test_an_unanswered_call_after_a_broken_promise_keeps_it_flagged(project, steward, visit_case):
    call(steward, visit_case, D(2026, 3, 5), promise_date=D(2026, 3, 25))
    factories.run(project, D(2026, 3, 26))

    at = factories.at(D(2026, 3, 27), 10)
    contact_record(
        user=steward, case=visit_case, channel="phone", reached=False,
        unreached_reason="no_answer", at=at, now=at,
    )  # fmt: skip

    visit_case.refresh_from_db()
    assert visit_case.promise_date == D(2026, 3, 25)
    days = daily_check(project_id=project.pk, on=D(2026, 3, 27))
    assert [c.pk for c in next(d for d in days if d.user == steward).broken_promises] == [
        visit_case.pk
    ]
