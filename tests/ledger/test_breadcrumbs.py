"""A breadcrumb never starts at a page the role cannot open (issue 17 item 6): the payment page of
someone who does not take money leads back to the household, not to the fee window."""

import pytest
from django.urls import reverse

from tests.ledger import factories
from tests.ledger.factories import D
from wuye.core.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def payment(project, cashier):
    account = factories.account(project, "3-2-1502", owner="张三")
    factories.bill(account, factories.fee_item(project), "100.00", D(2024, 1, 1))
    return factories.pay(cashier, account, "100.00", method="cash")


def test_a_role_without_the_window_is_led_back_to_the_household(
    client, make_user, project, payment
):
    other = make_user("baoan", Role.OTHER_STAFF, project)
    client.force_login(other)
    html = client.get(reverse("ledger:payment", args=[payment.pk])).content.decode()
    crumb = html.split('<p class="muted">', 1)[1].split("</p>", 1)[0]
    assert reverse("ledger:window_room", args=[payment.account.room_id]) not in crumb
    assert reverse("registry:household", args=[payment.account.room_id]) in crumb
    assert (
        client.get(reverse("ledger:window_room", args=[payment.account.room_id])).status_code == 403
    )


def test_a_cashier_is_led_back_to_the_window(client, cashier, payment):
    client.force_login(cashier)
    html = client.get(reverse("ledger:payment", args=[payment.pk])).content.decode()
    crumb = html.split('<p class="muted">', 1)[1].split("</p>", 1)[0]
    assert reverse("ledger:window_room", args=[payment.account.room_id]) in crumb
