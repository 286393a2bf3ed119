"""SPEC §5 steps 4–7: a new case starts with the first call whatever its age; the age escalations
apply only after the first contact, or once the first call's deadline has passed unanswered.
Fixed calendar: a bill due 2025-10-01, the system goes live (first daily run) on 2026-02-01 — the
debt is then 123 days old, far past the 60-day escalation."""

import datetime

import pytest

from tests.dunning import factories
from wuye.dunning.contacts import contact_record
from wuye.dunning.enums import NextAction, Stage

D = datetime.date
pytestmark = pytest.mark.django_db
GO_LIVE = D(2026, 2, 1)


@pytest.fixture
def old_debt(project, steward, item):
    acct = factories.debtor(project, "3-2-1502", steward=steward)
    factories.bill(acct, item, "300.00", D(2025, 9, 1), D(2025, 10, 1))
    return acct


def test_an_old_debt_opens_with_the_first_call_not_a_door_visit(project, old_debt):
    result = factories.run(project, GO_LIVE)

    case = factories.case_of(old_debt)
    assert result.escalated == 0
    assert case.stage == Stage.REMINDER
    assert case.next_action == NextAction.FIRST_CALL
    assert (case.next_action_on, case.next_action_due) == (GO_LIVE, D(2026, 2, 8))
    assert not case.events.filter(kind="stage").exists()


def test_runs_inside_the_first_call_week_do_not_escalate_an_uncalled_case(project, old_debt):
    for day in range(1, 9):
        factories.run(project, D(2026, 2, day))

    case = factories.case_of(old_debt)
    assert case.stage == Stage.REMINDER
    assert case.next_action == NextAction.FIRST_CALL


def test_the_first_call_deadline_passed_unanswered_lets_the_age_escalation_apply(project, old_debt):
    factories.run(project, GO_LIVE)
    factories.run(project, D(2026, 2, 8))
    assert factories.case_of(old_debt).stage == Stage.REMINDER

    factories.run(project, D(2026, 2, 9))

    case = factories.case_of(old_debt)
    assert case.stage == Stage.VISIT
    assert case.stage_since == D(2026, 2, 9)
    assert "已逾 60 天未缴" in case.events.get(kind="stage").reason


def test_after_the_first_contact_the_age_escalation_applies(project, steward, old_debt):
    factories.run(project, GO_LIVE)
    case = factories.case_of(old_debt)
    at = factories.at(D(2026, 2, 2), 10)
    contact_record(
        user=steward, case=case, channel="phone", reached=True, owner_said="再说吧", at=at, now=at
    )

    factories.run(project, D(2026, 2, 3))

    case.refresh_from_db()
    assert case.stage == Stage.VISIT
    assert case.stage_since == D(2026, 2, 3)
