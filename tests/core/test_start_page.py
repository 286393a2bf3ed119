"""Issue 17 item 5: a steward starts on 我的今日催缴 (after login and at the site's root), not on the
project's statistics; other roles keep the overview, which stays reachable for everyone."""

import pytest
from django.urls import reverse

from wuye.core.roles import Role

pytestmark = pytest.mark.django_db


def test_a_steward_lands_on_todays_list_after_login(client, make_user, project):
    user = make_user("louguan_start", Role.STEWARD, project)
    user.set_password("wuye-start-pass")
    user.save()

    response = client.post(
        reverse("login"), {"username": "louguan_start", "password": "wuye-start-pass"}, follow=True
    )

    assert response.redirect_chain[-1][0] == reverse("dunning:today")
    assert "我的今日催缴" in response.content.decode()


def test_a_supervisor_still_lands_on_the_project_overview(client, make_user, project):
    client.force_login(make_user("zhuguan_start", Role.SUPERVISOR, project))

    response = client.get("/")

    assert response.status_code == 200 and "楼栋" in response.content.decode()


def test_the_overview_stays_open_to_a_steward(client, make_user, project):
    client.force_login(make_user("louguan_overview", Role.STEWARD, project))

    assert client.get(reverse("overview")).status_code == 200
