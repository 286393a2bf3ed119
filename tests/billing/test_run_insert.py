"""The billing run's bulk insert stores each bill exactly as planned, whatever the text says."""

import datetime
from decimal import Decimal

import pytest

from wuye.billing import fee_settings, run_planning, run_writing, runs
from wuye.billing.enums import RunStatus
from wuye.billing.models import Bill, BillingRun
from wuye.registry.models import Building, Occupancy, Person, Room

pytestmark = pytest.mark.django_db

MONTH = datetime.date(2026, 3, 1)


def test_array_literal_quotes_text_and_prints_numbers_dates_and_nulls():
    assert run_writing._array_literal([1, None, 3], False) == "{1,NULL,3}"
    assert run_writing._array_literal([Decimal("1E+1"), Decimal("2.50")], False) == "{10,2.50}"
    assert run_writing._array_literal([datetime.date(2026, 3, 1)], False) == "{2026-03-01}"
    assert run_writing._array_literal(['a"b', "c\\d", None, "NULL", ""], True) == (
        '{"a\\"b","c\\\\d",NULL,"NULL",""}'
    )


def test_run_stores_descriptions_with_quotes_braces_and_backslashes(project, manager):
    building = Building.objects.create(project=project, code="1", name="1栋")
    room = Room.objects.create(
        project=project,
        building=building,
        code="1-101",
        number="101",
        gross_area=Decimal("88.50"),
        handed_over=True,
        handover_date=datetime.date(2020, 1, 1),
    )
    owner = Person.objects.create(project=project, name="张三")
    Occupancy.objects.create(room=room, person=owner, role="owner", is_payer=True)
    name = '物业费"A区",{含}\\税'
    item = fee_settings.fee_item_create(
        user=manager, project=project, code="WYF", name=name, method="area"
    )
    fee_settings.fee_standard_add(
        user=manager, fee_item=item, unit_price="2.5", valid_from=datetime.date(2020, 1, 1)
    )
    run = runs.run_preview(project=project, period_start=MONTH, user=manager)
    BillingRun.objects.filter(pk=run.pk).update(status=RunStatus.QUEUED)
    runs.run_execute(run.pk, manager.pk)
    [bill] = Bill.objects.filter(run=run)
    planned = run_planning.plan_month(project, MONTH).bills[0]
    assert bill.description == planned.description and bill.description.startswith(name)
    assert bill.amount == Decimal("221.25") and bill.quantity == Decimal("88.50")
    assert bill.unit_price == Decimal("2.5") and bill.period_end == datetime.date(2026, 3, 31)
