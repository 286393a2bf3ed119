"""An outcome that says nothing new (no answer, powered off) never lowers a class that a
conversation set — a disputed case stays E; a case's dates agree everywhere, and its first task is
not already overdue on the day it opens. Fixed calendar: a bill due 2026-01-10, the case opened by
the run of 2026-02-01."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.dunning import factories
from wuye.dunning.contacts import contact_record
from wuye.dunning.enums import CaseClass, NextAction, Stage

D = datetime.date
DAY = datetime.timedelta(days=1)
pytestmark = pytest.mark.django_db


@pytest.fixture
def case(project, steward, item):
    acct = factories.debtor(project, "3-2-1502", steward=steward)
    factories.bill(acct, item, "300.00", D(2026, 1, 1), D(2026, 1, 10))
    factories.run(project, D(2026, 2, 1))
    return factories.case_of(acct)


def record(steward, case, day, hour=10, **kwargs):
    at = factories.at(day, hour)
    kwargs.setdefault("channel", "phone")
    return contact_record(user=steward, case=case, at=at, now=at, **kwargs)


@pytest.mark.parametrize("reason", ["no_answer", "powered_off", "no_signal"])
def test_an_unanswered_call_never_lowers_a_dispute_from_class_e(steward, case, reason):
    record(
        steward, case, D(2026, 2, 2), reached=True, refusal_reason="disputed_amount",
        owner_said="面积算错了，车位费也不该收",
    )  # fmt: skip

    record(steward, case, D(2026, 2, 5), reached=False, unreached_reason=reason)

    case.refresh_from_db()
    assert case.case_class == CaseClass.E
    assert not case.events.filter(kind="class", to_value="B").exists()
    assert case.next_action == NextAction.SUPERVISOR_REVIEW
    assert case.next_action_on >= D(2026, 2, 5)  # not a step dated in the past
    assert case.stage == Stage.REMINDER


def test_an_unanswered_eve_call_keeps_the_promise_and_class_a(steward, case):
    record(steward, case, D(2026, 2, 2), reached=True, promise_date=D(2026, 2, 20))

    record(steward, case, D(2026, 2, 19), reached=False, unreached_reason="no_answer")

    case.refresh_from_db()
    assert (case.case_class, case.promise_date) == (CaseClass.A, D(2026, 2, 20))


def test_living_elsewhere_stays_d_when_the_phone_is_off(steward, case):
    record(steward, case, D(2026, 2, 2), reached=True, lives_elsewhere=True)
    record(steward, case, D(2026, 2, 3), reached=False, unreached_reason="powered_off")

    case.refresh_from_db()
    assert case.case_class == CaseClass.D


def test_a_number_found_dead_still_makes_class_c(steward, case):
    record(steward, case, D(2026, 2, 2), reached=True, refusal_reason="leak")
    record(steward, case, D(2026, 2, 3), reached=False, unreached_reason="disconnected")

    case.refresh_from_db()
    assert case.case_class == CaseClass.C


def test_a_first_unanswered_call_still_classifies_b(steward, case):
    record(steward, case, D(2026, 2, 2), reached=False, unreached_reason="no_answer")

    case.refresh_from_db()
    assert case.case_class == CaseClass.B


def test_a_new_cases_first_task_is_not_overdue_on_the_day_it_opens(project, steward, item):
    today = timezone.localdate()
    acct = factories.debtor(project, "6-1-101", steward=steward, owner="王五")
    factories.bill(acct, item, "300.00", today - 400 * DAY, today - 300 * DAY)  # a very old debt

    factories.run(project, today)

    case = factories.case_of(acct)
    assert case.opened_on == today
    assert case.next_action_on == today
    assert case.next_action_due >= today


def test_the_case_page_and_lists_show_the_same_dates(client, project, steward, supervisor, item):
    today = timezone.localdate()
    acct = factories.debtor(project, "6-1-101", steward=steward, owner="王五")
    factories.bill(acct, item, "300.00", today - 400 * DAY, today - 300 * DAY)
    factories.run(project, today)
    case = factories.case_of(acct)

    client.force_login(steward)
    mine = client.get(reverse("dunning:today")).content.decode()
    page = client.get(reverse("dunning:case", args=[case.pk])).content.decode()
    client.force_login(supervisor)
    listed = client.get(reverse("dunning:cases")).content.decode()

    shown = f"首次电话提醒 {today:%m-%d}"
    assert shown in re.sub(r"\s+", " ", mine)
    assert shown in re.sub(r"\s+", " ", listed)
    assert f"首次电话提醒 {today:%Y-%m-%d}" in page
    assert "逾期" not in re.sub(r"<[^>]+>", "", page).split("下一步")[1][:40]
