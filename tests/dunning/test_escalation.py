"""Escalation (SPEC §5 step 7) and follow-up by class (step 6) on a fixed calendar: bills due
2026-01-10, the case opened 2026-02-01 (after the 15-day grace), runs on chosen days."""

import datetime

import pytest

from tests.dunning import factories
from wuye.dunning.contacts import contact_record
from wuye.dunning.enums import CaseClass, EventKind, NextAction, Stage
from wuye.dunning.models import EscalationRule, FollowUpRule

D = datetime.date
DAY = datetime.timedelta(days=1)
pytestmark = pytest.mark.django_db


@pytest.fixture
def case(project, steward, item):
    acct = factories.debtor(project, "3-2-1502", steward=steward)
    factories.bill(acct, item, "300.00", D(2026, 1, 1), D(2026, 1, 10))
    factories.run(project, D(2026, 2, 1))
    return factories.case_of(acct)


def call(steward, case, day, **kwargs):
    at = factories.at(day, 10)
    return contact_record(
        user=steward, case=case, channel="phone", reached=True, at=at, now=at, **kwargs
    )


def stage_on(project, case, day):
    factories.run(project, day)
    case.refresh_from_db()
    return case.stage


def test_a_promise_unpaid_for_seven_days_goes_to_a_door_visit(project, steward, case):
    call(steward, case, D(2026, 2, 2), promise_date=D(2026, 2, 20))

    assert stage_on(project, case, D(2026, 2, 26)) == Stage.REMINDER
    assert stage_on(project, case, D(2026, 2, 27)) == Stage.VISIT
    event = case.events.get(kind=EventKind.STAGE)
    assert "承诺缴费日 2026-02-20 已过 7 天" in event.reason
    assert event.by is None


def test_the_manager_has_fifteen_days_to_arrange_the_visit(project, steward, case):
    call(steward, case, D(2026, 2, 2), promise_date=D(2026, 2, 20))

    factories.run(project, D(2026, 2, 27))

    case.refresh_from_db()
    assert case.stage_deadline == D(2026, 3, 14)
    assert case.next_action == NextAction.VISIT
    assert case.next_action_on == D(2026, 2, 27)
    assert case.next_action_due == D(2026, 3, 14)


def test_a_case_not_class_a_within_a_month_goes_to_a_door_visit(project, steward, case):
    call(steward, case, D(2026, 2, 2), owner_said="再说吧")  # B

    assert stage_on(project, case, D(2026, 3, 2)) == Stage.REMINDER
    assert stage_on(project, case, D(2026, 3, 3)) == Stage.VISIT
    assert "未转为 A 类" in case.events.get(kind=EventKind.STAGE).reason


def test_class_a_is_spared_the_one_month_rule(project, steward, case):
    call(steward, case, D(2026, 2, 2), promise_date=D(2026, 3, 8))

    assert stage_on(project, case, D(2026, 3, 5)) == Stage.REMINDER


def test_two_months_unpaid_goes_to_a_door_visit_whatever_the_class(project, steward, case):
    call(steward, case, D(2026, 2, 2), promise_date=D(2026, 3, 31))  # A, promise far off

    assert stage_on(project, case, D(2026, 3, 10)) == Stage.REMINDER
    assert stage_on(project, case, D(2026, 3, 11)) == Stage.VISIT
    assert "已逾 60 天未缴" in case.events.get(kind=EventKind.STAGE).reason


def test_an_escalated_case_is_not_escalated_again(project, steward, case):
    call(steward, case, D(2026, 2, 2), owner_said="再说吧")
    factories.run(project, D(2026, 3, 3))

    again = factories.run(project, D(2026, 3, 3))

    assert again.escalated == 0
    assert case.events.filter(kind=EventKind.STAGE).count() == 1


def test_escalation_rules_are_data_a_project_may_tune(project, steward, case):
    EscalationRule.objects.create(project=project, kind="not_a_within", days=10, deadline_days=5)
    call(steward, case, D(2026, 2, 2), owner_said="再说吧")

    assert stage_on(project, case, D(2026, 2, 11)) == Stage.VISIT
    assert case.stage_deadline == D(2026, 2, 16)


