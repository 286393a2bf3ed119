"""A role that sees phone numbers masked (138****5678) cannot confirm a full number by searching it:
it searches by the last four digits only (issue 13 item 14). Roles that see phones search as before."""

import pytest
from django.urls import reverse

from tests.factories import household
from wuye.core.roles import Role
from wuye.registry.selectors import search_households

pytestmark = pytest.mark.django_db

FULL = "13812345678"


@pytest.fixture
def home(project):
    room, _ = household(project, code="3-2-1502", owner="张三", phones=(FULL,))
    return room


def codes(response) -> list[str]:
    return [h["code"] for h in response.json()]


@pytest.mark.parametrize("role", [Role.CASHIER, Role.FINANCE])
def test_a_masked_role_cannot_confirm_a_full_number_by_searching_it(
    client, make_user, project, home, role
):
    client.force_login(make_user("masked", role, project))
    for q in (FULL, "12345678", "45678"):
        page = client.get(reverse("registry:search"), {"q": q}).content.decode()
        assert "3-2-1502" not in page, q
        assert "只能按电话后四位搜索" in page
        window = client.get(reverse("ledger:window_search"), {"q": q}).content.decode()
        assert "3-2-1502" not in window, q
        api = client.get("/api/registry/search", {"project": project.pk, "q": q})
        assert api.status_code == 200 and codes(api) == [], q
    # The last four digits, which the masked number shows anyway, still find the household.
    assert "3-2-1502" in client.get(reverse("registry:search"), {"q": "5678"}).content.decode()
    assert codes(client.get("/api/registry/search", {"project": project.pk, "q": "5678"})) == [
        "3-2-1502"
    ]


def test_a_role_that_sees_phones_still_searches_by_the_full_number(client, steward, project, home):
    client.force_login(steward)
    assert "3-2-1502" in client.get(reverse("registry:search"), {"q": FULL}).content.decode()
    api = client.get("/api/registry/search", {"project": project.pk, "q": FULL})
    assert codes(api) == ["3-2-1502"]


def test_the_selector_matches_only_the_tail_unless_told_the_user_sees_phones(project, home):
    assert [h.code for h in search_households(project=project, text=FULL)] == []
    assert [h.code for h in search_households(project=project, text="5678")] == ["3-2-1502"]
    assert [h.code for h in search_households(project=project, text=FULL, full_phone=True)] == [
        "3-2-1502"
    ]
