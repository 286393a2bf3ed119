"""Stages after the door visit are decided by people: forward only, with a reason; the legal stage
needs the manager and a delivered written demand whose deadline has passed (LAW.md §4)."""

import datetime

import pytest

from tests.dunning import factories
from wuye.core.errors import ValidationFailed
from wuye.dunning.enums import CaseClass, EventKind, NextAction, Stage
from wuye.dunning.services import (
    case_reassign,
    case_set_class,
    case_set_stage,
    contact_record,
)

DAY = datetime.timedelta(days=1)
pytestmark = pytest.mark.django_db


@pytest.fixture
def case(project, debtor):
    factories.run(project)
    return factories.case_of(debtor)


def demand(user, case, today, *, deadline, status="delivered"):
    at = factories.at(today - 20 * DAY, 10)
    return contact_record(
        user=user,
        case=case,
        channel="mail",
        reached=False,
        delivery_status=status,
        delivery_ref="EMS1234567890",
        demand_deadline=deadline,
        at=at,
        now=factories.at(today, 10),
    )


def test_a_case_cannot_go_to_the_legal_stage_without_a_delivered_demand(manager, case):
    with pytest.raises(ValidationFailed) as refused:
        case_set_stage(user=manager, case=case, stage=Stage.LEGAL, reason="拒不缴费")

    assert refused.value.code == "dunning.no_demand"
    assert "944" in refused.value.message


def test_a_demand_whose_deadline_has_not_passed_is_not_enough(manager, steward, case, today):
    demand(steward, case, today, deadline=today + 5 * DAY)

    with pytest.raises(ValidationFailed, match="期限已过"):
        case_set_stage(user=manager, case=case, stage=Stage.LEGAL, reason="拒不缴费")


def test_an_undelivered_demand_is_not_enough(manager, steward, case, today):
    demand(steward, case, today, deadline=today - DAY, status="returned")

    with pytest.raises(ValidationFailed):
        case_set_stage(user=manager, case=case, stage=Stage.LEGAL, reason="拒不缴费")


def test_the_manager_sends_a_case_to_legal_after_a_delivered_demand_expired(
    manager, steward, case, today
):
    demand(steward, case, today, deadline=today - DAY)

    case_set_stage(user=manager, case=case, stage=Stage.LEGAL, reason="催告期满仍拒缴")

    case.refresh_from_db()
    assert case.stage == Stage.LEGAL
    assert case.next_action == NextAction.LEGAL_REVIEW
    event = case.events.get(kind=EventKind.STAGE)
    assert (event.from_value, event.to_value, event.by) == (Stage.REMINDER, Stage.LEGAL, manager)


def test_a_supervisor_cannot_decide_on_legal_action(supervisor, steward, case, today):
    demand(steward, case, today, deadline=today - DAY)

    with pytest.raises(ValidationFailed, match="项目经理"):
        case_set_stage(user=supervisor, case=case, stage=Stage.LEGAL, reason="拒缴")


def test_stages_only_move_forward(supervisor, case):
    case_set_stage(user=supervisor, case=case, stage=Stage.WRITTEN_DEMAND, reason="上门未果")

    with pytest.raises(ValidationFailed, match="向后"):
        case_set_stage(user=supervisor, case=case, stage=Stage.VISIT, reason="退回")


def test_a_written_demand_stage_asks_for_the_notice_until_one_is_recorded(
    supervisor, steward, case, today
):
    case_set_stage(user=supervisor, case=case, stage=Stage.WRITTEN_DEMAND, reason="上门未果")
    case.refresh_from_db()
    assert case.next_action == NextAction.WRITTEN_DEMAND

    demand(steward, case, today, deadline=today + 15 * DAY, status="sent")

    case.refresh_from_db()
    assert case.stage_action_done_on is not None
    assert case.next_action != NextAction.WRITTEN_DEMAND


def test_a_steward_cannot_move_stages(steward, case):
    with pytest.raises(ValidationFailed, match="客服主管"):
        case_set_stage(user=steward, case=case, stage=Stage.VISIT, reason="想上门")


def test_the_steward_changes_the_class_with_a_reason(steward, case):
    with pytest.raises(ValidationFailed) as refused:
        case_set_class(user=steward, case=case, case_class="D", reason="")
    assert refused.value.field == "reason"

    case_set_class(user=steward, case=case, case_class="D", reason="物业登记在外地工作")

    case.refresh_from_db()
    assert case.case_class == CaseClass.D
    assert case.class_set_by == steward
    assert case.next_action == NextAction.REMOTE_GUIDE


def test_only_supervisors_reassign(steward, supervisor, case):
    with pytest.raises(ValidationFailed):
        case_reassign(user=steward, case=case, assignee=supervisor, reason="我忙")

    case_reassign(user=supervisor, case=case, assignee=supervisor, reason="主管亲自跟进")
    case.refresh_from_db()
    assert case.assignee == supervisor
