"""Lists that name debtors — 欠费大户 and the households behind a figure — are internal: the page, its
print and the workbook say "内部资料，请勿公开张贴（《个人信息保护法》第二十五条）", and every view and export
writes an audit entry (who, which list, how many rows, which filters)."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from tests.ledger.factories import monthly_bills
from tests.reports.builders import D, account, bill, fee_item
from wuye.core.models import AuditEntry
from wuye.core.privacy import NAMED_LIST_MARK
from wuye.reports import forms

pytestmark = pytest.mark.django_db
YEAR = {"as_of": "2025-06-30", "window": "year"}
MARK = "内部资料，请勿公开张贴（《个人信息保护法》第二十五条）"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def debtors(project):
    item = fee_item(project)
    for code, owner in (("1-1-101", "张三丰"), ("2-1-201", "李四")):
        acct = account(project, code, owner=owner)
        bill(acct, item, "100.00", D(2024, 1, 1))
        monthly_bills(acct, item, D(2025, 1, 1), 6)


def named_audits():
    return list(AuditEntry.objects.filter(model="named_list").order_by("id"))


def sheet_of(content: bytes):
    return load_workbook(io.BytesIO(content)).active


def test_the_mark_is_the_one_the_law_asks_for():
    assert NAMED_LIST_MARK == MARK


def test_the_top_debtors_page_is_marked_and_audited(client, manager, debtors):
    client.force_login(manager)
    html = client.get(reverse("reports:debtors"), {**YEAR, "limit": "20"}).content.decode()
    assert "张三丰" in html
    assert f'<p class="named-list-mark" role="note">{MARK}</p>' in html
    [entry] = named_audits()
    assert entry.user == manager
    assert entry.action == "欠费名单：欠费大户（页面）"
    assert entry.changes["rows"] == 2 and entry.changes["params"]["limit"] == "20"


def test_the_top_debtors_workbook_is_marked_on_the_sheet_and_on_every_printed_page(
    client, manager, debtors
):
    client.force_login(manager)
    response = client.get(reverse("reports:debtors"), {**YEAR, "format": "xlsx"})
    ws = sheet_of(response.content)
    assert ws["A2"].value == MARK and ws["A2"].font.bold
    assert ws.oddHeader.center.text == MARK and ws.oddFooter.center.text == MARK
    assert "张三丰" in [c.value for row in ws.iter_rows() for c in row]
    [entry] = named_audits()
    assert entry.action == "欠费名单：欠费大户（Excel）" and entry.changes["rows"] == 2


def test_a_background_export_of_top_debtors_is_audited_and_marked(
    client, manager, debtors, monkeypatch
):
    monkeypatch.setattr(forms, "EXPORT_ASYNC_ROWS", 0)
    client.force_login(manager)
    response = client.get(reverse("reports:debtors"), {**YEAR, "format": "xlsx"})
    assert response.status_code == 302
    [entry] = named_audits()
    assert entry.action == "欠费名单：欠费大户（Excel（后台））"
    download = client.get(response.url + "download/")
    assert sheet_of(b"".join(download.streaming_content))["A2"].value == MARK


def test_the_households_behind_a_figure_are_marked_and_audited(client, manager, debtors):
    client.force_login(manager)
    page = client.get(reverse("reports:households"), {**YEAR, "figure": "aging"})
    assert MARK in page.content.decode()
    response = client.get(
        reverse("reports:households"), {**YEAR, "figure": "aging", "format": "xlsx"}
    )
    assert sheet_of(response.content)["A2"].value == MARK
    assert [e.action for e in named_audits()] == [
        "欠费名单：数字背后的住户：账龄段内的欠费住户（页面）",
        "欠费名单：数字背后的住户：账龄段内的欠费住户（Excel）",
    ]


def test_reports_without_names_carry_no_mark_and_no_list_audit(client, manager, debtors):
    client.force_login(manager)
    page = client.get(reverse("reports:rates"), YEAR).content.decode()
    workbook = client.get(reverse("reports:rates"), {**YEAR, "format": "xlsx"}).content
    assert MARK not in page
    assert MARK not in [c.value for row in sheet_of(workbook).iter_rows() for c in row]
    assert named_audits() == []
