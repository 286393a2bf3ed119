"""Finding who owes (issue 17 item 7): search hits and room tiles show the amount overdue and the case's
class, say when the hits are cut, and cost the same number of queries however many rooms owe."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.dunning import factories
from wuye.core.roles import Role
from wuye.dunning.models import ArrearsCase

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


def owing(project, code, item, owner="王五", amount="100.00", steward=None):
    today = factories.today()
    acct = factories.debtor(project, code, owner=owner, steward=steward)
    factories.bill(acct, item, amount, today - 60 * DAY, today - 40 * DAY)
    return acct


@pytest.fixture
def item(project):
    return factories.fee_item(project)


@pytest.fixture
def supervisor(make_user, project):
    return make_user("supervisor", Role.SUPERVISOR, project)


def test_search_hit_shows_amount_overdue_and_case_class(client, supervisor, project, item):
    acct = owing(project, "3-2-1502", item, amount="1234.50")
    factories.run(project)
    ArrearsCase.objects.filter(account=acct).update(case_class="B")
    client.force_login(supervisor)
    html = client.get(reverse("registry:search"), {"q": "3-2-15"}).content.decode()
    assert "欠 ¥1234.50" in html and "B 暂未明确" in html


def test_search_hit_of_a_room_that_owes_nothing_shows_no_arrears(client, supervisor, project):
    factories.debtor(project, "3-2-1502")
    client.force_login(supervisor)
    html = client.get(reverse("registry:search"), {"q": "3-2-15"}).content.decode()
    assert "3-2-1502" in html and "欠 ¥" not in html


def test_overdue_without_a_case_says_so(client, supervisor, project, item):
    owing(project, "3-2-1502", item)
    client.force_login(supervisor)
    html = client.get(reverse("registry:search"), {"q": "3-2-15"}).content.decode()
    assert "欠 ¥100.00" in html and "欠费未立案" in html


def test_a_steward_does_not_see_the_class_of_another_stewards_case(
    client, make_user, project, item
):
    other = make_user("other", Role.STEWARD, project)
    me = make_user("me", Role.STEWARD, project)
    acct = owing(project, "3-2-1502", item, steward=other)
    factories.run(project)
    ArrearsCase.objects.filter(account=acct).update(case_class="E")
    client.force_login(me)
    html = client.get(reverse("registry:search"), {"q": "3-2-15"}).content.decode()
    assert "欠 ¥100.00" in html and "催缴中" in html and "特殊拒交" not in html


def test_search_says_when_results_are_cut_and_links_to_all(client, supervisor, project, settings):
    settings.WUYE_SEARCH_LIMIT = 5
    for n in range(7):
        factories.debtor(project, f"1-1-{101 + n}", owner=f"王{n}", phones=(f"1381234{n:04d}",))
    client.force_login(supervisor)
    html = client.get(reverse("registry:search"), {"q": "王"}).content.decode()
    assert html.count('class="hit"') == 5
    assert "只显示了前 5 条" in html and reverse("registry:search_all") + "?q=%E7%8E%8B" in html
    page = client.get(reverse("registry:search_all"), {"q": "王"}).content.decode()
    assert page.count('class="hit"') == 7 and "王6" in page


def test_search_not_cut_says_nothing_more(client, supervisor, project):
    factories.debtor(project, "1-1-101", owner="王一")
    client.force_login(supervisor)
    html = client.get(reverse("registry:search"), {"q": "王"}).content.decode()
    assert "只显示了前" not in html


def test_search_with_arrears_costs_the_same_queries_for_many_owing_rooms(
    client, supervisor, project, item
):
    for n in range(2):
        owing(project, f"1-1-{101 + n}", item, owner=f"王{n}")
    factories.run(project)
    client.force_login(supervisor)
    url = reverse("registry:search")
    client.get(url, {"q": "王"})
    with CaptureQueriesContext(connection) as few:
        client.get(url, {"q": "王"})
    for n in range(2, 12):
        owing(project, f"1-1-{101 + n}", item, owner=f"王{n}")
    factories.run(project)
    with CaptureQueriesContext(connection) as many:
        html = client.get(url, {"q": "王"}).content.decode()
    assert html.count("欠 ¥") == 12
    assert len(many) == len(few)


def test_room_tiles_show_amount_overdue_and_class(client, supervisor, project, item):
    acct = owing(project, "3-2-1502", item, amount="880.00")
    factories.run(project)
    ArrearsCase.objects.filter(account=acct).update(case_class="C")
    client.force_login(supervisor)
    html = client.get(
        reverse("registry:building", args=[acct.room.building_id]), {"colour": "arrears"}
    ).content.decode()
    assert "¥880" in html and "C类" in html and "lv-case" in html


def test_the_household_page_links_to_its_open_case(client, supervisor, project, item):
    acct = owing(project, "3-2-1502", item)
    factories.run(project)
    case = ArrearsCase.objects.get(account=acct)
    client.force_login(supervisor)
    html = client.get(reverse("registry:household", args=[acct.room_id])).content.decode()
    line = html.split('id="household-arrears"')[1].split("</p>")[0]
    assert reverse("dunning:case", args=[case.pk]) in line and "欠 ¥100.00" in line
