"""The withholding pages: finance makes a batch, downloads its file and imports the return file;
account numbers are masked on every page and export; stewards see the bank's results on their cases
and are not offered contact while the bank works."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from tests.banking.conftest import BANK, CARD_A, CARD_B, PDF
from tests.banking.test_withholding import answers, import_return, return_file
from tests.dunning import factories as dun
from wuye.banking.enums import BatchState
from wuye.banking.models import WithholdingBatch, WithholdingReturn
from wuye.ledger.models import Payment


@pytest.fixture
def today():
    return dun.today()


def login(client, user):
    client.force_login(user)
    return client


def masked(text: str) -> bool:
    return CARD_A not in text and CARD_B not in text


def test_finance_registers_an_authorisation_and_sees_it_masked(client, finance, homes):
    page = login(client, finance).post(
        reverse("banking:withholding_authorizations"),
        {
            "auth-room": "3-2-1502",
            "auth-bank": BANK,
            "auth-account_number": CARD_A,
            "auth-holder": "张三",
            "auth-signed_on": "2026-01-05",
            "auth-agreement": SimpleUploadedFile("授权书.pdf", PDF),
        },
        follow=True,
    )
    text = page.content.decode()
    assert page.status_code == 200 and "已登记 3-2-1502 的代扣授权" in text
    assert masked(text) and "6222 **** **** 3445" in text


def test_finance_makes_the_months_batch_from_the_page(client, finance, authorised, today):
    page = login(client, finance).post(
        reverse("banking:withholding"),
        {"batch-bank": BANK, "batch-month": f"{today:%Y-%m}"},
        follow=True,
    )
    text = page.content.decode()
    batch = WithholdingBatch.objects.get()
    assert f"已生成代扣批次 {batch.number}" in text and "总笔数 <b>2</b>" in text
    assert masked(text)


def test_the_batch_file_downloads_with_full_numbers_and_the_export_masks_them(
    client, finance, batch
):
    login(client, finance)
    file = client.get(reverse("banking:withholding_batch_file", args=[batch.pk]))
    assert file.status_code == 200 and "attachment" in file["Content-Disposition"]
    rows = list(load_workbook(io.BytesIO(file.content)).active.iter_rows(values_only=True))
    assert rows[2][2] == CARD_A
    export = client.get(reverse("banking:withholding_batch_export", args=[batch.pk]))
    values = [
        str(v)
        for row in load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True)
        for v in row
    ]
    assert not any(CARD_A in v or CARD_B in v for v in values)
    assert "6222 **** **** 3445" in values


def test_finance_imports_the_return_file_and_sees_the_failures(
    client, finance, project, batch, homes
):
    login(client, finance)
    page = client.post(
        reverse("banking:withholding"),
        {"ret-file": SimpleUploadedFile("回盘.xlsx", answers(batch, {2: "余额不足"}))},
    )
    ret = WithholdingReturn.objects.get()
    assert page.status_code == 302 and page["Location"].endswith(f"/returns/{ret.pk}/")
    preview = client.get(page["Location"]).content.decode()
    assert "回盘导入预览" in preview and masked(preview)
    client.post(reverse("banking:withholding_return_commit", args=[ret.pk]))
    assert Payment.objects.filter(account=homes[0]).count() == 1
    batch_page = client.get(
        reverse("banking:withholding_batch", args=[batch.pk]) + "?result=failure"
    ).content.decode()
    assert "余额不足" in batch_page and "3-2-1602" in batch_page and masked(batch_page)
    assert WithholdingBatch.objects.get().state == BatchState.RETURNED


def test_a_bad_return_file_shows_row_errors_and_cannot_be_committed(
    client, finance, project, batch
):
    content = return_file([[f"{batch.number}-0001", CARD_A, "张三", "999.00", "成功", ""]])
    login(client, finance).post(
        reverse("banking:withholding"), {"ret-file": SimpleUploadedFile("x.xlsx", content)}
    )
    ret = WithholdingReturn.objects.get()
    text = client.get(reverse("banking:withholding_return", args=[ret.pk])).content.decode()
    assert "第4行" in text and "与批次中该笔的 200.00 元不符" in text and "disabled" in text
    client.post(reverse("banking:withholding_return_commit", args=[ret.pk]))
    assert Payment.objects.count() == 0


def test_stewards_and_cashiers_cannot_open_the_withholding_pages(client, steward, cashier, batch):
    for user in (steward, cashier):
        login(client, user)
        assert client.get(reverse("banking:withholding")).status_code == 403
        url = reverse("banking:withholding_batch_file", args=[batch.pk])
        assert client.get(url).status_code == 403


def test_steward_sees_the_failure_reason_on_the_case_page(
    client, finance, steward, project, batch, homes, today
):
    dun.run(project, today)
    import_return(finance, project, answers(batch, {2: "账户冻结"}))
    case = dun.case_of(homes[1])
    login(client, steward)
    page = client.get(reverse("dunning:case", args=[case.pk])).content.decode()
    assert reverse("banking:withholding_case_panel", args=[case.pk]) in page
    assert "代扣失败：账户冻结" in page  # the case's timeline
    panel = client.get(reverse("banking:withholding_case_panel", args=[case.pk])).content.decode()
    assert "账户冻结" in panel and "扣款失败" in panel and masked(panel)
    today_page = client.get(reverse("dunning:today")).content.decode()
    assert "代扣失败：账户冻结" in today_page


def test_the_case_page_of_a_household_in_flight_offers_no_contact(
    client, steward, project, batch, homes, today
):
    dun.run(project, today)
    case = dun.case_of(homes[0])
    login(client, steward)
    page = client.get(reverse("dunning:case", args=[case.pk])).content.decode()
    assert "银行代扣处理中" in page and 'id="record"' not in page
    today_page = client.get(reverse("dunning:today")).content.decode()
    assert "银行代扣处理中" in today_page and "登记结果" not in today_page


def test_the_bank_panel_of_another_projects_case_is_not_found(
    client, make_user, other_project, project, batch, homes, today
):
    dun.run(project, today)
    case = dun.case_of(homes[0])
    stranger = make_user("stranger", "steward", other_project)
    login(client, stranger)
    url = reverse("banking:withholding_case_panel", args=[case.pk])
    assert client.get(url).status_code == 404
