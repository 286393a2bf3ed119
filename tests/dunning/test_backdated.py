"""Back-dated records (issue 16 item 13): a contact keeps both the time it happened and the time it
was entered; the daily check shows both and flags back-dated entries on the day they were typed in;
the evidence pack shows both times."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.dunning import factories
from wuye.dunning.contacts import contact_record
from wuye.dunning.evidence import evidence_index
from wuye.dunning.selectors import daily_check

DAY = datetime.timedelta(days=1)
pytestmark = pytest.mark.django_db


@pytest.fixture
def case(project, debtor):
    factories.run(project)
    return factories.case_of(debtor)


@pytest.fixture
def backdated(steward, case, today):
    """A call that happened yesterday at 15:05, entered now."""
    return contact_record(
        user=steward,
        case=case,
        channel="phone",
        reached=False,
        unreached_reason="no_answer",
        at=factories.at(today - DAY, 15, 5),
    )


def test_a_contact_keeps_when_it_happened_and_when_it_was_entered(backdated, today):
    assert timezone.localtime(backdated.at).date() == today - DAY
    assert timezone.localtime(backdated.recorded_at).date() == today


def test_the_daily_check_of_the_entry_day_shows_the_back_dated_contact_flagged(
    project, steward, backdated, today
):
    [day] = daily_check(project_id=project.pk, on=today)

    assert [c.pk for c in day.contacts] == [backdated.pk]
    assert day.contacts[0].backdated
    assert day.backdated == 1


def test_a_contact_entered_as_it_happens_is_not_flagged(project, steward, case, today):
    now = timezone.now()
    contact_record(user=steward, case=case, channel="window", reached=True, at=now, now=now)

    [day] = daily_check(project_id=project.pk, on=today)
    assert day.backdated == 0


def test_the_daily_check_page_shows_both_times_and_the_flag(client, supervisor, backdated, today):
    client.force_login(supervisor)

    html = client.get(reverse("dunning:check")).content.decode()

    assert f"{today - DAY:%m-%d} 15:05" in html
    assert f"登记 {timezone.localtime(backdated.recorded_at):%m-%d %H:%M}" in html
    assert "补登" in html


def test_the_evidence_pack_shows_both_times(steward, case, backdated, today):
    index = evidence_index(user=steward, case=case, on=today)

    [row] = index.sections[1].rows
    assert row[1] == f"{today - DAY:%Y-%m-%d} 15:05"
    assert row[2] == f"{timezone.localtime(backdated.recorded_at):%Y-%m-%d %H:%M}"
    assert index.sections[1].header[1:3] == ["联系时间", "登记时间"]
