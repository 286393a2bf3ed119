"""Phone and ID numbers are masked for roles that do not need them (SPEC §1)."""

import pytest
from django.urls import reverse

from tests.factories import household
from wuye.core.masking import mask_id_number, mask_phone
from wuye.registry import services

pytestmark = pytest.mark.django_db


def test_mask_phone_keeps_prefix_and_last_four():
    assert mask_phone("13812341234") == "138****1234"


def test_mask_id_number_keeps_region_and_last_four():
    assert mask_id_number("110101199001011234") == "110101********1234"


@pytest.fixture
def room(project):
    r, person = household(project, phones=("13812341234",))
    services.person_update(user=None, person=person, id_number="110101199001011234")
    return r


def test_cashier_sees_masked_phone_and_id_on_household_page(client, cashier, room):
    client.force_login(cashier)
    html = client.get(reverse("registry:household", args=[room.id])).content.decode()
    assert "138****1234" in html
    assert "13812341234" not in html
    assert "110101199001011234" not in html


def test_steward_sees_full_phone_but_masked_id(client, steward, room):
    client.force_login(steward)
    html = client.get(reverse("registry:household", args=[room.id])).content.decode()
    assert "tel:13812341234" in html
    assert "110101********1234" in html


def test_manager_sees_full_id_number(client, manager, room):
    client.force_login(manager)
    html = client.get(reverse("registry:household", args=[room.id])).content.decode()
    assert "110101199001011234" in html


def test_search_results_are_masked_for_cashier(client, cashier, room):
    client.force_login(cashier)
    html = client.get(reverse("registry:search"), {"q": "zs"}).content.decode()
    assert "138****1234" in html and "13812341234" not in html


def test_api_masks_for_cashier_not_for_steward(client, cashier, steward, room):
    client.force_login(cashier)
    person = client.get(f"/api/registry/rooms/{room.id}").json()["people"][0]
    assert person["phones"][0]["number"] == "138****1234"
    assert person["id_number"] == "110101********1234"
    client.force_login(steward)
    person = client.get(f"/api/registry/rooms/{room.id}").json()["people"][0]
    assert person["phones"][0]["number"] == "13812341234"
