"""403, 404 and 500 in Chinese, in the site's layout, with a way home (issue 17 item 4)."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from django.urls import reverse

from wuye.core.views import server_error


@pytest.mark.django_db
def test_404_is_in_chinese_with_a_link_home_and_the_header(client, steward):
    client.force_login(steward)
    response = client.get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "页面不存在" in html and 'id="error-home"' in html and 'href="/"' in html
    assert 'class="topbar"' in html and "Not Found" not in html


@pytest.mark.django_db
def test_404_of_a_missing_record_hides_djangos_english_message(client, steward):
    client.force_login(steward)
    html = client.get(reverse("registry:building", args=[999999])).content.decode()
    assert "matches the given query" not in html and "页面不存在" in html


@pytest.mark.django_db
def test_404_shows_the_refusals_own_chinese_reason(client, steward):
    client.force_login(steward)
    html = client.get(reverse("registry:household", args=[999999])).content.decode()
    assert "房屋不存在或不在您的项目范围内" in html


@pytest.mark.django_db
def test_404_for_a_visitor_offers_to_log_in(client):
    html = client.get("/no-such-page/").content.decode()
    assert reverse("login") in html and "页面不存在" in html


@pytest.mark.django_db
def test_403_names_the_role_and_who_can_change_it(client, steward):
    client.force_login(steward)
    response = client.get(reverse("audit_log"))
    html = response.content.decode()
    assert response.status_code == 403
    assert "没有权限" in html and "楼管" in html and "项目经理或公司管理员" in html
    assert "只有公司管理员、项目经理和客服主管可查看操作日志" in html
    assert "Forbidden" not in html and 'id="error-home"' in html


def test_500_renders_without_a_database_or_a_user():
    # No django_db mark: any query would fail the test.
    request = RequestFactory().get("/anything/")
    request.user = AnonymousUser()
    response = server_error(request)
    html = response.content.decode()
    assert response.status_code == 500
    assert "系统出错" in html and 'href="/"' in html and "Server Error" not in html
