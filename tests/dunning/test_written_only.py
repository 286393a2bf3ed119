"""An owner who asked for written contact only (LAW.md §8) gets no call tasks: the follow-up and
escalation rules put the written channels in place of calls and visits, and today's list offers no
dial button. Fixed calendar: a bill due 2026-01-10, the case opened by the run of 2026-02-01."""

import datetime

import pytest
from django.urls import reverse

from tests.dunning import factories
from wuye.dunning.contacts import contact_record
from wuye.dunning.enums import NextAction, Stage
from wuye.registry import services as registry

D = datetime.date
pytestmark = pytest.mark.django_db
CALLS = {
    NextAction.FIRST_CALL,
    NextAction.PROMISE_EVE_CALL,
    NextAction.DAILY_CALL,
    NextAction.REMOTE_GUIDE,
    NextAction.FIND_NUMBER,
    NextAction.VISIT,
}


@pytest.fixture
def written(project, steward, item):
    acct = factories.debtor(project, "3-2-1502", steward=steward)
    registry.person_update(user=None, person=acct.payer, written_contact_only=True)
    factories.bill(acct, item, "300.00", D(2026, 1, 1), D(2026, 1, 10))
    factories.run(project, D(2026, 2, 1))
    return factories.case_of(acct)


def record(user, case, day, channel, hour=10, **kwargs):
    at = factories.at(day, hour)
    kwargs.setdefault("reached", False)
    return contact_record(user=user, case=case, channel=channel, at=at, now=at, **kwargs)


def test_a_written_only_owners_first_task_is_a_message_not_a_call(written):
    assert written.next_action == NextAction.REMINDER_SMS
    assert (written.next_action_on, written.next_action_due) == (D(2026, 2, 1), D(2026, 2, 8))


def test_after_an_unanswered_message_the_follow_up_is_written_not_a_daily_call(
    project, steward, written
):
    record(steward, written, D(2026, 2, 2), "sms", delivery_status="delivered")

    written.refresh_from_db()
    assert written.next_action == NextAction.WRITTEN_FOLLOW_UP
    assert written.next_action_on == D(2026, 2, 9)  # the written cadence: every 7 days
    for day in range(3, 10):  # the daily run keeps it so
        factories.run(project, D(2026, 2, day))
        written.refresh_from_db()
        assert written.next_action not in CALLS


def test_a_promise_in_writing_is_reminded_by_message_the_day_before(steward, written):
    record(steward, written, D(2026, 2, 2), "sms", reached=True, promise_date=D(2026, 2, 20))

    written.refresh_from_db()
    assert (written.next_action, written.next_action_on) == (
        NextAction.PROMISE_EVE_SMS,
        D(2026, 2, 19),
    )


def test_the_age_escalation_sends_a_written_demand_not_a_door_visit(project, steward, written):
    record(steward, written, D(2026, 2, 2), "sms", delivery_status="delivered")  # class B

    factories.run(project, D(2026, 3, 3))  # 30 days without a date: a visit for anyone else

    written.refresh_from_db()
    assert written.stage == Stage.WRITTEN_DEMAND
    assert written.next_action == NextAction.WRITTEN_DEMAND
    assert written.stage_deadline == D(2026, 3, 18)
    assert "仅以书面方式联系" in written.events.get(kind="stage").reason


def test_after_the_written_demand_the_follow_up_is_not_a_daily_call(project, steward, written):
    record(steward, written, D(2026, 2, 2), "sms", delivery_status="delivered")
    factories.run(project, D(2026, 3, 3))
    written.refresh_from_db()

    record(
        steward,
        written,
        D(2026, 3, 4),
        "mail",
        delivery_status="delivered",
        demand_deadline=D(2026, 3, 20),
    )

    written.refresh_from_db()
    assert written.stage_action_done_on == D(2026, 3, 4)
    assert written.next_action == NextAction.WRITTEN_FOLLOW_UP
    assert written.next_action != NextAction.DAILY_CALL
    assert written.next_action_on == D(2026, 3, 11)


def test_a_case_put_in_the_visit_stage_asks_a_written_owner_for_a_written_demand(
    project, steward, supervisor, written
):
    from wuye.dunning.legal_stage import case_set_stage

    case = case_set_stage(user=supervisor, case=written, stage="visit", reason="主管决定")
    assert case.next_action == NextAction.WRITTEN_DEMAND

    record(steward, case, D.today(), "door_notice", delivery_status="sent")
    case.refresh_from_db()
    assert case.stage_action_done_on is not None  # done in writing, not stuck on a visit


def test_todays_list_offers_no_dial_button_for_a_written_only_owner(client, steward, written):
    client.force_login(steward)

    html = client.get(reverse("dunning:today")).content.decode()
    assert "3-2-1502" in html
    assert "tel:" not in html
    assert "仅以书面方式联系" in html

    form = client.get(reverse("dunning:contact_form", args=[written.pk])).content.decode()
    assert 'value="phone"' not in form and 'value="visit_home"' not in form
    assert 'value="sms" selected' in form


def test_the_flag_set_on_an_open_case_turns_its_call_into_writing_at_the_next_run(
    project, steward, item
):
    acct = factories.debtor(project, "5-1-301", steward=steward, owner="李四")
    factories.bill(acct, item, "300.00", D(2026, 1, 1), D(2026, 1, 10))
    factories.run(project, D(2026, 2, 1))
    assert factories.case_of(acct).next_action == NextAction.FIRST_CALL

    registry.person_update(user=None, person=acct.payer, written_contact_only=True)
    factories.run(project, D(2026, 2, 2))

    assert factories.case_of(acct).next_action == NextAction.REMINDER_SMS
