"""The queue (待认领款) and a line's page: who sees them, one-click confirm, search, split, undo, refund."""

from decimal import Decimal

import pytest
from django.urls import reverse

from tests.banking import factories as f
from wuye.banking import statement_imports
from wuye.banking.enums import LineStatus
from wuye.banking.models import StatementLine
from wuye.ledger.models import Payment, PaymentReversal

D = f.D


@pytest.fixture
def homes(project, item):
    a = f.account(project, "5-1-803", owner="张三")
    b = f.account(project, "5-2-803", owner="李四")
    f.monthly_bills(a, item, D(2025, 1, 1), 3, "200.00")
    f.monthly_bills(b, item, D(2025, 1, 1), 2, "150.00")
    return a, b


@pytest.fixture
def queued(finance, bank, homes):
    statement_imports.statement_import(
        user=finance,
        account=bank,
        filename="a.xlsx",
        lines=[f.line("77.00", name="李四", remark="物业费"), f.line("500.00", name="陌生人")],
    )
    return list(StatementLine.objects.order_by("id"))


def login(client, user):
    client.force_login(user)
    return client


def test_finance_and_cashier_see_the_queue_with_suggestions_and_age(
    client, finance, cashier, queued
):
    for user in (finance, cashier):
        page = login(client, user).get(reverse("banking:queue"))
        assert page.status_code == 200
        text = page.content.decode()
        assert "待认领款" in text and "5-2-803" in text and "天" in text
    assert "确认 5-2-803" not in page.content.decode()  # cashiers see, finance acts
    page = login(client, finance).get(reverse("banking:queue") + "?show=unidentified")
    assert "陌生人" in page.content.decode() and "李四" not in page.content.decode()


def test_a_steward_does_not_see_the_queue(client, steward, queued):
    assert login(client, steward).get(reverse("banking:queue")).status_code == 403


def test_queue_page_reads_a_fixed_number_of_queries(
    client, finance, queued, django_assert_max_num_queries
):
    login(client, finance)
    with django_assert_max_num_queries(12):
        client.get(reverse("banking:queue"))


def test_one_click_confirms_a_suggestion(client, finance, queued, homes):
    line = queued[0]
    page = login(client, finance).post(
        reverse("banking:claim", args=[line.pk]), {"suggestion": "0"}, follow=True
    )
    assert "已认领并入账" in page.content.decode()
    assert Payment.objects.get().account == homes[1]


def test_search_assigns_another_household(client, finance, queued, homes):
    line = queued[1]
    page = login(client, finance).get(reverse("banking:line", args=[line.pk]) + "?q=5-1-803")
    assert "全部 500.00 元认领到此户" in page.content.decode()
    client.post(reverse("banking:claim", args=[line.pk]), {"room": "5-1-803", "amount": "500.00"})
    assert Payment.objects.get().account == homes[0]


def test_split_assigns_several_and_must_add_up(client, finance, queued, homes):
    line = queued[1]
    url = reverse("banking:claim", args=[line.pk])
    login(client, finance)
    bad = client.post(url, {"room": ["5-1-803", "5-2-803"], "amount": ["300", "100"]})
    assert bad.status_code == 400 and "不符" in bad.content.decode()
    client.post(url, {"room": ["5-1-803", "5-2-803"], "amount": ["300", "200"]})
    assert sorted(p.amount for p in Payment.objects.all()) == [Decimal("200.00"), Decimal("300.00")]


def test_a_cashier_cannot_claim(client, cashier, queued):
    response = login(client, cashier).post(
        reverse("banking:claim", args=[queued[0].pk]), {"suggestion": "0"}
    )
    assert response.status_code == 403
    assert not Payment.objects.exists()


def test_a_line_of_another_project_is_not_found(client, make_user, other_project, queued):
    stranger = make_user("other-finance", "finance", other_project)
    assert (
        login(client, stranger).get(reverse("banking:line", args=[queued[0].pk])).status_code == 404
    )


