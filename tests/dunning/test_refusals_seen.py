"""Issue 17 item 1: a refused contact is seen where the steward looks, keeps what was entered, says
what to do instead, and the case stays on today's list; the hours are shown before trying."""

import datetime
from unittest import mock

import pytest
from django.urls import reverse

from tests.dunning import factories
from wuye.dunning.models import ContactRecord

DAY = datetime.timedelta(days=1)
pytestmark = pytest.mark.django_db


@pytest.fixture
def case(project, debtor):
    factories.run(project)
    return factories.case_of(debtor)


def at_hour(day, hour, minute=0):
    """The server's clock set to ``hour`` of ``day`` (project time, Asia/Shanghai)."""
    return mock.patch("django.utils.timezone.now", return_value=factories.at(day, hour, minute))


def post(client, case, **data):
    data.setdefault("outcome", "no_answer")
    data.setdefault("channel", "phone")
    return client.post(reverse("dunning:contact", args=[case.pk]), data, HTTP_HX_REQUEST="true")


def test_a_call_outside_hours_comes_back_alone_into_the_box_beside_the_buttons(
    client, steward, case, today
):
    client.force_login(steward)

    with at_hour(today, 20, 30):  # winter: calls end at 19:00, messages at 21:00
        response = post(client, case, **{"from": "today", "owner_said": "没接"})

    assert response["HX-Retarget"] == f"#refusal-{case.pk}"
    assert response["HX-Reswap"] == "innerHTML"
    html = response.content.decode()
    assert "<form" not in html  # the form in the browser is left as it is (photo, number, text)
    assert "明天 09:00 后再拨" in html
    assert 'data-set-channel="sms"' in html and "短信可发到 21:00" in html
    assert 'data-set-channel="door_notice"' in html
    assert not ContactRecord.objects.exists()


def test_after_the_message_window_only_the_next_day_and_a_notice_are_offered(
    client, steward, case, today
):
    client.force_login(steward)

    with at_hour(today, 21, 30):
        html = post(client, case, **{"from": "today"}).content.decode()

    assert "明天 09:00 后再拨" in html
    assert 'data-set-channel="sms"' not in html
    assert 'data-set-channel="door_notice"' in html


def test_a_call_refused_for_the_hour_leaves_the_case_on_todays_list(client, steward, case, today):
    client.force_login(steward)

    with at_hour(today, 21, 30):
        post(client, case, **{"from": "today"})
        page = client.get(reverse("dunning:today")).content.decode()

    assert f'id="case-{case.pk}"' in page


def test_todays_list_and_each_card_show_the_hours_before_any_try(client, steward, case, today):
    client.force_login(steward)

    with at_hour(today, 12, 30):
        page = client.get(reverse("dunning:today")).content.decode()

    assert "电话、上门 <b>09:00–12:00、14:00–19:00</b>" in page
    assert "现在不在电话时段，14:00 后再拨" in page
    card = page[page.index(f'id="case-{case.pk}"') :]
    assert "可拨打/上门：09:00–12:00、14:00–19:00（冬季）" in card


def test_the_form_carries_the_hours_for_the_browser_to_check_first(client, steward, case):
    client.force_login(steward)

    html = client.get(reverse("dunning:contact_form", args=[case.pk])).content.decode()

    assert "data-hours=" in html and "&quot;voice&quot;: [[&quot;09:00&quot;" in html
    assert f'id="refusal-{case.pk}"' in html


def test_without_the_script_the_case_page_comes_back_with_what_was_entered(
    client, steward, case, today, debtor
):
    second = debtor.payer.phones.create(number="13900002222")
    client.force_login(steward)

    with at_hour(today, 21, 30):
        response = client.post(
            reverse("dunning:contact", args=[case.pk]),
            {
                "outcome": "no_answer",
                "channel": "phone",
                "phone": second.pk,
                "owner_said": "关机了",
            },
        )

    assert response.status_code == 400
    html = response.content.decode()
    assert "关机了</textarea>" in html
    assert f'value="{second.pk}" checked' in html  # the chosen number does not revert to the first
    assert "明天 09:00 后再拨" in html


def test_the_promise_amount_box_shows_no_owed_amount_as_a_placeholder(client, steward, case):
    client.force_login(steward)

    html = client.get(reverse("dunning:contact_form", args=[case.pk])).content.decode()

    box = html[html.index('name="promise_amount"') :]
    box = box[: box.index(">")]
    assert "placeholder" not in box and 'value=""' in box
    assert "承诺金额（选填，元）" in html and "不填表示未说金额" in html


def test_a_contact_recorded_from_the_case_page_reloads_it(client, steward, case, today):
    client.force_login(steward)

    with at_hour(today, 10, 30):
        response = post(client, case, owner_said="接了")

    assert response["HX-Redirect"] == reverse("dunning:case", args=[case.pk]) + "#contacts"
    assert ContactRecord.objects.filter(case=case, owner_said="接了").exists()
