"""The building view (issue 17 item 8): floors laid out as floors, rooms in natural order, coloured by
occupancy or by arrears with a legend, in a fixed number of queries."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.dunning import factories
from wuye.core.roles import Role
from wuye.dunning.enums import Stage
from wuye.dunning.models import ArrearsCase
from wuye.registry import services
from wuye.registry.models import Building
from wuye.registry.selectors import units_with_rooms

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


@pytest.fixture
def supervisor(make_user, project):
    return make_user("supervisor", Role.SUPERVISOR, project)


def rows_of(html: str) -> list[list[str]]:
    rows = re.findall(r'<div class="floor-row".*?</div>\s*</div>', html, re.S)
    return [re.findall(r'<span class="num">([^<]+)</span>', row) for row in rows]


def test_each_floor_is_one_row_top_floor_first(client, supervisor, project):
    for floor in (17, 18):
        for n in (4, 2, 3, 1):
            services.room_create(user=None, project=project, code=f"5-1-{floor}{n:02d}")
    client.force_login(supervisor)
    building = Building.objects.get(project=project, code="5")
    html = client.get(reverse("registry:building", args=[building.id])).content.decode()
    assert rows_of(html) == [["1801", "1802", "1803", "1804"], ["1701", "1702", "1703", "1704"]]


def test_units_and_rooms_come_in_natural_order(project):
    for code in ("5-10-101", "5-2-101", "5-1-1001", "5-1-1002", "5-1-902"):
        services.room_create(user=None, project=project, code=code)
    groups = units_with_rooms(Building.objects.get(project=project, code="5"))
    assert [g.unit.code for g in groups] == ["1", "2", "10"]
    assert [[r.number for r in row.rooms] for row in groups[0].floors] == [
        ["1001", "1002"],
        ["902"],
    ]


def test_rooms_without_a_floor_come_last_on_their_own_row(project):
    services.room_create(user=None, project=project, code="5-1-S1")
    services.room_create(user=None, project=project, code="5-1-301")
    (group,) = units_with_rooms(Building.objects.get(project=project, code="5"))
    assert [row.floor for row in group.floors] == [3, None]


def test_colour_by_arrears_marks_none_overdue_case_and_legal_with_a_legend(
    client, supervisor, project
):
    item = factories.fee_item(project)
    today = factories.today()
    accounts = {}
    for code in ("6-1-101", "6-1-102", "6-1-103", "6-1-104"):
        accounts[code] = factories.debtor(project, code)
    for code in ("6-1-102", "6-1-103", "6-1-104"):
        factories.bill(accounts[code], item, "100.00", today - 60 * DAY, today - 40 * DAY)
    factories.run(project)
    ArrearsCase.objects.filter(account=accounts["6-1-102"]).update(state="closed", closed_on=today)
    ArrearsCase.objects.filter(account=accounts["6-1-104"]).update(stage=Stage.LEGAL)
    client.force_login(supervisor)
    building = Building.objects.get(project=project, code="6")
    html = client.get(
        reverse("registry:building", args=[building.id]), {"colour": "arrears"}
    ).content.decode()
    classes = dict(re.findall(r'class="room lv-(\w+)"[^>]*><span class="num">(\d+)', html))
    assert {v: k for k, v in classes.items()} == {
        "101": "none",
        "102": "overdue",
        "103": "case",
        "104": "legal",
    }
    for label in ("无欠费", "欠费未立案", "催缴中", "律师函/诉讼"):
        assert label in html


def test_colour_by_occupancy_is_the_default(client, supervisor, project):
    room = services.room_create(user=None, project=project, code="5-1-101")
    client.force_login(supervisor)
    html = client.get(reverse("registry:building", args=[room.building_id])).content.decode()
    assert (
        'class="room occupied' in html and "入住" in html and "lv-" not in html.split("<section")[1]
    )


def test_building_view_queries_do_not_grow_with_rooms(client, supervisor, project):
    item = factories.fee_item(project)
    today = factories.today()
    acct = factories.debtor(project, "7-1-101")
    factories.bill(acct, item, "100.00", today - 60 * DAY, today - 40 * DAY)
    client.force_login(supervisor)
    url = reverse("registry:building", args=[acct.room.building_id])
    client.get(url, {"colour": "arrears"})
    with CaptureQueriesContext(connection) as few:
        client.get(url, {"colour": "arrears"})
    for n in range(2, 20):
        a = factories.debtor(project, f"7-1-{100 + n}", owner=f"李{n}")
        factories.bill(a, item, "100.00", today - 60 * DAY, today - 40 * DAY)
    factories.run(project)
    with CaptureQueriesContext(connection) as many:
        client.get(url, {"colour": "arrears"})
    assert len(many) == len(few)
