"""Small helpers that build registry data through the real services."""

import datetime
from decimal import Decimal

from wuye.registry import services


def household(
    project, code="3-2-1502", owner="张三", phones=("13812345678",), area="89.50", **room
):
    r = services.room_create(
        user=None, project=project, code=code, gross_area=Decimal(area), **room
    )
    person = services.person_create(user=None, project=project, name=owner, phones=list(phones))
    services.occupancy_create(
        user=None,
        room=r,
        person=person,
        role="owner",
        is_payer=True,
        start_date=datetime.date(2020, 1, 1),
    )
    return r, person
