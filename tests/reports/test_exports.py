"""Excel exports: title, filters and as-of date above the headers; money and rates as numbers; large
exports run as a background task with progress and a download link."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from tests.ledger.factories import monthly_bills
from tests.reports.builders import D, account, bill, fee_item, pay
from wuye.core.roles import Role
from wuye.reports import exporting, forms

pytestmark = pytest.mark.django_db

YEAR = {"as_of": "2025-06-30", "window": "year"}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def ledger(project, cashier):
    item = fee_item(project)
    owing = account(project, "1-1-101", owner="张三丰")
    paid = account(project, "2-1-201", owner="李四")
    bill(owing, item, "100.00", D(2024, 1, 1))
    monthly_bills(owing, item, D(2025, 1, 1), 6)
    monthly_bills(paid, item, D(2025, 1, 1), 6)
    pay(cashier, owing, "300.00", business_date=D(2025, 3, 20))
    pay(cashier, paid, "600.00", business_date=D(2025, 6, 1))
    return owing


def workbook(response):
    assert response["Content-Type"] == exporting.XLSX
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return load_workbook(io.BytesIO(content)).active


def rows_of(ws):
    return [list(r) for r in ws.iter_rows(values_only=True)]


def test_the_rates_workbook_has_title_filters_and_as_of_above_the_headers(client, manager, ledger):
    client.force_login(manager)
    ws = workbook(
        client.get(reverse("reports:rates"), {**YEAR, "group": "project", "format": "xlsx"})
    )
    rows = rows_of(ws)
    assert rows[0][0] == "收缴率报表"
    assert rows[1][:3] == [
        "项目：全部项目（1 个）",
        "统计区间：2025-01-01 至 2025-12-31（本年）",
        "分组：按项目",
    ]
    assert rows[2][0] == "截至日期：2025-06-30"
    header = next(i for i, r in enumerate(rows) if r[0] == "项目")
    assert (
        header
        == exporting.header_rows(exporting.Sheet("", [], D(2025, 6, 30), [], [], notes=["x"])) - 1
    )
    first = ws.cell(header + 2, 2)  # 本期应收 of 锦绣花园
    assert first.value == 1200 and first.number_format == "#,##0.00"
    rate = ws.cell(header + 2, 4)  # 当期收缴率: 300 − 100 old + 600 = 800 of 1200 received
    assert rate.value == pytest.approx(0.6667) and rate.number_format == "0.00%"


def test_a_rate_without_denominator_is_a_dash_not_zero(client, manager, project, ledger):
    client.force_login(manager)
    ws = workbook(
        client.get(
            reverse("reports:rates"),
            {"as_of": "2023-06-30", "window": "month", "group": "company", "format": "xlsx"},
        )
    )
    data = rows_of(ws)[-1]
    assert data[3] == "—"  # nothing billed in June 2023


def test_the_aging_workbook_sums_the_buckets_by_building(client, manager, ledger):
    client.force_login(manager)
    rows = rows_of(workbook(client.get(reverse("reports:aging"), {**YEAR, "format": "xlsx"})))
    total = rows[-1]
    assert total[0] == "合计"
    assert total[1:3] == [300, 100] and total[7] == 400


def test_top_debtors_with_a_large_limit_run_in_the_background_with_a_download(
    client, manager, ledger
):
    client.force_login(manager)
    response = client.get(reverse("reports:debtors"), {**YEAR, "limit": "6000", "format": "xlsx"})
    assert response.status_code == 302
    status_url = response["Location"]
    # The test task backend runs the task at once, as a worker would.
    page = client.get(status_url)
    assert "100%" in page.content.decode() and "下载" in page.content.decode()
    job_id = status_url.rstrip("/").split("/")[-1]
    rows = rows_of(workbook(client.get(reverse("reports:export_download", args=[job_id]))))
    assert rows[0][0] == "欠费大户"
    assert rows[-1][1:4] == ["1-1-101", "张三丰", 400]


def test_the_progress_bar_polls_while_the_export_works(client, manager, ledger):
    job = exporting.job_create(
        user_id=manager.pk, kind="debtors", params={}, title="欠费大户", rows=8000
    )
    exporting.job_update(job, status="running", done=2000)
    client.force_login(manager)
    response = client.get(reverse("reports:export_status", args=[job]), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert 'value="25"' in html and "hx-trigger" in html and "export-download" not in html


def test_another_user_cannot_see_or_download_an_export(client, manager, make_user, project, ledger):
    job = exporting.job_create(
        user_id=manager.pk, kind="debtors", params={}, title="欠费大户", rows=1
    )
    other = make_user("supervisor", Role.SUPERVISOR, project)
    client.force_login(other)
    assert client.get(reverse("reports:export_status", args=[job])).status_code == 404
    assert client.get(reverse("reports:export_download", args=[job])).status_code == 404


def test_a_large_households_list_is_exported_in_the_background(
    client, manager, ledger, monkeypatch
):
    monkeypatch.setattr(forms, "EXPORT_ASYNC_ROWS", 0)
    client.force_login(manager)
    response = client.get(
        reverse("reports:households"), {**YEAR, "figure": "aging", "format": "xlsx"}
    )
    assert response.status_code == 302
    job = exporting.job_read(response["Location"].rstrip("/").split("/")[-1])
    assert job["status"] == "done" and job["done"] == 1


def test_a_small_households_list_downloads_at_once_with_masked_names_for_finance(
    client, make_user, ledger
):
    finance = make_user("finance", Role.FINANCE, company_role=Role.FINANCE)
    client.force_login(finance)
    rows = rows_of(
        workbook(
            client.get(reverse("reports:households"), {**YEAR, "figure": "aging", "format": "xlsx"})
        )
    )
    assert rows[-1][1:4] == ["1-1-101", "张**", 400]
