"""Limitation evidence that holds (LAW.md §7): a door notice marked delivered interrupts only with
proof of receipt (a signed slip, the owner's reply, a courier's signed receipt) — a photo of the
taped notice does not, and the case says why; an SMS the provider reports delivered interrupts, its
receipt is kept on the contact and appears in the evidence pack."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests import uploads
from tests.dunning import factories
from wuye.core.errors import ValidationFailed
from wuye.dunning.contacts import contact_receipt_record, contact_record
from wuye.dunning.evidence import evidence_index
from wuye.dunning.limitation import case_clock, deadline_of
from wuye.dunning.models import DeliveryReceipt

DAY = datetime.timedelta(days=1)
pytestmark = pytest.mark.django_db


@pytest.fixture
def case(settings, tmp_path, project, steward, item, today):
    """Bills due 3 years − 60 days ago: inside the 90-day alert without an interruption."""
    settings.MEDIA_ROOT = tmp_path
    acct = factories.debtor(project, "5-1-101", steward=steward)
    first_due = today - (3 * 365 - 60) * DAY
    factories.bill(acct, item, "100.00", first_due - 20 * DAY, first_due)
    factories.run(project)
    return factories.case_of(acct)


def notice(user, case, today, kind, channel="door_notice"):
    return contact_record(
        user=user,
        case=case,
        channel=channel,
        reached=False,
        delivery_status="delivered",
        at=factories.at(today - 3 * DAY, 10),
        now=factories.at(today, 10),
        late_entry_reason="补登",
        attachments=[SimpleUploadedFile("x.jpg", uploads.JPEG, content_type="image/jpeg")],
        attachment_kind=kind,
    )


def sms(user, case, today):
    return contact_record(
        user=user,
        case=case,
        channel="sms",
        reached=False,
        note="催缴短信",
        at=factories.at(today - 3 * DAY, 10),
        now=factories.at(today, 10),
    )


def restarted(case, today) -> bool:
    return case_clock(case, today).earliest.deadline == deadline_of(today - 3 * DAY, [])


def test_a_door_notice_delivered_with_only_a_photo_does_not_interrupt(steward, case, today):
    record = notice(steward, case, today, "photo")

    clock = case_clock(case, today)
    assert not restarted(case, today)
    assert clock.earliest.last_interruption is None
    [why] = clock.not_counted
    assert why.contact_id == record.pk
    assert "照片" in why.why and "签收" in why.why


@pytest.mark.parametrize("kind", ["signed", "owner_reply"])
def test_a_door_notice_with_proof_of_receipt_interrupts(steward, case, today, kind):
    notice(steward, case, today, kind)

    assert restarted(case, today)
    assert case_clock(case, today).not_counted == []


def test_a_letter_with_the_couriers_signed_receipt_interrupts(steward, case, today):
    notice(steward, case, today, "ems_slip", channel="mail")

    assert restarted(case, today)


def test_the_case_page_says_why_a_delivered_notice_does_not_count(client, steward, case, today):
    notice(steward, case, today, "photo")
    client.force_login(steward)

    html = client.get(reverse("dunning:case", args=[case.pk])).content.decode()

    assert "不计入" in html and "只有现场照片" in html


def test_an_sms_without_a_receipt_does_not_interrupt(steward, case, today):
    sms(steward, case, today)

    assert not restarted(case, today)


def test_an_sms_the_provider_reports_delivered_interrupts(steward, case, today):
    record = sms(steward, case, today)

    contact_receipt_record(
        contact=record,
        delivered=True,
        received_at=factories.at(today - 3 * DAY, 10, 1),
        provider_ref="MSG-42",
        payload={"status": "delivered"},
    )

    assert restarted(case, today)
    assert "服务商回执" in case_clock(case, today).earliest.last_interruption.label


def test_an_undelivered_receipt_does_not_interrupt(steward, case, today):
    record = sms(steward, case, today)

    contact_receipt_record(contact=record, delivered=False, provider_ref="MSG-42")

    assert not restarted(case, today)
    assert DeliveryReceipt.objects.get().status == "failed"


def test_only_messages_carry_a_provider_receipt(steward, case, today):
    record = notice(steward, case, today, "photo")

    with pytest.raises(ValidationFailed):
        contact_receipt_record(contact=record, delivered=True)


def test_receipts_and_the_reason_a_notice_does_not_count_are_in_the_evidence_pack(
    steward, case, today
):
    photo = notice(steward, case, today, "photo")
    message = sms(steward, case, today)
    contact_receipt_record(contact=message, delivered=True, provider_ref="MSG-42")

    index = evidence_index(user=steward, case=case, on=today)

    contacts = {row[0]: row for row in index.sections[1].rows}
    assert "短信回执：已送达" in contacts[str(message.pk)][6]
    assert "MSG-42" in contacts[str(message.pk)][6]
    assert "不计入时效中断" in contacts[str(photo.pk)][6]
    interruptions = index.sections[2].rows
    assert any("服务商回执" in row[1] for row in interruptions)
    assert any(row[1].startswith("（不计入）") for row in interruptions)


def test_one_computation_feeds_the_case_page_and_every_section_of_the_pack(
    client, steward, case, today
):
    notice(steward, case, today, "signed", channel="mail")
    label = case_clock(case, today).earliest.last_interruption.label
    shown = f"{today - 3 * DAY:%Y-%m-%d} {label}"

    index = evidence_index(user=steward, case=case, on=today)
    client.force_login(steward)
    page = client.get(reverse("dunning:case", args=[case.pk])).content.decode()

    assert all(row[3] == shown for row in index.sections[0].rows)
    assert [row[:2] for row in index.sections[2].rows] == [[f"{today - 3 * DAY:%Y-%m-%d}", label]]
    assert shown in page
