"""Wrong SMS codes are limited per household per day (WUYE_OWNER_CODE_TRIES_PER_DAY), not only per
code: five codes an hour of five tries each let a script try 600 codes a day against one household —
over a link's 60 days, a few chances in a hundred of guessing one. After the day's wrong tries even
the right code waits for tomorrow."""

import datetime

import pytest
from django.utils import timezone

from tests.owner.conftest import last_code
from wuye.core.errors import ValidationFailed
from wuye.owner import services

pytestmark = pytest.mark.django_db


def _send(link, now):
    phone = link.account.payer.phones.get()
    return services.code_send(link=link, phone_id=phone.pk, ip="10.0.0.9", now=now)


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_wrong_codes_past_the_days_limit_refuse_even_the_right_one(link, acct, settings):
    settings.WUYE_OWNER_CODE_TRIES_PER_DAY = 6
    now = timezone.now()
    _send(link, now)
    for _ in range(5):
        with pytest.raises(ValidationFailed):
            services.code_verify(link=link, code=_wrong(last_code(acct)), now=now)
    _send(link, now)
    with pytest.raises(ValidationFailed):
        services.code_verify(link=link, code=_wrong(last_code(acct)), now=now)
    with pytest.raises(ValidationFailed) as caught:
        services.code_verify(link=link, code=last_code(acct), now=now)
    assert caught.value.field == "code" and "明天" in caught.value.message
    tomorrow = now + datetime.timedelta(days=1, minutes=1)
    _send(link, tomorrow)
    services.code_verify(link=link, code=last_code(acct), now=tomorrow)  # a new day: verified
