"""Who can hold a case (issue 16 item 11): whoever is assigned a case sees that household's phone
numbers — and only that household's — even in a role that normally sees masked numbers; front-desk
cashiers can be assigned cases."""

import datetime

import pytest
from django.urls import reverse

from tests.dunning import factories
from wuye.core.roles import Role
from wuye.dunning.assignment import case_reassign
from wuye.dunning.contacts import contact_record

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)
NUMBER = "13812345678"
OTHER = "13900001111"


@pytest.fixture
def case(project, debtor):
    factories.run(project)
    return factories.case_of(debtor)


@pytest.fixture
def other_case(project, item, today):
    acct = factories.debtor(project, "5-1-301", owner="李四", phones=(OTHER,))
    factories.bill(acct, item, "80.00", today - 60 * DAY, today - 30 * DAY)
    factories.run(project)
    return factories.case_of(acct)


@pytest.fixture
def guard(make_user, project):
    return make_user("guard", Role.OTHER_STAFF, project)


def give(supervisor, case, user):
    return case_reassign(user=supervisor, case=case, assignee=user, reason="就近安排")


@pytest.mark.parametrize("holder", ["guard", "cashier"])
def test_the_holder_of_a_case_sees_its_numbers_on_today_and_the_case_page(
    client, request, supervisor, case, holder
):
    user = request.getfixturevalue(holder)
    give(supervisor, case, user)
    client.force_login(user)

    today = client.get(reverse("dunning:today")).content.decode()
    page = client.get(reverse("dunning:case", args=[case.pk])).content.decode()
    form = client.get(reverse("dunning:contact_form", args=[case.pk])).content.decode()

    assert f'href="tel:{NUMBER}"' in today
    assert NUMBER in page and NUMBER in form


def test_the_holder_sees_no_other_households_numbers(
    client, supervisor, guard, case, other_case, project
):
    give(supervisor, case, guard)
    client.force_login(guard)

    assert client.get(reverse("dunning:case", args=[other_case.pk])).status_code in (403, 404)
    household = client.get(reverse("registry:household", args=[other_case.room_id]))
    assert OTHER not in household.content.decode()


def test_a_case_taken_away_masks_the_numbers_again(client, supervisor, steward, guard, case):
    give(supervisor, case, guard)
    give(supervisor, case, steward)
    client.force_login(guard)

    assert NUMBER not in client.get(reverse("dunning:today")).content.decode()


def test_a_cashier_can_be_assigned_a_case_and_record_a_call(supervisor, cashier, case, today):
    case = give(supervisor, case, cashier)
    at = factories.at(today, 10)

    record = contact_record(
        user=cashier, case=case, channel="phone", reached=False, unreached_reason="no_answer",
        at=at, now=at,
    )  # fmt: skip

    assert record.by == cashier


def test_a_cashier_without_a_case_sees_an_empty_list_and_no_case_list(client, cashier, case):
    client.force_login(cashier)

    assert "3-2-1502" not in client.get(reverse("dunning:today")).content.decode()
    assert client.get(reverse("dunning:cases")).status_code == 403
    assert client.get(reverse("dunning:case", args=[case.pk])).status_code in (403, 404)
