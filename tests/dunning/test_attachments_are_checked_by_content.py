"""Evidence files are checked by what they contain, not by their name or declared type, and served so
that nothing in them runs on the application's origin: an HTML page sent as ``image/jpeg`` or an SVG
is refused; a stored file is served with its checked type, inline only for pictures and PDF, with
``X-Content-Type-Options: nosniff`` and a sandboxing Content-Security-Policy. One request carries a
bounded number of files and bytes."""

import datetime

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests import uploads
from tests.dunning import factories
from wuye.core.errors import ValidationFailed
from wuye.dunning.contacts import contact_record
from wuye.dunning.limitation import interruption_record
from wuye.dunning.models import ContactAttachment, ContactRecord, LimitationInterruption

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)
HTML = b"<!doctype html><html><body><script>fetch('/api/')</script></body></html>"
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg">'
    b"<script>alert(document.cookie)</script></svg>"
)
SANDBOX = "sandbox; default-src 'none'"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def case(project, debtor, media):
    factories.run(project)
    return factories.case_of(debtor)


def visit(user, case, today, files):
    return contact_record(
        user=user,
        case=case,
        channel="visit_home",
        reached=True,
        owner_said="说下周交",
        attachments=files,
        at=factories.at(today - DAY, 10),
        now=factories.at(today, 10),
    )


def stored_files(media) -> list:
    return [p for p in media.rglob("*") if p.is_file()]


@pytest.mark.parametrize(
    ("name", "content", "declared"),
    [
        ("evidence.jpg", HTML, "image/jpeg"),
        ("evidence.html", HTML, "text/html"),
        ("photo.svg", SVG, "image/svg+xml"),
        ("photo.jpg", SVG, "image/jpeg"),
        ("photo.jpg", b"\xff\xd8\xff<html><script>alert(1)</script></html>", "image/jpeg"),
        ("photo.png", b"\x89PNG\r\n\x1a\n<script>alert(1)</script>", "image/png"),
        ("run.exe", b"MZ\x90\x00" + b"\x00" * 60, "image/jpeg"),
    ],
)
def test_a_file_that_is_not_a_picture_pdf_or_recording_is_refused(
    steward, case, today, media, name, content, declared
):
    with pytest.raises(ValidationFailed) as refused:
        visit(steward, case, today, [SimpleUploadedFile(name, content, content_type=declared)])
    assert refused.value.code == "upload.refused_type"
    assert refused.value.field == "attachments"
    assert "按文件内容判断" in refused.value.message and "网页、SVG" in refused.value.message
    assert not ContactRecord.objects.exists() and not ContactAttachment.objects.exists()
    assert stored_files(media) == []


def test_one_bad_file_among_good_ones_refuses_the_record(steward, case, today, media):
    files = [
        SimpleUploadedFile("door.jpg", uploads.JPEG, content_type="image/jpeg"),
        SimpleUploadedFile("x.jpg", HTML, content_type="image/jpeg"),
    ]
    with pytest.raises(ValidationFailed):
        visit(steward, case, today, files)
    assert not ContactRecord.objects.exists() and stored_files(media) == []


@pytest.mark.parametrize(
    ("content", "extension"),
    [
        (uploads.JPEG, "jpg"),
        (uploads.PNG, "png"),
        (uploads.picture("GIF"), "gif"),
        (uploads.picture("WEBP"), "webp"),
        (uploads.PDF, "pdf"),
        (uploads.MP3, "mp3"),
        (uploads.AMR, "amr"),
        (uploads.WAV, "wav"),
        (uploads.M4A, "m4a"),
    ],
)
def test_evidence_formats_are_accepted_and_stored_under_their_checked_type(
    steward, case, today, content, extension
):
    # The name says .html: what counts is the content, and the stored name follows it.
    upload = SimpleUploadedFile("录音或照片.html", content, content_type="text/html")
    attachment = visit(steward, case, today, [upload]).attachments.get()
    assert attachment.file.name.endswith(f".{extension}")
    assert attachment.original_name == "录音或照片.html"


def download(client, attachment):
    response = client.get(reverse("dunning:attachment", args=[attachment.pk]))
    assert response.status_code == 200
    return response


@pytest.mark.parametrize(
    ("content", "content_type", "inline"),
    [
        (uploads.JPEG, "image/jpeg", True),
        (uploads.PNG, "image/png", True),
        (uploads.PDF, "application/pdf", True),
        (uploads.MP3, "audio/mpeg", False),
        (uploads.AMR, "audio/amr", False),
    ],
)
def test_a_download_has_the_checked_type_nosniff_and_a_sandbox(
    client, steward, case, today, content, content_type, inline
):
    attachment = visit(
        steward, case, today, [SimpleUploadedFile("证据", content, content_type="text/html")]
    ).attachments.get()
    client.force_login(steward)
    response = download(client, attachment)
    assert response["Content-Type"] == content_type
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == SANDBOX
    assert response["Content-Disposition"].startswith("inline" if inline else "attachment")
    assert b"".join(response.streaming_content) == content


