"""The daily dunning run (SPEC §5 step 2): a case for every account with money overdue past the grace
period, refreshed daily, closed when nothing is overdue; idempotent."""

import datetime

import pytest

from tests.dunning import factories
from wuye.dunning import daily_run
from wuye.dunning.enums import CaseState, EventKind, NextAction, Stage
from wuye.dunning.models import ArrearsCase, CaseEvent, DunningRun

DAY = datetime.timedelta(days=1)
pytestmark = pytest.mark.django_db


def test_run_opens_a_case_for_an_account_overdue_past_the_grace_period(
    project, debtor, steward, today
):
    result = factories.run(project)

    case = factories.case_of(debtor)
    assert result.opened == 1
    assert case.state == CaseState.OPEN
    assert case.overdue_amount == 200
    assert case.overdue_bills == 2
    assert case.oldest_due_date == today - 40 * DAY
    assert case.aging_days == 40
    assert case.room_id == debtor.room_id


def test_new_case_goes_to_the_steward_of_its_building(project, debtor, steward):
    factories.run(project)

    assert factories.case_of(debtor).assignee == steward


def test_money_overdue_within_the_grace_period_opens_no_case(project, item, today):
    acct = factories.debtor(project, "1-1-101")
    factories.bill(acct, item, "100.00", today - 30 * DAY, today - 10 * DAY)  # grace is 15 days

    assert factories.run(project).opened == 0
    assert factories.case_of(acct) is None


def test_bills_not_yet_due_open_no_case(project, item, today):
    acct = factories.debtor(project, "1-1-101")
    factories.bill(acct, item, "100.00", today - 5 * DAY, today + 10 * DAY)

    factories.run(project)

    assert factories.case_of(acct) is None


def test_running_twice_the_same_day_changes_nothing(project, debtor):
    factories.run(project)
    events = CaseEvent.objects.count()
    before = list(ArrearsCase.objects.values())

    second = factories.run(project)

    assert (second.opened, second.updated, second.closed, second.escalated) == (0, 0, 0, 0)
    assert second.unchanged == 1
    assert list(ArrearsCase.objects.values()) == before
    assert CaseEvent.objects.count() == events


def test_preview_writes_nothing(project, debtor):
    result = factories.run(project, preview=True)

    assert result.opened == 1
    assert ArrearsCase.objects.count() == 0
    assert DunningRun.objects.count() == 0


def test_next_day_run_refreshes_aging(project, debtor, today):
    factories.run(project, today - DAY)

    result = factories.run(project, today)

    assert result.updated == 1
    assert factories.case_of(debtor).aging_days == 40


def test_run_closes_the_case_once_nothing_is_overdue(project, debtor, cashier, today):
    factories.run(project)
    factories.pay(cashier, debtor, "200.00", include_late_fees=False)

    result = factories.run(project)

    case = factories.case_of(debtor)
    assert result.closed == 1
    assert case.state == CaseState.CLOSED
    assert case.closed_on == today
    assert case.next_action_on is None
    assert case.events.filter(kind=EventKind.CLOSED).exists()


def test_a_part_payment_keeps_the_case_open_with_the_new_amount(project, debtor, cashier, today):
    factories.run(project)
    factories.pay(cashier, debtor, "100.00", include_late_fees=False)

    factories.run(project)

    case = factories.case_of(debtor)
    assert case.state == CaseState.OPEN
    assert case.overdue_amount == 100
    assert case.oldest_due_date == today - 20 * DAY


def test_at_most_one_open_case_per_account(project, debtor):
    factories.run(project)
    case = factories.case_of(debtor)

    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        ArrearsCase.objects.create(
            project=project,
            account=debtor,
            room_id=debtor.room_id,
            opened_on=case.opened_on,
            stage_since=case.opened_on,
        )


def test_a_new_case_starts_with_the_first_call_due_within_a_week(project, item, today):
    acct = factories.debtor(project, "1-1-101")
    factories.bill(acct, item, "100.00", today - 40 * DAY, today - 20 * DAY)

    factories.run(project)

    case = factories.case_of(acct)
    assert case.stage == Stage.REMINDER
    assert case.next_action == NextAction.FIRST_CALL
    assert case.next_action_on == today
    assert case.next_action_due == today + 7 * DAY


def test_the_run_leaves_other_projects_alone(project, other_project, debtor, item, today):
    other = factories.debtor(other_project, "9-9-909")
    factories.bill(
        other, factories.fee_item(other_project), "50.00", today - 90 * DAY, today - 80 * DAY
    )

    factories.run(project)

    assert factories.case_of(other) is None


def test_a_run_interrupted_half_way_leaves_nothing_and_the_rerun_does_it_all(
    project, debtor, monkeypatch
):
    real_insert_rows = daily_run.insert_rows

    def crash(model, rows):  # the cases are written, then the process dies before the timeline
        if model is CaseEvent:
            raise RuntimeError("power cut")
        return real_insert_rows(model, rows)

    monkeypatch.setattr(daily_run, "insert_rows", crash)
    with pytest.raises(RuntimeError):
        factories.run(project)
    assert ArrearsCase.objects.count() == 0
    assert DunningRun.objects.count() == 0

    monkeypatch.setattr(daily_run, "insert_rows", real_insert_rows)
    result = factories.run(project)

    assert result.opened == 1 and ArrearsCase.objects.count() == 1
    assert CaseEvent.objects.filter(case=factories.case_of(debtor)).exists()
