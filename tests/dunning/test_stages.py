"""Stages after the door visit are decided by people: forward only, with a reason; the legal stage
needs the manager and a delivered written demand whose deadline has passed (LAW.md §4)."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests import uploads
from tests.dunning import factories
from wuye.core.errors import ValidationFailed
from wuye.dunning.assignment import case_reassign
from wuye.dunning.casework import case_set_class
from wuye.dunning.contacts import contact_record
from wuye.dunning.enums import CaseClass, EventKind, NextAction, Stage
from wuye.dunning.legal_stage import case_set_stage

DAY = datetime.timedelta(days=1)
pytestmark = pytest.mark.django_db


@pytest.fixture
def case(project, debtor):
    factories.run(project)
    return factories.case_of(debtor)


def demand(user, case, today, *, deadline, status="delivered", ago=20, proof=True, **kwargs):
    """A written demand delivered ``ago`` days back and entered today (with the signed EMS slip and
    a reason, as a late entry of a delivery needs)."""
    at = factories.at(today - ago * DAY, 10)
    if proof:
        kwargs.setdefault("late_entry_reason", "EMS 签收回执今日才寄回")
        kwargs.setdefault(
            "attachments", [SimpleUploadedFile("ems.jpg", uploads.JPEG, "image/jpeg")]
        )
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
        **kwargs,
    )


def test_a_case_cannot_go_to_the_legal_stage_without_a_delivered_demand(manager, case):
    with pytest.raises(ValidationFailed) as refused:
        case_set_stage(user=manager, case=case, stage=Stage.LEGAL, reason="拒不缴费")

    assert refused.value.code == "dunning.no_demand"
    assert "《民法典》第九百四十四条" in refused.value.message


def test_a_demand_whose_deadline_has_not_passed_is_not_enough(manager, steward, case, today):
    demand(steward, case, today, deadline=today + 5 * DAY)

    with pytest.raises(ValidationFailed, match="尚未届满"):
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


# --- a real demand period (LAW.md §4; issue: a notice delivered today with yesterday's deadline) ----


def test_a_demand_whose_deadline_is_before_its_delivery_is_refused(steward, case, today):
    with pytest.raises(ValidationFailed) as refused:
        contact_record(
            user=steward,
            case=case,
            channel="door_notice",
            reached=False,
            delivery_status="delivered",
            demand_deadline=today - DAY,
            at=factories.at(today, 10),
            now=factories.at(today, 10),
        )
    assert refused.value.code == "dunning.demand_period"
    assert refused.value.field == "demand_deadline"
    assert "《民法典》第九百四十四条第二款" in refused.value.message
    assert "LAW.md" not in refused.value.message


def test_a_demand_deadline_under_the_minimum_period_is_refused(steward, case, today):
    with pytest.raises(ValidationFailed, match="至少 15 天"):
        demand(steward, case, today, deadline=today - 6 * DAY)  # 14 days after delivery


def test_the_project_may_lengthen_the_demand_period(project, steward, case, today):
    from wuye.dunning.models import DunningSettings

    DunningSettings.objects.create(project=project, demand_min_days=30)
    with pytest.raises(ValidationFailed, match="至少 30 天"):
        demand(steward, case, today, deadline=today - DAY, ago=20)


def test_a_delivery_entered_days_later_needs_a_reason_and_proof(steward, case, today):
    with pytest.raises(ValidationFailed) as refused:
        demand(steward, case, today, deadline=today - DAY, proof=False)
    assert refused.value.code == "dunning.late_delivery_entry"

    with pytest.raises(ValidationFailed):
        demand(
            steward, case, today, deadline=today - DAY, proof=False, late_entry_reason="忘了登记"
        )

    record = demand(steward, case, today, deadline=today - DAY)
    assert record.late_entry_reason == "EMS 签收回执今日才寄回"


def test_a_delivery_cannot_be_recorded_in_the_future(steward, case, today):
    with pytest.raises(ValidationFailed):
        demand(steward, case, today, deadline=today + 30 * DAY, ago=-2)


def _raw_demand(steward, case, *, at, deadline, reason="", recorded_at=None):
    """A record as an older version let through, written around the service."""
    from wuye.dunning.models import ContactRecord

    record = ContactRecord.objects.create(
        case=case,
        project_id=case.project_id,
        at=at,
        by=steward,
        channel="door_notice",
        delivery_status="delivered",
        demand_deadline=deadline,
        late_entry_reason=reason,
    )
    if recorded_at is not None:
        ContactRecord.objects.filter(pk=record.pk).update(recorded_at=recorded_at)
    return record


def test_the_legal_stage_check_compares_the_deadline_with_the_delivery(
    manager, steward, case, today
):
    """The outside test: a door notice recorded today as delivered with yesterday's deadline."""
    _raw_demand(steward, case, at=factories.at(today, 9), deadline=today - DAY)

    with pytest.raises(ValidationFailed) as refused:
        case_set_stage(user=manager, case=case, stage=Stage.LEGAL, reason="拒不缴费")
    assert refused.value.code == "dunning.no_demand"
    assert "不足 15 天" in refused.value.message
    case.refresh_from_db()
    assert case.stage != Stage.LEGAL


def test_the_legal_stage_check_refuses_a_back_dated_delivery_without_proof(
    manager, steward, case, today
):
    _raw_demand(steward, case, at=factories.at(today - 30 * DAY, 9), deadline=today - 10 * DAY)

    with pytest.raises(ValidationFailed, match="补登"):
        case_set_stage(user=manager, case=case, stage=Stage.LEGAL, reason="拒不缴费")


def test_the_legal_stage_check_refuses_a_delivery_dated_after_its_entry(
    manager, steward, case, today
):
    _raw_demand(
        steward,
        case,
        at=factories.at(today - DAY, 9),
        deadline=today - DAY,
        recorded_at=factories.at(today - 40 * DAY, 9),
    )

    with pytest.raises(ValidationFailed):
        case_set_stage(user=manager, case=case, stage=Stage.LEGAL, reason="拒不缴费")
