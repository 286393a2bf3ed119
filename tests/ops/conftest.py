import datetime

import pytest
from django.utils import timezone

from tests.ops import steps as fake

D = datetime.date


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


@pytest.fixture
def chain(settings):
    """The test chain: first, broken, texts (09:30, in the SMS window), last, sundays (weekly)."""
    settings.WUYE_DAILY_STEPS = fake.ALL
    settings.WUYE_SCHEDULE_AT = "05:30"
    settings.WUYE_SCHEDULE_MESSAGES_AT = "09:30"
    settings.WUYE_SCHEDULE_CATCH_UP_DAYS = 3
    fake.CALLS.clear()
    fake.FAIL.clear()
    yield fake.CALLS
    fake.CALLS.clear()
    fake.FAIL.clear()
