"""LAW.md §8: project settings may narrow the contact windows and lower the caps, never go beyond
the legal limits (never 22:00–08:00 for calls and visits, SMS only 08:00–21:00, at most 6 attempts a
day). The database refuses such a row, the form says why in Chinese, and the checks clamp anyway."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from tests.dunning import factories
from wuye.core.errors import ValidationFailed
from wuye.dunning.contacts import contact_record
from wuye.dunning.enums import Channel
from wuye.dunning.models import DunningSettings
from wuye.dunning.rules import contact_time_refusal, next_allowed_time

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.mark.parametrize(
    "field,value",
    [
        ("summer_windows", "06:00-23:59"),
        ("winter_windows", "09:00-12:00,14:00-22:30"),
        ("summer_windows", "07:30-12:00"),
        ("message_windows", "08:00-22:00"),
        ("message_windows", "07:00-21:00"),
        ("max_calls_per_day", 7),
        ("max_calls_per_week", 50),
        ("demand_min_days", 3),
    ],
)
def test_the_database_refuses_settings_beyond_the_legal_limits(project, field, value):
    with pytest.raises(IntegrityError), transaction.atomic():
        DunningSettings.objects.create(project=project, **{field: value})


@pytest.mark.parametrize(
    "field,value",
    [
        ("summer_windows", "06:00-23:59"),
        ("message_windows", "08:00-22:00"),
    ],
)
def test_the_admin_form_refuses_wider_windows_in_chinese(project, field, value):
    row = DunningSettings(project=project, **{field: value})
    with pytest.raises(ValidationError) as refused:
        row.full_clean()
    text = " ".join(refused.value.message_dict[field])
    assert "08:00" in text
    assert "LAW.md" not in text


def test_narrower_windows_and_lower_caps_are_accepted(project):
    row = DunningSettings(
        project=project,
        summer_windows="10:00-12:00, 16:00-19:00",
        winter_windows="09:30-11:30，14:00-18:00",
        message_windows="09:00-20:00",
        max_calls_per_day=2,
        max_calls_per_week=6,
        demand_min_days=30,
    )
    row.full_clean()
    row.save()


def test_the_time_check_clamps_a_row_that_slipped_past_the_database():
    # An unsaved row, as one written before the constraint existed or by a raw write would be.
    wide = DunningSettings(
        summer_windows="06:00-23:59", winter_windows="06:00-23:59", message_windows="06:00-23:59"
    )
    for day in (D(2026, 7, 1), D(2026, 12, 1)):
        early = factories.at(day, 7, 30)
        late = factories.at(day, 23, 30)
        for at in (early, late):
            refusal = contact_time_refusal(channel=Channel.PHONE, at=at, settings=wide)
            assert refusal is not None and "22:00–08:00" in refusal
            assert "LAW.md" not in refusal
        assert contact_time_refusal(
            channel=Channel.PHONE, at=factories.at(day, 22, 5), settings=wide
        )
        assert (
            contact_time_refusal(channel=Channel.PHONE, at=factories.at(day, 8, 30), settings=wide)
            is None
        )
        assert contact_time_refusal(
            channel=Channel.SMS, at=factories.at(day, 21, 30), settings=wide
        )
        assert next_allowed_time(
            channel=Channel.PHONE, at=late, settings=wide
        ).time() == datetime.time(8, 0)


def test_a_call_before_eight_is_refused_citing_the_law_by_name(project, steward, debtor, today):
    factories.run(project)
    case = factories.case_of(debtor)
    at = factories.at(today, 7, 30)
    with pytest.raises(ValidationFailed) as refused:
        contact_record(user=steward, case=case, channel="phone", reached=True, at=at, now=at)
    assert refused.value.code == "dunning.outside_hours"
    assert "《民法典》第一千零三十三条" in refused.value.message
