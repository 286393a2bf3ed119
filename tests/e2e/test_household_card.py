"""The household file in a browser: the 催缴记录 card loads the room's cases and contacts (no
placeholder), and the fee window's 收款日期 input shows today's date (an ISO value the browser keeps)."""

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from tests.dunning import factories
from wuye.core.roles import Role
from wuye.dunning.contacts import contact_record

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def seeded(project, make_user):
    steward = make_user("guanjia", Role.STEWARD, project)
    steward.set_password("wuye-e2e-pass")
    steward.save()
    today = factories.today()
    acct = factories.debtor(project, "3-2-1502", steward=steward)
    item = factories.fee_item(project)
    factories.bill(
        acct,
        item,
        "100.00",
        today - timezone.timedelta(days=60),
        today - timezone.timedelta(days=40),
    )
    factories.run(project)
    case = factories.case_of(acct)
    at = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0)
    contact_record(
        user=steward,
        case=case,
        channel="phone",
        reached=True,
        at=at,
        now=at,
        owner_said="下周五来缴，最近出差",
        promise_date=today + timezone.timedelta(days=6),
    )
    return acct


def test_household_card_lists_cases_and_contacts(live_server, page, seeded, screenshot_dir):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "guanjia")
    page.fill("#id_password", "wuye-e2e-pass")
    page.press("#id_password", "Enter")
    page.goto(f"{live_server.url}{reverse('registry:household', args=[seeded.room_id])}")
    card = page.locator("section#dunning")
    expect(card.locator("#dunning-contacts")).to_contain_text("下周五来缴，最近出差")
    expect(card.locator("#dunning-cases")).to_contain_text("在办")
    expect(page.locator("body")).not_to_contain_text("催缴模块上线后")
    card.scroll_into_view_if_needed()
    card.screenshot(path=str(screenshot_dir / "household-dunning-card.png"))

    # The fee window's 收款日期: an ISO value, so the browser shows it instead of an empty field.
    page.goto(f"{live_server.url}{reverse('ledger:window_room', args=[seeded.room_id])}")
    field = page.locator("input[name=business_date]")
    assert field.evaluate("el => el.value") == f"{timezone.localdate():%Y-%m-%d}"
    assert field.evaluate("el => el.valueAsDate !== null")