def test_a_rule_switched_off_does_not_fire(project, steward, case):
    EscalationRule.objects.create(project=project, kind="not_a_within", days=30, is_active=False)
    call(steward, case, D(2026, 2, 2), owner_said="再说吧")

    assert stage_on(project, case, D(2026, 3, 5)) == Stage.REMINDER


def test_a_recorded_visit_hands_the_case_back_to_its_class_rule(project, steward, case):
    call(steward, case, D(2026, 2, 2), owner_said="再说吧")
    factories.run(project, D(2026, 3, 3))
    case.refresh_from_db()

    at = factories.at(D(2026, 3, 4), 16)
    contact_record(
        user=steward,
        case=case,
        channel="visit_home",
        reached=True,
        at=at,
        now=at,
        promise_date=D(2026, 3, 9),
    )

    case.refresh_from_db()
    assert case.stage == Stage.VISIT
    assert case.stage_action_done_on == D(2026, 3, 4)
    assert case.case_class == CaseClass.A
    assert (case.next_action, case.next_action_on) == (NextAction.PROMISE_EVE_CALL, D(2026, 3, 8))


def test_follow_up_rules_are_data_a_project_may_tune(project, steward, case):
    FollowUpRule.objects.create(project=project, case_class="B", action="daily_call", days=2)

    call(steward, case, D(2026, 2, 2), owner_said="再说吧")

    case.refresh_from_db()
    assert case.next_action_on == D(2026, 2, 4)


def test_after_the_promise_eve_call_the_next_look_is_the_day_after_the_promise(
    project, steward, case
):
    call(steward, case, D(2026, 2, 2), promise_date=D(2026, 2, 10))
    call(steward, case, D(2026, 2, 9), promise_date=D(2026, 2, 10))

    case.refresh_from_db()
    assert (case.next_action, case.next_action_on) == (NextAction.DAILY_CALL, D(2026, 2, 11))


def test_a_class_e_defence_is_never_escalated_by_age(project, steward, case):
    """LAW.md §10: a case with an owner's defence waits for the supervisor's decision."""
    call(steward, case, D(2026, 2, 2), refusal_reason="leak", owner_said="房屋漏水没人修")
    case.refresh_from_db()
    assert case.case_class == CaseClass.E

    assert stage_on(project, case, D(2026, 3, 3)) == Stage.REMINDER  # 30 days, not class A
    assert stage_on(project, case, D(2026, 4, 20)) == Stage.REMINDER  # 60+ days unpaid
    assert not case.events.filter(kind=EventKind.STAGE).exists()
    assert case.next_action == NextAction.SUPERVISOR_REVIEW


def test_a_class_e_case_moves_on_only_by_the_supervisors_recorded_decision(
    project, steward, supervisor, case
):
    from wuye.dunning.legal_stage import case_set_stage

    call(steward, case, D(2026, 2, 2), refusal_reason="service_quality")
    factories.run(project, D(2026, 4, 20))

    case_set_stage(
        user=supervisor, case=case, stage=Stage.VISIT, reason="主管研判：服务已整改，可上门"
    )

    event = case.events.get(kind=EventKind.STAGE)
    assert event.by == supervisor
    assert "主管研判" in event.reason


def test_the_supervisor_review_task_is_on_the_supervisors_list_not_the_stewards(
    project, steward, supervisor, case
):
    from wuye.dunning.selectors import today_tasks

    call(steward, case, D(2026, 2, 2), refusal_reason="leak")
    case.refresh_from_db()
    day = case.next_action_on

    assert case.next_action == NextAction.SUPERVISOR_REVIEW
    assert [c.pk for c in today_tasks(user=steward, project_id=project.pk, on=day)] == []
    assert [c.pk for c in today_tasks(user=supervisor, project_id=project.pk, on=day)] == [case.pk]
