"""The top menu offers each role the pages it may open, and no others."""

import pytest

from wuye.core.roles import Role
from wuye.navigation import menu_for

pytestmark = pytest.mark.django_db


def labels(role):
    return [link.label for _, links in menu_for(role) for link in links]


def test_cashier_has_the_fee_window_pinned_first():
    assert labels(Role.CASHIER)[0] == "收银台"
    assert "计费" not in labels(Role.CASHIER)


def test_steward_has_todays_dunning_pinned_and_no_billing_configuration():
    assert "今日催缴" in labels(Role.STEWARD)[:2]
    assert "收费项目" not in labels(Role.STEWARD) and "抄表" in labels(Role.STEWARD)


def test_manager_reaches_billing_and_the_case_list_but_not_the_stewards_list():
    got = labels(Role.PROJECT_MANAGER)
    assert {"计费", "收费项目", "催缴案件", "操作日志"} <= set(got)
    assert "今日催缴" not in got


def test_no_role_no_menu():
    assert menu_for(None) == []


def test_menu_is_rendered_for_the_logged_in_role(client, project, make_user):
    user = make_user("cashier_nav", Role.CASHIER, project)
    client.force_login(user)
    page = client.get("/").content.decode()
    assert "收银台" in page and "计费" not in page
