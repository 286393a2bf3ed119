"""The demo ends with today's warnings, reminders and thanks, as the daily tasks would leave them:
running them again the same day adds nothing."""

import datetime
import io
import re

import pytest
from django.core.management import call_command
from django.utils import timezone

from wuye.alerts.courtesy import courtesy_run
from wuye.alerts.early_warnings import warnings_run
from wuye.core.models import Project

pytestmark = pytest.mark.django_db


def test_the_demo_runs_todays_warnings_reminders_and_thanks():
    out = io.StringIO()
    call_command("demo_data", "--rooms", "80", stdout=out)

    assert re.search(r"预警 \d+ 条，到期前提醒 \d+ 户，缴费感谢 \d+ 户", out.getvalue())
    today = timezone.localdate()
    ten = timezone.make_aware(datetime.datetime.combine(today, datetime.time(10)))
    for project in Project.objects.all():
        assert warnings_run(project=project, on=today).total == 0
        again = courtesy_run(project=project, on=today, now=ten)
        assert again.reminders == 0 and again.thanks == 0
