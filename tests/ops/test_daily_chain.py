"""The real daily chain (settings.WUYE_DAILY_STEPS) over a small estate: every step runs and is
recorded; automatic billing bills the month once, and only where the project switched it on."""

import datetime

import pytest

from tests.billing.conftest import fee_item, room
from tests.ops.conftest import at
from wuye.billing import fee_settings
from wuye.billing.models import Bill
from wuye.ops.models import JobRun
from wuye.ops.tasks import tick

pytestmark = pytest.mark.django_db
SUNDAY = datetime.date(2026, 3, 1)  # the 1st, and the weekly retraining's day


@pytest.fixture
def estate(project, other_project):
    for p in (project, other_project):
        fee_item(p, "WYF", "area", "2.50", name="物业服务费", sort=1)
        room(p, "1-1-101", area="100.00", owner="甲")
        room(p, "1-1-102", area="80.00", owner="乙")
    fee_settings.billing_settings_update(user=None, project=project, auto_billing=True)
    return project


def test_the_daily_chain_runs_every_step_of_every_project(estate, other_project):
    tick(at(SUNDAY, 10))
    runs = JobRun.objects.filter(project=estate, day=SUNDAY)
    assert {r.step: r.status for r in runs} == {
        "billing": "ok",
        "dunning": "ok",
        "credit": "ok",
        "warnings": "ok",
        "reminders": "ok",
        "summary": "ok",
        "ledger_check": "ok",
        "training": "ok",
    }, [(r.step, r.error) for r in runs if r.error]
    assert JobRun.objects.get(project=other_project, day=SUNDAY, step="billing").status == "skipped"


def test_automatic_billing_bills_the_month_once(estate, other_project):
    tick(at(SUNDAY, 10))
    billed = Bill.objects.filter(account__project=estate).count()
    assert billed == 2
    assert JobRun.objects.get(project=estate, day=SUNDAY, step="billing").rows == 2
    JobRun.objects.filter(step="billing").delete()  # even if the record were lost
    tick(at(SUNDAY, 11))
    assert Bill.objects.filter(account__project=estate).count() == billed


def test_a_project_without_automatic_billing_is_not_billed(estate, other_project):
    tick(at(SUNDAY, 10))
    assert not Bill.objects.filter(account__project=other_project).exists()


def test_automatic_billing_waits_for_its_day_of_the_month(estate):
    fee_settings.billing_settings_update(user=None, project=estate, auto_billing_day=5)
    tick(at(SUNDAY, 10))
    assert JobRun.objects.get(project=estate, day=SUNDAY, step="billing").status == "skipped"
    assert not Bill.objects.filter(account__project=estate).exists()


def test_the_billing_day_is_limited_to_the_28th(estate):
    from wuye.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        fee_settings.billing_settings_update(user=None, project=estate, auto_billing_day=31)


def test_online_reconciliation_is_carried_by_one_project_only(project, other_project):
    from wuye.ops.steps import online_reconcile, steps

    first, second = sorted([project, other_project], key=lambda p: p.pk)
    assert online_reconcile in steps()
    assert online_reconcile.is_due(first, datetime.date(2026, 12, 4))
    assert not online_reconcile.is_due(second, datetime.date(2026, 12, 4))
