"""The demo's dunning history: open cases in every class and stage, with four weeks of contacts
recorded through the real services."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from wuye.dunning.enums import CaseClass, CaseState, Channel, DeliveryStatus, Stage
from wuye.dunning.models import ArrearsCase, ContactRecord
from wuye.registry.enums import PhoneValidity

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    out = io.StringIO()
    call_command("demo_data", "--rooms", "80", stdout=out)
    return out.getvalue()


def open_cases():
    return ArrearsCase.objects.filter(state=CaseState.OPEN)


def test_open_cases_occur_in_every_class(demo):
    assert set(open_cases().values_list("case_class", flat=True)) >= set(CaseClass.values)


def test_open_cases_occur_in_every_stage(demo):
    assert set(open_cases().values_list("stage", flat=True)) == set(Stage.values)


def test_contacts_lie_in_the_last_four_weeks_and_cover_the_outcomes(demo):
    contacts = ContactRecord.objects.all()
    assert contacts.filter(reached=True).exists()
    assert contacts.filter(reached=False, unreached_reason="disconnected").exists()
    assert contacts.exclude(refusal_reason="").exists()
    assert contacts.filter(promise_date__isnull=False).exists()
    assert contacts.filter(
        channel=Channel.DOOR_NOTICE, delivery_status=DeliveryStatus.DELIVERED
    ).exists()
    assert contacts.filter(channel=Channel.LAWYER_LETTER).exists()


def test_an_unreached_call_marks_the_number(demo):
    dead = ContactRecord.objects.filter(unreached_reason="disconnected").select_related("phone")
    assert any(c.phone.validity == PhoneValidity.DISCONNECTED for c in dead if c.phone)


def test_a_kept_promise_closed_its_case(demo):
    assert ArrearsCase.objects.filter(
        state=CaseState.CLOSED, contacts__promise_date__isnull=False
    ).exists()


def test_a_broken_promise_has_taken_its_case_past_the_reminder_stage(demo):
    week_ago = timezone.localdate() - datetime.timedelta(days=7)
    broken = open_cases().filter(promise_date__lt=week_ago, stage=Stage.REMINDER)
    assert open_cases().filter(promise_date__lt=week_ago).exists()
    # Broken: back in class B (no date any more), and past the reminder stage unless a later
    # contact gave a new date.
    assert not open_cases().filter(promise_date__lt=week_ago, case_class=CaseClass.A).exists()
    assert not broken.exists()


def test_the_legal_stage_rests_on_a_delivered_demand(demo):
    legal = open_cases().filter(stage=Stage.LEGAL)
    assert legal.exists()
    for case in legal.annotate(n=Count("contacts")):
        assert case.contacts.filter(
            delivery_status=DeliveryStatus.DELIVERED, channel=Channel.LAWYER_LETTER
        ).exists()


def test_most_open_cases_had_a_first_contact_soon_after_opening(demo):
    week_ago = timezone.localdate() - datetime.timedelta(days=7)
    # Cases opened by today's run are today's first calls; the older ones had theirs.
    cases = list(open_cases().filter(opened_on__lte=week_ago).prefetch_related("contacts"))
    assert cases
    contacted = [
        c for c in cases if any((x.at.date() - c.opened_on).days <= 7 for x in c.contacts.all())
    ]
    assert len(contacted) >= 0.8 * len(cases)


def test_most_open_cases_carry_a_class_and_refusals_a_reason(demo):
    week_ago = timezone.localdate() - datetime.timedelta(days=7)
    cases = open_cases().filter(opened_on__lte=week_ago)
    assert cases.exclude(case_class="").count() >= 0.8 * cases.count()
    for case in cases.filter(case_class=CaseClass.E):
        assert case.contacts.exclude(refusal_reason="").exists()


def test_escalated_cases_were_contacted_first_and_visited_or_still_due(demo):
    two_weeks_ago = timezone.localdate() - datetime.timedelta(days=14)
    escalated = open_cases().filter(stage=Stage.VISIT, stage_since__lte=two_weeks_ago)
    assert escalated.exists()
    # No case reaches the visit stage without a first contact ("上次联系：尚无" never shows there).
    assert not escalated.filter(last_contact_at__isnull=True).exists()
    for case in escalated.exclude(contacts__channel=Channel.VISIT_HOME):
        # Not visited yet: a broken promise escalated last week, its visit still to come.
        assert case.promise_date is not None or case.next_action_due >= timezone.localdate()


def test_first_calls_are_capped_a_project_and_shared_among_the_stewards(monkeypatch):
    """A 100,000-room demo opens ~39,000 cases four weeks ago: only ``FIRST_CALLS_MAX`` of them get
    their first contact (one at a time through ``contact_record``), taken from each steward in turn."""
    from wuye.demo import dunning_history

    called: list[ArrearsCase] = []
    first_contact = dunning_history.DunningHistory._first_contact

    def spy(self, case, days_ago):
        called.append(case)
        return first_contact(self, case, days_ago)

    monkeypatch.setattr(dunning_history, "FIRST_CALLS_MAX", 6)
    monkeypatch.setattr(dunning_history.DunningHistory, "_first_contact", spy)
    call_command("demo_data", "--rooms", "600", "--months", "3", stdout=io.StringIO())
    assert len(called) == 6
    assert len({c.assignee_id for c in called}) > 1
    assert [c.pk for c in called] == sorted(c.pk for c in called)
