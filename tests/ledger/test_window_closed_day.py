"""Issue 17 item 2: after the cashier's 日结 of today the window says so at the top, with the ways
forward the ledger allows (a colleague whose day is open, or tomorrow), and no longer invites payment;
the service's refusal no longer sends the cashier to "today's date", which is the closed day."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.ledger import factories
from tests.ledger.factories import D
from wuye.core.errors import ValidationFailed
from wuye.core.roles import Role
from wuye.ledger.services.closing import cashier_close
from wuye.ledger.services.payments import payment_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def owing(acct, item):
    return factories.bill(acct, item, "100.00", D(2024, 1, 1))


def close_today(user, project):
    return cashier_close(user=user, project=project, business_date=timezone.localdate())


def test_an_open_day_shows_no_closed_banner(client, cashier, acct, owing):
    client.force_login(cashier)

    html = client.get(reverse("ledger:window_room", args=[acct.room_id])).content.decode()

    assert 'id="day-closed"' not in html
    assert "今天已日结" not in html


def test_after_closing_today_the_window_says_so_first_and_takes_no_payment(
    client, cashier, project, acct, owing
):
    close_today(cashier, project)
    client.force_login(cashier)

    html = client.get(reverse("ledger:window_room", args=[acct.room_id])).content.decode()

    banner = html.index('id="day-closed"')
    assert banner < html.index('id="pay-form"')
    assert "今天尚未日结的同事" in html and "明天" in html
    assert 'id="pay" disabled' in html
    assert "金额正好" not in html


def test_the_search_page_of_the_window_says_it_too(client, cashier, project):
    close_today(cashier, project)
    client.force_login(cashier)

    assert 'id="day-closed"' in client.get(reverse("ledger:window")).content.decode()


def test_a_colleagues_closed_day_does_not_close_mine(client, cashier, make_user, project, acct):
    colleague = make_user("cashier2", Role.CASHIER, project)
    close_today(colleague, project)
    client.force_login(cashier)

    html = client.get(reverse("ledger:window_room", args=[acct.room_id])).content.decode()

    assert 'id="day-closed"' not in html and 'id="pay" disabled' not in html


def test_paying_on_the_closed_today_says_a_colleague_or_tomorrow_not_todays_date(
    cashier, project, acct, owing
):
    close_today(cashier, project)

    with pytest.raises(ValidationFailed) as refused:
        payment_record(
            user=cashier,
            account=acct,
            lines=[("cash", "100.00", "")],
            business_date=timezone.localdate(),
        )

    assert refused.value.code == "ledger.day_closed"
    assert "今天尚未日结的同事" in refused.value.message and "明天" in refused.value.message
    assert "请以今天的日期办理" not in refused.value.message
