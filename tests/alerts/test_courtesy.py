"""Pre-due reminders and thanks: never to a household that has paid or prepaid enough, at most one
reminder per bill and channel, only inside the message window (LAW.md §8), one thank-you per payment
and none for a reversed one; the strategy of the household's segment decides days, channel and text."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.dunning import factories
from wuye.alerts import CourtesyKind, CourtesyStatus
from wuye.alerts.courtesy import courtesy_run
from wuye.alerts.models import CourtesyMessage, ReminderSent
from wuye.credit.models import Segment
from wuye.credit.services import credit_recompute, segment_update
from wuye.dunning.enums import Channel
from wuye.ledger.services.reversals import payment_reverse
from wuye.messaging.models import MessageTemplate, TemplateKind

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


@pytest.fixture
def ten(today):
    return factories.at(today, 10)


@pytest.fixture
def household(project, steward):
    return factories.debtor(project, "2-1-0201", owner="赵六", steward=steward)


def reminders(project, when, on=None):
    return courtesy_run(project=project, now=when, on=on or timezone.localdate(when))


def make_reliable(account, item, cashier, today, months=4):
    """Months of bills, each paid five days before it fell due: the segment 按时缴费."""
    for n in range(months, 0, -1):
        period = today - (n * 30 + 20) * DAY
        bill = factories.bill(account, item, "300.00", period, period + 14 * DAY)
        factories.pay(
            cashier,
            account,
            "300.00",
            include_late_fees=False,
            business_date=bill.due_date - 5 * DAY,
        )
    credit_recompute(project=account.project_id, on=today)


# --- reminders ------------------------------------------------------------------------------------


def test_a_bill_due_in_three_days_gets_one_reminder_by_sms(project, household, item, today, ten):
    bill = factories.bill(household, item, "280.50", today - 20 * DAY, today + 3 * DAY)

    result = reminders(project, ten)

    message = CourtesyMessage.objects.get()
    assert result.reminders == 1 and result.bills == 1
    assert message.kind == CourtesyKind.PRE_DUE and message.channel == Channel.SMS
    assert message.status == CourtesyStatus.SENT and message.to == "13812345678"
    assert "280.50" in message.body and f"{bill.due_date.day}日" in message.body
    assert ReminderSent.objects.get().bill == bill


def test_a_bill_due_in_five_days_waits_for_the_default_three(project, household, item, today, ten):
    factories.bill(household, item, "280.50", today - 20 * DAY, today + 5 * DAY)

    assert reminders(project, ten).reminders == 0


def test_no_reminder_for_a_bill_already_paid(project, household, item, cashier, today, ten):
    factories.bill(household, item, "280.50", today - 20 * DAY, today + 3 * DAY)
    factories.pay(cashier, household, "280.50", include_late_fees=False)

    assert reminders(project, ten).reminders == 0
    assert not CourtesyMessage.objects.exists()


def test_no_reminder_when_the_prepaid_balance_covers_the_bill(
    project, household, item, cashier, today, ten
):
    factories.pay(cashier, household, "500.00", include_late_fees=False)  # no bill yet: prepaid
    factories.bill(household, item, "280.50", today - 20 * DAY, today + 3 * DAY)

    result = reminders(project, ten)

    assert result.reminders == 0 and result.skipped["预存款足以抵扣"] == 1


def test_a_prepaid_balance_short_of_the_bill_still_gets_the_reminder(
    project, household, item, cashier, today, ten
):
    factories.pay(cashier, household, "100.00", include_late_fees=False)
    factories.bill(household, item, "280.50", today - 20 * DAY, today + 3 * DAY)

    assert reminders(project, ten).reminders == 1


def test_a_rerun_the_next_day_sends_nothing_twice(project, household, item, today, ten):
    factories.bill(household, item, "280.50", today - 20 * DAY, today + 3 * DAY)
    reminders(project, ten)

    again = reminders(project, ten + DAY)  # not stopped by the daily cap: a new day

    assert again.reminders == 0
    assert CourtesyMessage.objects.count() == 1


def test_bills_falling_due_together_make_one_message(project, household, item, today, ten):
    parking = factories.fee_item(project, code="TCF", name="停车费")
    factories.bill(household, item, "280.50", today - 20 * DAY, today + 3 * DAY)
    factories.bill(household, parking, "150.00", today - 20 * DAY, today + 3 * DAY)

    result = reminders(project, ten)

    assert result.reminders == 1 and result.bills == 2
    assert "430.50" in CourtesyMessage.objects.get().body


def test_outside_the_message_window_the_reminder_waits_for_the_next_run(
    project, household, item, today
):
    factories.bill(household, item, "280.50", today - 20 * DAY, today + 3 * DAY)

    late = reminders(project, factories.at(today, 21, 30))

    assert late.reminders == 0 and late.waiting == 1
    assert late.next_window == factories.at(today + DAY, 8)
    assert not CourtesyMessage.objects.exists()
    morning = reminders(project, factories.at(today + DAY, 9))
    assert morning.reminders == 1


def test_the_daily_message_cap_counts_dunning_sms_and_reminders_together(
    project, household, item, steward, cashier, today, ten
):
    from wuye.messaging.services import send_sms

    old = factories.debtor(project, "2-1-0202", steward=steward, phones=("13912345678",))
    factories.bill(old, item, "100.00", today - 60 * DAY, today - 40 * DAY)
    factories.run(project)
    send_sms(factories.case_of(old), TemplateKind.SMS, steward, now=ten)
    factories.pay(cashier, old, "100.00", include_late_fees=False)
    factories.run(project)  # paid: the case closes, the household is no longer in dunning
    factories.bill(old, item, "280.50", today - 20 * DAY, today + 3 * DAY)

    result = reminders(project, ten + datetime.timedelta(hours=1))

    assert result.skipped["已达短信次数上限，明天再提醒"] == 1


def test_a_dunning_sms_counts_the_courtesy_messages_of_the_day_against_the_cap(
    project, household, item, steward, cashier, today, ten
):
    from wuye.core.errors import ValidationFailed
    from wuye.messaging.services import send_sms

    make_reliable(household, item, cashier, today)
    factories.pay(cashier, household, "300.00", include_late_fees=False)
    courtesy_run(project=project, now=ten, on=today)  # the thank-you: today's one message
    assert CourtesyMessage.objects.filter(account=household).count() == 1
    factories.bill(household, item, "100.00", today - 60 * DAY, today - 40 * DAY)
    factories.run(project)

    with pytest.raises(ValidationFailed, match="每日上限"):
        send_sms(factories.case_of(household), TemplateKind.SMS, steward, now=ten)


def test_a_household_in_an_open_arrears_case_is_left_to_its_steward(
    project, household, item, today, ten
):
    factories.bill(household, item, "100.00", today - 60 * DAY, today - 40 * DAY)
    factories.run(project)
    factories.bill(household, item, "280.50", today - 20 * DAY, today + 3 * DAY)

    result = reminders(project, ten)

    assert result.reminders == 0 and result.skipped["在催缴案件中（由管家联系）"] == 1


def test_a_payer_without_a_usable_number_is_skipped(project, steward, item, today, ten):
    acct = factories.debtor(project, "2-1-0203", steward=steward, phones=())
    factories.bill(acct, item, "280.50", today - 20 * DAY, today + 3 * DAY)

    result = reminders(project, ten)

    assert result.reminders == 0 and result.skipped["缴费人没有可用手机号"] == 1


# --- the segment's strategy ------------------------------------------------------------------------


def test_the_segments_days_and_template_decide(
    project, household, item, cashier, manager, company, today, ten
):
    make_reliable(household, item, cashier, today)
    segment = Segment.objects.get(project=project, code="on_time")
    template = MessageTemplate.objects.create(
        company=company,
        kind=TemplateKind.SMS,
        title="守信户提醒",
        body="【{项目名称}】{户名}您好，感谢您一直按时缴费，本期{欠费金额}元于{期限}到期。",
    )
    segment_update(
        user=manager, segment=segment, remind_days_before_due=7, reminder_template=template
    )
    factories.bill(household, item, "300.00", today - 20 * DAY, today + 7 * DAY)

    result = reminders(project, ten)

    assert result.reminders == 1
    assert CourtesyMessage.objects.get().body.startswith("【锦绣花园】赵六您好，感谢您一直按时缴费")


def test_a_wechat_strategy_is_reported_not_sent(
    project, household, item, cashier, manager, today, ten
):
    make_reliable(household, item, cashier, today)
    segment = Segment.objects.get(project=project, code="on_time")
    segment_update(user=manager, segment=segment, reminder_channel="wechat")
    factories.bill(household, item, "300.00", today - 20 * DAY, today + 3 * DAY)

    result = reminders(project, ten)

    assert result.reminders == 0 and result.skipped["微信消息提醒尚无发送通道"] == 1


# --- thanks ---------------------------------------------------------------------------------------


@pytest.fixture
def at_ten(monkeypatch, ten):
    """The payment and its hook happen at 10:00, inside the message window."""
    monkeypatch.setattr(timezone, "now", lambda: ten)
    return ten


def test_a_reliable_payer_is_thanked_once_after_paying(
    project, household, item, cashier, today, at_ten, django_capture_on_commit_callbacks
):
    make_reliable(household, item, cashier, today)
    factories.bill(household, item, "300.00", today - 20 * DAY, today + 3 * DAY)

    with django_capture_on_commit_callbacks(execute=True):
        payment = factories.pay(cashier, household, "300.00", include_late_fees=False)

    thanks = CourtesyMessage.objects.get(kind=CourtesyKind.THANKS)
    assert thanks.payment == payment and "感谢" in thanks.body
    assert reminders(project, at_ten + datetime.timedelta(days=1)).thanks == 0  # swept: not again


def test_a_household_whose_segment_does_not_thank_is_not_thanked(
    project, household, item, cashier, manager, today, at_ten, django_capture_on_commit_callbacks
):
    factories.bill(household, item, "300.00", today - 20 * DAY, today + 3 * DAY)
    credit_recompute(project=project, on=today)
    for segment in Segment.objects.filter(project=project, thank_after_payment=True):
        segment_update(user=manager, segment=segment, thank_after_payment=False)

    with django_capture_on_commit_callbacks(execute=True):
        factories.pay(cashier, household, "300.00", include_late_fees=False)

    assert not CourtesyMessage.objects.filter(kind=CourtesyKind.THANKS).exists()


def test_a_payment_reversed_before_the_thanks_went_out_is_not_thanked(
    project, household, item, cashier, supervisor, today, django_capture_on_commit_callbacks
):
    make_reliable(household, item, cashier, today)
    payment = factories.pay(cashier, household, "300.00", include_late_fees=False)
    late = courtesy_run(project=project, now=factories.at(today, 21, 30), on=today)
    assert late.waiting == 1  # paid late in the evening: the thanks waits for the morning
    with django_capture_on_commit_callbacks(execute=True):
        payment_reverse(user=cashier, payment=payment, reason="银行退票", approved_by=supervisor)

    morning = courtesy_run(project=project, now=factories.at(today + DAY, 9), on=today + DAY)

    assert morning.thanks == 0
    assert not CourtesyMessage.objects.filter(kind=CourtesyKind.THANKS).exists()


def test_a_thanks_and_a_reminder_due_the_same_day_make_one_message_today(
    project, household, item, cashier, today, ten
):
    make_reliable(household, item, cashier, today)
    factories.pay(cashier, household, "50.00", include_late_fees=False)
    factories.bill(household, item, "300.00", today - 20 * DAY, today + 3 * DAY)

    first = courtesy_run(project=project, now=ten, on=today)
    second = courtesy_run(project=project, now=ten + DAY, on=today + DAY)

    assert (first.thanks, first.reminders) == (1, 0)
    assert (second.thanks, second.reminders) == (0, 1)


def test_the_database_refuses_a_second_thanks_for_one_payment(
    project, household, item, cashier, today, ten
):
    from django.db import IntegrityError, transaction

    make_reliable(household, item, cashier, today)
    payment = factories.pay(cashier, household, "300.00", include_late_fees=False)
    courtesy_run(project=project, now=ten, on=today)
    first = CourtesyMessage.objects.get(kind=CourtesyKind.THANKS)

    with pytest.raises(IntegrityError), transaction.atomic():
        CourtesyMessage.objects.create(
            project=project,
            account=household,
            room=household.room,
            kind=CourtesyKind.THANKS,
            channel=Channel.SMS,
            payment=payment,
            to=first.to,
            body=first.body,
        )


# --- the household page -----------------------------------------------------------------------------


def test_the_household_page_lists_the_reminders_and_thanks(
    client, project, household, item, today, ten, steward
):
    factories.bill(household, item, "280.50", today - 20 * DAY, today + 3 * DAY)
    reminders(project, ten)
    client.force_login(steward)

    html = client.get(
        reverse("alerts:household_messages", args=[household.room_id])
    ).content.decode()

    assert "到期前提醒" in html and "280.50" in html and "已发出" in html
