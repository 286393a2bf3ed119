"""Billing fixtures: fee items and standards made through the services."""

import datetime
from decimal import Decimal

import pytest

from wuye.billing import fee_settings
from wuye.registry import services as registry

D = datetime.date


@pytest.fixture
def developer(project):
    return registry.developer_get_or_create(user=None, project=project, name="锦绣置业有限公司")


@pytest.fixture
def property_fee(project):
    """物业服务费: gross area × 2.50 a month, monthly, due on the 15th (14 days after the 1st)."""
    item = fee_settings.fee_item_create(
        user=None, project=project, code="WYF", name="物业服务费", method="area", sort=1
    )
    fee_settings.fee_standard_add(
        user=None, fee_item=item, unit_price="2.50", valid_from=D(2020, 1, 1)
    )
    return item


SINCE_2020 = D(2020, 1, 1)


def fee_item(project, code, method, price=None, valid_from=SINCE_2020, **fields):
    item = fee_settings.fee_item_create(
        user=None,
        project=project,
        code=code,
        name=fields.pop("name", code),
        method=method,
        **fields,
    )
    if price is not None:
        fee_settings.fee_standard_add(
            user=None, fee_item=item, unit_price=Decimal(price), valid_from=valid_from
        )
    return item


def room(project, code, area="100.00", owner="业主", **fields):
    """A room with an owner who pays (from 2020), or with no one when ``owner`` is None."""
    r = registry.room_create(
        user=None, project=project, code=code, gross_area=Decimal(area) if area else None, **fields
    )
    if owner:
        person = registry.person_create(user=None, project=project, name=owner)
        registry.occupancy_create(
            user=None, room=r, person=person, role="owner", is_payer=True, start_date=D(2020, 1, 1)
        )
    return r
