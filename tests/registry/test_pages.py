import pytest
from django.urls import reverse

from tests.factories import household
from wuye.registry import services

pytestmark = pytest.mark.django_db


def test_login_page_is_in_chinese(client, project):
    html = client.get(reverse("login")).content.decode()
    assert "登录" in html and "用户名" in html


def test_home_shows_project_counts(client, steward, project):
    household(project)
    client.force_login(steward)
    response = client.get(reverse("overview"))  # stewards start on 今日催缴
    assert response.context["overview"]["rooms"] == 1
    assert "锦绣花园" in response.content.decode()


def test_household_page_shows_room_people_issues_and_tickets(client, steward, project):
    room, person = household(project)
    services.person_update(user=None, person=person, preferred_contact_times="早出晚归，晚上7点后")
    services.legacy_issue_create(
        user=None,
        room=room,
        title="外墙渗水",
        responsible_party="developer",
        reported_on="2024-05-01",
    )
    services.ticket_create(user=None, room=room, category="complaint", subject="楼道保洁不及时")
    client.force_login(steward)
    html = client.get(reverse("registry:household", args=[room.id])).content.decode()
    for text in (
        "3-2-1502",
        "张三",
        "缴费人",
        "早出晚归",
        "外墙渗水",
        "楼道保洁不及时",
        "联系住户前请先了解",
    ):
        assert text in html


def test_household_page_uses_fixed_queries(client, steward, project, django_assert_max_num_queries):
    room, _ = household(project)
    for n in range(5):
        tenant = services.person_create(
            user=None, project=project, name=f"住户{n}", phones=[f"1390000{1000 + n}"]
        )
        services.occupancy_create(user=None, room=room, person=tenant, role="resident")
        services.ticket_create(user=None, room=room, category="repair", subject=f"维修{n}")
    client.force_login(steward)
    with django_assert_max_num_queries(16):
        client.get(reverse("registry:household", args=[room.id]))


def test_not_handed_over_room_names_the_developer_as_payer(client, steward, project):
    services.developer_get_or_create(user=None, project=project, name="锦绣置业有限公司")
    room = services.room_create(user=None, project=project, code="9-1-101", handed_over=False)
    client.force_login(steward)
    html = client.get(reverse("registry:household", args=[room.id])).content.decode()
    assert "锦绣置业有限公司" in html and "应收未收楼" in html


def test_building_browse_lists_rooms_by_unit(client, steward, project):
    household(project, "3-1-101")
    household(project, "3-2-1502", owner="李四")
    client.force_login(steward)
    html = client.get(reverse("registry:buildings")).content.decode()
    assert "3栋" in html
    room = services.room_create(user=None, project=project, code="3-2-1501")
    html = client.get(reverse("registry:building", args=[room.building_id])).content.decode()
    assert "1单元" in html and "2单元" in html and "1501" in html


def test_search_partial_renders_hits(client, steward, project):
    household(project)
    client.force_login(steward)
    html = client.get(reverse("registry:search"), {"q": "zs"}).content.decode()
    assert "3-2-1502" in html and "张三" in html
    html = client.get(reverse("registry:search"), {"q": "没有这个人"}).content.decode()
    assert "没有找到" in html
