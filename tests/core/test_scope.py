"""A user sees only the projects they belong to — on pages, in search and in the API."""

import pytest
from django.urls import reverse

from tests.factories import household
from wuye.core.roles import Role
from wuye.core.scope import projects_for

pytestmark = pytest.mark.django_db


def test_member_sees_only_own_projects(steward, project, other_project):
    assert list(projects_for(steward)) == [project]


def test_company_admin_sees_every_project_of_the_company(admin_user, project, other_project):
    assert set(projects_for(admin_user)) == {project, other_project}


def test_user_of_another_company_sees_nothing(project, django_user_model):
    from wuye.core.models import Company

    outsider = django_user_model.objects.create_user(
        "x",
        password="pw",
        company=Company.objects.create(name="别家物业"),
        company_role=Role.COMPANY_ADMIN,
    )
    assert list(projects_for(outsider)) == []


def test_steward_cannot_open_household_of_another_project(client, steward, other_project):
    room, _ = household(other_project)
    client.force_login(steward)
    assert client.get(reverse("registry:household", args=[room.id])).status_code == 404


def test_steward_cannot_switch_to_another_project(client, steward, project, other_project):
    client.force_login(steward)
    client.post(reverse("project_switch"), {"project": other_project.id})
    response = client.get(reverse("home"), follow=True)  # stewards land on today's list
    assert response.context["current_project"] == project


def test_search_only_covers_the_current_project(client, steward, project, other_project):
    household(other_project, owner="张三")
    client.force_login(steward)
    response = client.get(reverse("registry:search"), {"q": "zs"})
    assert response.context["hits"] == []


def test_api_refuses_another_projects_room_and_search(client, steward, other_project):
    room, _ = household(other_project)
    client.force_login(steward)
    assert client.get(f"/api/registry/rooms/{room.id}").status_code == 404
    response = client.get("/api/registry/search", {"project": other_project.id, "q": "zs"})
    assert response.status_code == 404
    assert response.json()["code"] == "wuye.not_in_scope"
    assert client.get(f"/api/registry/projects/{other_project.id}/rooms").status_code == 404


def test_api_lists_only_own_projects(client, steward, project, other_project):
    client.force_login(steward)
    assert [p["id"] for p in client.get("/api/registry/projects").json()] == [project.id]


def test_api_needs_a_login(client, project):
    assert client.get("/api/registry/projects").status_code == 401


def test_pages_need_a_login(client, project):
    response = client.get(reverse("registry:buildings"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_building_of_another_project_is_not_found(client, steward, other_project):
    room, _ = household(other_project)
    client.force_login(steward)
    assert client.get(reverse("registry:building", args=[room.building_id])).status_code == 404
