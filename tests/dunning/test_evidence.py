"""A case's evidence exports as one ZIP — a PDF index plus the attachments with their SHA-256
fingerprints — for staff who may see the case, and every export is audited (LAW.md "Evidence", §2)."""

import datetime
import hashlib
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests import uploads
from tests.dunning import factories
from wuye.core.models import AuditEntry
from wuye.dunning.contacts import contact_record
from wuye.dunning.evidence import evidence_export

DAY = datetime.timedelta(days=1)
SLIP = uploads.JPEG
pytestmark = pytest.mark.django_db


@pytest.fixture
def case(settings, tmp_path, project, debtor, steward, today):
    settings.MEDIA_ROOT = tmp_path
    factories.run(project)
    case = factories.case_of(debtor)
    contact_record(
        user=steward,
        case=case,
        channel="mail",
        reached=False,
        used="3-2-1502",
        delivery_status="delivered",
        delivery_ref="EMS1234567890",
        demand_deadline=today + 15 * DAY,
        late_entry_reason="EMS 签收回执两天后寄回",
        attachments=[SimpleUploadedFile("ems.jpg", SLIP, content_type="image/jpeg")],
        attachment_kind="ems_slip",
        at=factories.at(today - 2 * DAY, 10),
        now=factories.at(today, 10),
    )
    return case


def test_the_zip_holds_a_pdf_index_and_every_attachment(steward, case):
    export = evidence_export(user=steward, case=case)

    names = zipfile.ZipFile(io.BytesIO(export.content)).namelist()
    assert names == ["index.pdf", "attachments/001_ems.jpg"]
    assert export.files == 1


def test_the_attachment_in_the_zip_matches_its_recorded_fingerprint(steward, case):
    export = evidence_export(user=steward, case=case)

    data = zipfile.ZipFile(io.BytesIO(export.content)).read("attachments/001_ems.jpg")
    assert hashlib.sha256(data).hexdigest() == case.contacts.get().attachments.get().sha256


def test_the_index_is_a_pdf(steward, case):
    export = evidence_export(user=steward, case=case)

    assert zipfile.ZipFile(io.BytesIO(export.content)).read("index.pdf").startswith(b"%PDF")


def test_every_export_is_audited(steward, case):
    evidence_export(user=steward, case=case)

    entry = AuditEntry.objects.get(action="导出催缴证据")
    assert entry.user == steward


def test_the_steward_downloads_the_zip_of_their_case(client, steward, case):
    client.force_login(steward)

    response = client.get(reverse("dunning:evidence", args=[case.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"


def test_another_project_gets_no_evidence(client, make_user, other_project, case):
    from wuye.core.roles import Role

    client.force_login(make_user("outsider", Role.SUPERVISOR, other_project))

    assert client.get(reverse("dunning:evidence", args=[case.pk])).status_code == 404
    assert not AuditEntry.objects.filter(action="导出催缴证据").exists()


def test_a_cashier_gets_no_evidence_of_a_case_they_do_not_hold(client, cashier, case):
    client.force_login(cashier)

    assert client.get(reverse("dunning:evidence", args=[case.pk])).status_code in (403, 404)