def test_a_file_stored_before_the_check_is_served_as_a_download_not_as_a_page(
    client, steward, case, today
):
    # An HTML "photo" already on disk from before: served as bytes to save, never rendered.
    record = visit(steward, case, today, [])
    attachment = ContactAttachment(
        contact=record, original_name="evidence.jpg", size=len(HTML), sha256="0" * 64
    )
    attachment.file.save("evidence.html", ContentFile(HTML), save=False)
    attachment.save()
    client.force_login(steward)
    response = download(client, attachment)
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")
    assert ".html" not in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == SANDBOX


def test_the_contact_page_shows_why_a_file_is_refused(client, steward, case, today):
    client.force_login(steward)
    response = client.post(
        reverse("dunning:contact", args=[case.pk]),
        {
            "channel": "visit_home",
            "outcome": "reached",
            "reached": "on",
            "at": f"{today - DAY}T10:00",
            "photos": [SimpleUploadedFile("evidence.jpg", HTML, content_type="image/jpeg")],
        },
        follow=True,
    )
    assert "已拒收" in response.content.decode()
    assert not ContactRecord.objects.exists()


def test_a_limitation_interruption_needs_real_evidence(steward, case, today, media):
    with pytest.raises(ValidationFailed) as refused:
        interruption_record(
            user=steward,
            case=case,
            kind="acknowledgement",
            on_date=today - DAY,
            evidence=SimpleUploadedFile("确认书.pdf", SVG, content_type="application/pdf"),
        )
    assert refused.value.field == "evidence"
    assert not LimitationInterruption.objects.exists() and stored_files(media) == []
    row = interruption_record(
        user=steward,
        case=case,
        kind="acknowledgement",
        on_date=today - DAY,
        evidence=SimpleUploadedFile("确认书.html", uploads.PDF, content_type="text/html"),
    )
    assert row.file.name.endswith(".pdf")


def test_the_evidence_zip_is_served_with_nosniff_and_a_sandbox(client, steward, case):
    client.force_login(steward)
    response = client.get(reverse("dunning:evidence", args=[case.pk]))
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == SANDBOX


# --- how much one request may carry -------------------------------------------------------------


def test_more_files_than_allowed_are_refused_with_a_message(steward, case, today, settings):
    files = [SimpleUploadedFile(f"{i}.jpg", uploads.JPEG) for i in range(11)]
    with pytest.raises(ValidationFailed) as refused:
        visit(steward, case, today, files)
    assert refused.value.message == "一次最多上传 10 个文件，本次选择了 11 个"
    settings.WUYE_UPLOAD_MAX_REQUEST_BYTES = len(uploads.JPEG) * 2
    with pytest.raises(ValidationFailed) as refused:
        visit(
            steward, case, today, [SimpleUploadedFile(f"{i}.jpg", uploads.JPEG) for i in range(3)]
        )
    assert "一次上传的文件合计不能超过" in refused.value.message
    assert not ContactRecord.objects.exists()


def test_a_request_with_too_many_files_is_refused_before_it_is_read(client, steward, case, today):
    client.force_login(steward)
    response = client.post(
        reverse("dunning:contact", args=[case.pk]),
        {
            "channel": "visit_home",
            "reached": "on",
            "at": f"{today - DAY}T10:00",
            "photos": [SimpleUploadedFile(f"{i}.jpg", uploads.JPEG) for i in range(11)],
        },
    )
    assert response.status_code == 400
    assert "一次上传的文件过多" in response.content.decode()
    assert not ContactRecord.objects.exists()


def test_a_request_larger_than_the_total_is_refused_before_it_is_read(
    client, steward, case, today, settings, media
):
    settings.WUYE_UPLOAD_MAX_REQUEST_BYTES = 1024 * 1024  # refused above 1 MB + 1 MB for fields
    client.force_login(steward)
    big = uploads.JPEG + b"\x00" * (3 * 1024 * 1024)
    response = client.post(
        reverse("dunning:contact", args=[case.pk]),
        {"channel": "visit_home", "reached": "on", "photos": [SimpleUploadedFile("a.jpg", big)]},
    )
    assert response.status_code == 400
    assert not ContactRecord.objects.exists() and stored_files(media) == []
