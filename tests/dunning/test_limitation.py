"""Limitation (LAW.md §7): three years per bill from its due date, restarted only by the listed
interruptions with their evidence; alerts 90 and 30 days before. Payment orders (LAW.md §9)."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests import uploads
from tests.dunning import factories
from wuye.core.errors import ValidationFailed
from wuye.dunning.contacts import contact_record
from wuye.dunning.enums import CaseClass
from wuye.dunning.limitation import (
    alert_level,
    case_clock,
    cases_near_deadline,
    deadline_of,
    interruption_record,
    payment_order_allowed,
)
from wuye.dunning.models import ArrearsCase
from wuye.registry import services as registry

D = datetime.date
DAY = datetime.timedelta(days=1)


# --- the rule on a fixed calendar (pure) ------------------------------------------------------------


def test_without_interruption_the_deadline_is_three_years_after_the_due_date():
    assert deadline_of(D(2023, 3, 31), []) == D(2026, 3, 31)


def test_an_interruption_restarts_the_clock_from_its_day():
    assert deadline_of(D(2023, 3, 31), [D(2024, 5, 10)]) == D(2027, 5, 10)


def test_the_later_of_due_date_and_last_interruption_counts():
    assert deadline_of(D(2023, 3, 31), [D(2022, 1, 1), D(2024, 5, 10), D(2023, 9, 1)]) == D(
        2027, 5, 10
    )


def test_a_bill_due_on_29_february_expires_on_28_february():
    assert deadline_of(D(2024, 2, 29), []) == D(2027, 2, 28)


def test_alerts_come_90_and_30_days_before_and_after_expiry():
    assert (alert_level(91), alert_level(90), alert_level(31), alert_level(30)) == (
        "",
        "90",
        "90",
        "30",
    )
    assert alert_level(-1) == "expired"


# --- per bill, from the ledger and the contact records ---------------------------------------------


@pytest.fixture
def old_debtor(project, steward, item, today):
    """Two bills of 100.00: one due 3 years − 60 days ago, one due 400 days ago."""
    acct = factories.debtor(project, "5-1-101", steward=steward)
    first_due = today - (3 * 365 - 60) * DAY
    factories.bill(acct, item, "100.00", first_due - 20 * DAY, first_due)
    factories.bill(acct, item, "100.00", today - 420 * DAY, today - 400 * DAY)
    factories.run(project)
    return acct


@pytest.fixture
def case(old_debtor):
    return factories.case_of(old_debtor)


def evidence(name="signed.jpg"):
    return SimpleUploadedFile(name, uploads.JPEG, content_type="image/jpeg")


def notice(user, case, today, *, status="delivered", attach=True, days_ago=10):
    return contact_record(
        user=user,
        case=case,
        channel="door_notice",
        reached=False,
        delivery_status=status,
        at=factories.at(today - days_ago * DAY, 10),
        now=factories.at(today, 10),
        attachments=[evidence()] if attach else [],
        attachment_kind="signed",
    )


@pytest.mark.django_db
def test_each_overdue_bill_has_its_own_clock_from_its_due_date(case, today):
    clock = case_clock(case, today)

    assert [b.deadline for b in clock.bills] == [deadline_of(b.due_date, []) for b in clock.bills]
    assert 0 < clock.earliest.days_left <= 90
    assert clock.level == "90"


@pytest.mark.django_db
def test_a_delivered_notice_with_its_signed_slip_restarts_every_bill_due_by_then(
    settings, tmp_path, steward, case, today
):
    settings.MEDIA_ROOT = tmp_path
    notice(steward, case, today)

    clock = case_clock(case, today)

    restart = deadline_of(today - 10 * DAY, [])
    assert [b.deadline for b in clock.bills] == [restart, restart]
    assert clock.level == ""


@pytest.mark.django_db
def test_a_notice_taped_to_the_door_without_proof_does_not_interrupt(
    settings, tmp_path, steward, case, today
):
    settings.MEDIA_ROOT = tmp_path
    notice(steward, case, today, attach=False)

    assert case_clock(case, today).earliest.deadline < today + 90 * DAY


@pytest.mark.django_db
def test_a_returned_letter_does_not_interrupt(settings, tmp_path, steward, case, today):
    settings.MEDIA_ROOT = tmp_path
    notice(steward, case, today, status="returned")

    assert case_clock(case, today).level == "90"


@pytest.mark.django_db
def test_an_unanswered_call_does_not_interrupt(steward, case, today):
    contact_record(
        user=steward,
        case=case,
        channel="phone",
        reached=False,
        unreached_reason="no_answer",
        at=factories.at(today, 10),
        now=factories.at(today, 10, 5),
    )

    assert case_clock(case, today).level == "90"


@pytest.mark.django_db
def test_the_owners_promise_on_a_recorded_call_interrupts(settings, tmp_path, steward, case, today):
    settings.MEDIA_ROOT = tmp_path
    contact_record(
        user=steward,
        case=case,
        channel="phone",
        reached=True,
        promise_date=today + 10 * DAY,
        at=factories.at(today, 10),
        now=factories.at(today, 10, 5),
        attachments=[SimpleUploadedFile("call.amr", uploads.AMR, content_type="audio/amr")],
        attachment_kind="recording",
    )

    assert case_clock(case, today).earliest.deadline == deadline_of(today, [])


@pytest.mark.django_db
def test_a_verbal_promise_on_an_unrecorded_call_does_not_interrupt(steward, case, today):
    contact_record(
        user=steward,
        case=case,
        channel="phone",
        reached=True,
        promise_date=today + 10 * DAY,
        at=factories.at(today, 10),
        now=factories.at(today, 10, 5),
    )

    clock = case_clock(case, today)
    assert clock.earliest.deadline != deadline_of(today, [])
    assert clock.earliest.last_interruption is None
    assert "录音" in clock.not_counted[0].why


@pytest.mark.django_db
def test_a_promise_the_owner_sent_by_message_interrupts(steward, case, today):
    contact_record(
        user=steward,
        case=case,
        channel="wechat",
        reached=True,
        promise_date=today + 10 * DAY,
        owner_said="下周五前转账",
        at=factories.at(today, 10),
        now=factories.at(today, 10, 5),
    )

    assert case_clock(case, today).earliest.deadline == deadline_of(today, [])


@pytest.mark.django_db
def test_a_part_payment_restarts_only_the_bill_it_paid(cashier, old_debtor, case, today):
    factories.pay(cashier, old_debtor, "50.00")

    first, second = case_clock(case, today).bills

    assert first.deadline == deadline_of(today, [])
    assert first.last_interruption.label == "部分缴费"
    assert second.deadline == deadline_of(second.due_date, [])


@pytest.mark.django_db
def test_a_lawsuit_filing_with_its_receipt_interrupts(settings, tmp_path, steward, case, today):
    settings.MEDIA_ROOT = tmp_path
    row = interruption_record(
        user=steward, case=case, kind="lawsuit", on_date=today - DAY, evidence=evidence("立案.pdf")
    )

    assert len(row.sha256) == 64
    assert case_clock(case, today).earliest.deadline == deadline_of(today - DAY, [])


@pytest.mark.django_db
def test_an_interruption_without_evidence_is_refused(steward, case, today):
    with pytest.raises(ValidationFailed) as refused:
        interruption_record(
            user=steward, case=case, kind="acknowledgement", on_date=today, evidence=None
        )

    assert refused.value.field == "evidence"
    assert "第一百九十五条" in refused.value.message


@pytest.mark.django_db
def test_the_alert_page_lists_cases_near_their_deadline_and_not_young_ones(
    project, steward, item, case, today
):
    young = factories.debtor(project, "5-1-102", steward=steward)
    factories.bill(young, item, "100.00", today - 60 * DAY, today - 40 * DAY)
    factories.run(project)

    near = cases_near_deadline([project.pk], today)

    assert [n.case.pk for n in near] == [case.pk]
    assert ArrearsCase.objects.filter(account=young).exists()


# --- payment orders (LAW.md §9) ----------------------------------------------------------------


@pytest.mark.django_db
def test_no_payment_order_for_a_class_e_case(case):
    case.case_class = CaseClass.E

    verdict = payment_order_allowed(case)

    assert not verdict.allowed
    assert "《民事诉讼法》第二百二十五条" in verdict.reason


@pytest.mark.django_db
def test_no_payment_order_while_a_legacy_issue_is_open(project, case, today):
    registry.legacy_issue_create(
        user=None,
        room=case.room,
        title="外墙渗水",
        responsible_party="developer",
        reported_on=today,
    )

    verdict = payment_order_allowed(case)

    assert not verdict.allowed
    assert "遗留问题" in verdict.reason


@pytest.mark.django_db
def test_an_undisputed_case_may_apply_for_a_payment_order(case):
    assert payment_order_allowed(case).allowed


# --- pages ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_case_page_shows_the_limitation_badge_and_the_payment_order_verdict(
    client, supervisor, case
):
    client.force_login(supervisor)

    html = client.get(reverse("dunning:case", args=[case.pk])).content.decode()

    assert 'id="limitation"' in html
    assert "90 天内到期" in html
    assert 'id="payment-order"' in html


@pytest.mark.django_db
def test_the_supervisor_sees_the_alert_page(client, supervisor, case):
    client.force_login(supervisor)

    html = client.get(reverse("dunning:limitation")).content.decode()

    assert case.room.code in html
    assert "90 天内" in html


@pytest.mark.django_db
def test_a_steward_has_no_alert_page(client, steward, case):
    client.force_login(steward)

    assert client.get(reverse("dunning:limitation")).status_code == 403


@pytest.mark.django_db
def test_the_case_page_records_an_interruption_with_its_evidence(
    settings, tmp_path, client, steward, case, today
):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(steward)

    client.post(
        reverse("dunning:limitation_record", args=[case.pk]),
        {
            "kind": "acknowledgement",
            "on_date": today.isoformat(),
            "evidence": evidence("确认书.jpg"),
        },
    )

    assert case.limitation_interruptions.get().original_name == "确认书.jpg"
    assert case_clock(case, today).earliest.deadline == deadline_of(today, [])
