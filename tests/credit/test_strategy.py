"""The dunning run applies the household's segment strategy on top of the class rules (frozen
calendar: everything happens on fixed dates in March 2026)."""

import datetime

import pytest

from tests.credit.factories import DAY, recompute
from tests.credit.test_segments import _history
from tests.dunning import factories as dunning
from wuye.core.errors import ValidationFailed
from wuye.dunning.contacts import contact_record
from wuye.dunning.enums import NextAction, Stage
from wuye.dunning.models import DunningSettings

ON = datetime.date(2026, 3, 20)  # February's bill (due 02-15) is 33 days overdue


@pytest.fixture
def reliable(project, steward, item, cashier):
    acct = dunning.debtor(project, "1-1-101", steward=steward, owner="王五")
    _history(acct, item, cashier, on_time=11, late=0, unpaid=1)
    return acct


@pytest.fixture
def plain(project, steward, item, cashier):
    """The same history, in a project whose credit files were never computed for it."""
    acct = dunning.debtor(project, "1-1-102", steward=steward, owner="赵六")
    _history(acct, item, cashier, on_time=11, late=0, unpaid=1)
    return acct


def test_a_reliable_payers_first_action_is_a_reminder_message(project, reliable, plain):
    recompute(project, ON, account_ids=[reliable.pk])
    dunning.run(project, ON)
    assert dunning.case_of(reliable).next_action == NextAction.REMINDER_SMS
    assert dunning.case_of(plain).next_action == NextAction.FIRST_CALL


def test_call_cadence_of_the_segment_sets_the_next_call_of_a_class_b_case(
    project, reliable, plain, steward
):
    recompute(project, ON, account_ids=[reliable.pk])
    dunning.run(project, ON)
    called = ON + DAY
    for acct in (reliable, plain):
        contact_record(
            user=steward,
            case=dunning.case_of(acct),
            channel="phone",
            at=dunning.at(called, 10),
            now=dunning.at(called, 10, 5),
            reached=False,
            unreached_reason="no_answer",
        )
    assert dunning.case_of(reliable).next_action_on == called + 3 * DAY  # on_time: every 3 days
    assert dunning.case_of(plain).next_action_on == called + DAY  # class B default: daily


def test_a_chronic_debtor_escalates_at_the_segments_days(project, steward, item, cashier):
    chronic = dunning.debtor(project, "1-1-103", steward=steward, owner="钱七")
    other = dunning.debtor(project, "1-1-104", steward=steward, owner="孙八")
    _history(chronic, item, cashier, on_time=6, late=4, unpaid=2)
    _history(other, item, cashier, on_time=6, late=4, unpaid=2)
    recompute(project, ON, account_ids=[chronic.pk])
    # January's bill (due 01-15) is 64 days overdue on 03-20; a day when it is 50 days overdue,
    # after the first call's week (the cases opened on 02-24) has passed unanswered:
    day = datetime.date(2026, 3, 6)
    dunning.run(project, day - 10 * DAY)
    assert dunning.case_of(chronic).stage == Stage.REMINDER
    dunning.run(project, day)
    case = dunning.case_of(chronic)
    assert case.stage == Stage.VISIT
    event = case.events.filter(kind="stage").get()
    assert "45 天" in event.reason and "长期拖欠" in event.reason
    assert dunning.case_of(other).stage == Stage.REMINDER  # the class default is 60 days


def test_a_strategy_escalation_below_the_projects_floor_is_raised_to_it(
    project, steward, item, cashier
):
    chronic = dunning.debtor(project, "1-1-103", steward=steward, owner="钱七")
    _history(chronic, item, cashier, on_time=6, late=4, unpaid=2)
    recompute(project, ON, account_ids=[chronic.pk])
    # The project lengthens its grace after the segment (45 days) was saved: the floor becomes
    # 44 + 7 = 51 days, and the strategy cannot go below it.
    DunningSettings.objects.create(project=project, grace_days=44)
    dunning.run(project, datetime.date(2026, 3, 1))  # opened: the first call comes first
    called = dunning.at(datetime.date(2026, 3, 2), 10)
    contact_record(
        user=steward,
        case=dunning.case_of(chronic),
        channel="phone",
        at=called,
        now=called,
        reached=False,
        unreached_reason="no_answer",
    )
    dunning.run(project, datetime.date(2026, 3, 6))  # January's bill 50 days overdue
    assert dunning.case_of(chronic).stage == Stage.REMINDER
    dunning.run(project, datetime.date(2026, 3, 7))  # 51 days
    assert dunning.case_of(chronic).stage == Stage.VISIT


def test_contact_windows_still_bind_a_household_with_a_strategy(project, reliable, steward):
    recompute(project, ON, account_ids=[reliable.pk])
    dunning.run(project, ON)
    with pytest.raises(ValidationFailed) as exc:
        contact_record(
            user=steward,
            case=dunning.case_of(reliable),
            channel="phone",
            at=dunning.at(ON + DAY, 21, 30),
            now=dunning.at(ON + DAY, 21, 31),
            reached=True,
        )
    assert exc.value.code == "dunning.outside_hours"


def test_the_strategy_lookup_is_one_query_for_the_whole_run(
    project, steward, item, cashier, django_assert_max_num_queries
):
    from wuye.dunning.casework import case_strategies

    for n in range(4):
        acct = dunning.debtor(project, f"2-1-{n + 1}", steward=steward, owner=f"户{n}")
        _history(acct, item, cashier, on_time=11, late=0, unpaid=1)
    recompute(project, ON)
    with django_assert_max_num_queries(1):
        found = case_strategies(project.pk, None)
    assert len(found) == 4
    assert all(s.first_action_sms for s in found.values())
