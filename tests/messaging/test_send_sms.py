"""Sending an SMS: rendered from the template, LAW.md §8 window and caps enforced before anything is
sent, kept in the outbox and recorded as an SMS contact."""

import datetime

import pytest
from django.urls import reverse

from tests.dunning import factories
from wuye.core.errors import ValidationFailed
from wuye.dunning.contacts import contact_record
from wuye.dunning.enums import CaseClass, Channel
from wuye.dunning.models import ContactRecord
from wuye.messaging.models import MessageTemplate, OutboxMessage, OutboxStatus, TemplateKind
from wuye.messaging.services import send_sms

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


def test_the_default_backend_keeps_the_message_in_the_outbox_marked_sent(steward, case, morning):
    message = send_sms(case, TemplateKind.SMS, steward, now=morning)

    assert message.status == OutboxStatus.SENT
    assert message.to == "13812345678"
    assert "3-2-1502" in message.body and "200.00" in message.body


def test_a_sent_sms_is_recorded_as_an_sms_contact(steward, case, morning):
    message = send_sms(case, TemplateKind.SMS, steward, now=morning)

    record = ContactRecord.objects.get(case=case)
    assert record.channel == Channel.SMS
    assert message.contact == record
    assert message.body in record.note


def test_an_sms_keeps_the_class_and_promise_of_the_case(steward, case, morning, today):
    contact_record(
        user=steward,
        case=case,
        channel=Channel.PHONE,
        reached=True,
        promise_date=today + 10 * DAY,
        at=morning,
        now=morning,
    )
    case.refresh_from_db()

    send_sms(case, TemplateKind.SMS, steward, now=morning + datetime.timedelta(hours=1))

    case.refresh_from_db()
    assert case.case_class == CaseClass.A
    assert case.promise_date == today + 10 * DAY


def test_an_sms_after_nine_in_the_evening_is_refused_and_nothing_is_sent(steward, case, today):
    late = factories.at(today, 21, 30)

    with pytest.raises(ValidationFailed, match="08:00–21:00"):
        send_sms(case, TemplateKind.SMS, steward, now=late)

    assert not OutboxMessage.objects.exists()


def test_a_second_sms_the_same_day_is_refused_by_the_daily_cap(steward, case, morning):
    send_sms(case, TemplateKind.SMS, steward, now=morning)

    with pytest.raises(ValidationFailed, match="每日上限"):
        send_sms(case, TemplateKind.SMS, steward, now=morning + datetime.timedelta(hours=2))


def test_an_unlawful_template_is_refused_before_sending(company, steward, case, morning):
    row = MessageTemplate.objects.create(
        company=company, kind=TemplateKind.SMS, title="x", body="{户名}不缴费将停电"
    )

    with pytest.raises(ValidationFailed, match="民法典"):
        send_sms(case, row, steward, now=morning)

    assert not OutboxMessage.objects.exists()


def test_a_household_that_paid_is_not_texted(steward, cashier, case, debtor, morning):
    factories.pay(cashier, debtor, "200.00")

    with pytest.raises(ValidationFailed, match="误催"):
        send_sms(case, TemplateKind.SMS, steward, now=morning)


def test_a_steward_cannot_text_another_stewards_household(make_user, project, case, morning):
    from wuye.core.roles import Role

    other = make_user("steward9", Role.STEWARD, project)

    with pytest.raises(ValidationFailed, match="自己负责"):
        send_sms(case, TemplateKind.SMS, other, now=morning)
    assert not OutboxMessage.objects.exists()


def test_the_outbox_page_is_for_supervisors(client, steward, supervisor, case, morning):
    send_sms(case, TemplateKind.SMS, steward, now=morning)

    client.force_login(steward)
    assert client.get(reverse("messaging:outbox")).status_code == 403
    client.force_login(supervisor)
    html = client.get(reverse("messaging:outbox")).content.decode()
    assert "3-2-1502" in html and "已发出" in html


def test_the_case_page_button_sends_and_reports_a_refusal_in_chinese(client, steward, case):
    client.force_login(steward)
    url = reverse("messaging:send_sms", args=[case.pk])

    first = client.post(url, follow=True).content.decode()
    second = client.post(url, follow=True).content.decode()

    # Depending on the hour the first is sent or refused for the 08:00–21:00 window; the second
    # is never sent twice in a day.
    assert "短信已发送" in first or "08:00–21:00" in first
    assert "短信未发送" in second
    assert OutboxMessage.objects.count() <= 1


def test_a_rendered_message_carries_only_its_own_households_figures(
    project, steward, item, today, case, morning
):
    other = factories.debtor(project, "7-7-707", steward=steward, owner="王五")
    factories.bill(other, item, "999.00", today - 60 * DAY, today - 40 * DAY)
    factories.run(project)

    message = send_sms(case, TemplateKind.SMS, steward, now=morning)

    assert "王五" not in message.body and "7-7-707" not in message.body
    assert "999" not in message.body