def test_undo_needs_a_supervisor_and_reverses_the_payment(client, finance, supervisor, queued):
    line = queued[0]
    login(client, finance).post(reverse("banking:claim", args=[line.pk]), {"suggestion": "0"})
    url = reverse("banking:undo", args=[line.pk])
    refused = client.post(url, {"undo-reason": "认错户"})
    assert refused.status_code == 400 and not PaymentReversal.objects.exists()
    client.post(
        url,
        {
            "undo-reason": "认错户",
            "undo-approver_username": "supervisor",
            "undo-approver_password": "pw-supervisor",
        },
    )
    assert PaymentReversal.objects.count() == 1
    assert StatementLine.objects.get(pk=line.pk).status == LineStatus.REVIEW
    page = client.get(reverse("banking:line", args=[line.pk]))
    assert "撤销（已冲红）" in page.content.decode()


def test_refund_of_unclaimed_money_with_approval(client, finance, supervisor, queued):
    line = queued[1]
    client = login(client, finance)
    client.post(
        reverse("banking:refund", args=[line.pk]),
        {
            "refund-reason": "付款人打错账户",
            "refund-approver_username": "supervisor",
            "refund-approver_password": "pw-supervisor",
        },
    )
    assert StatementLine.objects.get(pk=line.pk).status == LineStatus.REFUNDED


def test_finance_uploads_previews_and_commits_a_statement(client, finance, homes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.banking.test_statements import ICBC, xlsx

    login(client, finance)
    assert client.get(reverse("banking:imports")).status_code == 200
    upload = SimpleUploadedFile("工行12月.xlsx", xlsx(ICBC))
    response = client.post(reverse("banking:imports"), {"file": upload})
    assert response.status_code == 302
    preview = client.get(response["Location"]).content.decode()
    assert "流水导入预览" in preview and "6222020200112233445" in preview
    assert "收入金额(元)" in preview  # the mapping form offers the file's columns
    batch_id = int(response["Location"].rstrip("/").split("/")[-1])
    done = client.post(reverse("banking:import_commit", args=[batch_id]), follow=True)
    text = done.content.decode()
    assert "导入完成" in text and "5-1-803 600.00" in text
    assert Payment.objects.count() == 2


def test_a_cashier_cannot_upload_statements(client, cashier):
    assert login(client, cashier).get(reverse("banking:imports")).status_code == 403


def test_a_large_statement_is_matched_in_the_background_with_progress(
    client, finance, homes, monkeypatch
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.banking.test_statements import ICBC, xlsx
    from wuye.banking import views
    from wuye.banking.models import StatementImport

    monkeypatch.setattr(views, "SYNC_MATCH_LINES", 1)  # 2 incoming lines: "large"
    login(client, finance)
    response = client.post(
        reverse("banking:imports"), {"file": SimpleUploadedFile("a.xlsx", xlsx(ICBC))}
    )
    batch_id = int(response["Location"].rstrip("/").split("/")[-1])
    done = client.post(reverse("banking:import_commit", args=[batch_id]), follow=True)
    assert "正在后台匹配入账 2 笔" in done.content.decode()
    batch = StatementImport.objects.get(pk=batch_id)
    # the test task backend runs the task at once: both lines were matched and posted
    assert (batch.match_done, batch.match_total, batch.auto_count) == (2, 2, 2)
    assert Payment.objects.count() == 2
    box = client.get(reverse("banking:import_progress", args=[batch_id])).content.decode()
    assert "匹配入账已完成" in box


def test_matching_resumes_for_stored_lines_nobody_matched(finance, bank, homes):
    from wuye.banking.models import StatementImport

    result = statement_imports.statement_import(
        user=finance,
        account=bank,
        filename="a.xlsx",
        lines=[f.line("600.00", name="张三", remark="5-1-803")],
        post=False,
    )
    StatementLine.objects.update(decided=False)  # as after a crash between storing and matching
    again = statement_imports.statement_match(
        user=finance, batch=StatementImport.objects.get(pk=result.statement.pk)
    )
    assert again.count("auto") == 1 and Payment.objects.count() == 1


def test_the_queue_exports_to_excel_marked_internal_and_audited(client, finance, queued):
    import io

    import openpyxl

    from wuye.core.models import AuditEntry
    from wuye.core.privacy import NAMED_LIST_MARK

    response = login(client, finance).get(reverse("banking:queue_export"))
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    values = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    assert values[0][0] == NAMED_LIST_MARK
    assert {r[3] for r in values[3:]} == {"李四", "陌生人"}
    assert AuditEntry.objects.filter(action__startswith="欠费名单：待认领款").exists()
