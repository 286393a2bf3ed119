"""Bank withholding (银行代扣): authorisations, a month's batch and its file, the bank's return file,
payments for the successes, failures on the household's case, and no chasing while the bank works."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from tests.banking.conftest import BANK, CARD_A, CARD_B, DAY
from tests.dunning import factories as dun
from wuye.banking import (
    withholding_authorizations,
    withholding_batches,
    withholding_files,
    withholding_returns,
)
from wuye.banking.enums import BatchState, LineResult
from wuye.banking.models import WithholdingLine
from wuye.billing.calc import month_end
from wuye.core import xlsx
from wuye.core.errors import ValidationFailed
from wuye.core.models import AuditEntry
from wuye.dunning.contacts import contact_record
from wuye.dunning.enums import EventKind, Stage
from wuye.dunning.models import EscalationRule
from wuye.dunning.selectors import today_tasks
from wuye.ledger.enums import PaymentMethod
from wuye.ledger.models import Payment


@pytest.fixture
def today():
    return dun.today()


def return_file(rows, header=("业务编号", "扣款账号", "户名", "扣款金额", "处理结果", "失败原因")):
    book = xlsx.workbook()
    sheet = book.create_sheet("回盘")
    sheet.append(["中国工商银行 批量代扣回盘"])
    sheet.append([])
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    sheet.append(["合计", None, None, None])
    return xlsx.save(book)


def answers(batch, failures=None):
    """A return file for every line of ``batch``: success, or failure with the reason given."""
    failures = failures or {}
    rows = []
    for line in batch.lines.select_related("authorization").order_by("seq"):
        reason = failures.get(line.seq)
        rows.append(
            [
                line.reference,
                line.authorization.account_number,
                line.authorization.holder,
                f"{line.amount:.2f}",
                "失败" if reason else "成功",
                reason or "",
            ]
        )
    return return_file(rows)


def import_return(user, project, content, batch=None):
    ret = withholding_returns.return_upload(
        user=user, project=project, filename="回盘.xlsx", content=content, batch=batch
    )
    if ret.report.get("error_count"):
        return ret
    return withholding_returns.return_commit(user=user, ret=ret)


# --- authorisations --------------------------------------------------------------------------------


def test_authorisation_keeps_the_agreement_and_audits_only_the_masked_number(authorised, finance):
    auth = authorised[0]
    from wuye.banking.models import WithholdingAuthorization

    saved = WithholdingAuthorization.objects.get(account=auth)
    assert saved.agreement.name.endswith(".pdf")
    entries = [str(e.changes) for e in AuditEntry.objects.filter(action="代扣授权登记")]
    assert len(entries) == 2 and not any(CARD_A in e or CARD_B in e for e in entries)
    assert any("6222 **** **** 3445" in e for e in entries)


def test_an_agreement_that_is_a_web_page_is_refused(homes, finance, today):
    with pytest.raises(ValidationFailed) as exc:
        withholding_authorizations.authorization_add(
            user=finance,
            account=homes[0],
            bank=BANK,
            account_number=CARD_A,
            holder="张三",
            signed_on=today,
            agreement=SimpleUploadedFile("授权书.pdf", b"<html><script>alert(1)</script>"),
        )
    assert exc.value.field == "agreement"


def test_a_household_has_at_most_one_active_authorisation(authorised, finance, today):
    with pytest.raises(ValidationFailed) as exc:
        withholding_authorizations.authorization_add(
            user=finance,
            account=authorised[0],
            bank="建设银行",
            account_number="6227000000000000001",
            holder="张三",
            signed_on=today,
        )
    assert "先取消原授权" in exc.value.message and CARD_A not in exc.value.message


def test_a_steward_cannot_register_an_authorisation(homes, steward, today):
    with pytest.raises(ValidationFailed):
        withholding_authorizations.authorization_add(
            user=steward,
            account=homes[0],
            bank=BANK,
            account_number=CARD_A,
            holder="张三",
            signed_on=today,
        )


# --- batches ---------------------------------------------------------------------------------------


def test_batch_takes_open_bills_due_by_the_month_with_control_totals(batch, homes):
    assert batch.state == BatchState.SENT
    assert batch.line_count == 2 and batch.total_amount == Decimal("400.00")
    line = batch.lines.get(account=homes[0])
    assert line.amount == Decimal("200.00") and len(line.bill_ids) == 2
    assert line.reference == f"{batch.number}-0001"


def test_a_bill_due_after_the_batch_month_is_not_taken(project, finance, authorised, item, today):
    next_month = (month_end(today) + DAY).replace(day=1)
    dun.bill(authorised[0], item, "100.00", next_month, next_month + 14 * DAY)
    batch = withholding_batches.batch_create(user=finance, project=project, bank=BANK, month=today)
    assert batch.lines.get(account=authorised[0]).amount == Decimal("200.00")


def test_a_second_batch_for_the_same_bank_and_month_is_refused(batch, project, finance, today):
    with pytest.raises(ValidationFailed) as exc:
        withholding_batches.batch_create(user=finance, project=project, bank=BANK, month=today)
    assert batch.number in exc.value.message


def test_batch_file_follows_the_banks_csv_template(project, finance, authorised, today):
    withholding_files.template_set(
        user=finance,
        project=project,
        bank=BANK,
        columns=[("reference", "客户参考号"), ("account_number", "卡号"), ("amount", "金额(元)")],
        file_format="csv",
        encoding="gbk",
    )
    batch = withholding_batches.batch_create(user=finance, project=project, bank=BANK, month=today)
    name, content_type, content = withholding_files.batch_file(user=finance, batch=batch)
    rows = list(csv.reader(io.StringIO(content.decode("gbk"))))
    assert name.endswith(".csv") and "gbk" in content_type
    assert rows[0] == ["批次号", batch.number, "总笔数", "2", "总金额", "400.00"]
    assert rows[1] == ["客户参考号", "卡号", "金额(元)"]
    assert rows[2] == [f"{batch.number}-0001", CARD_A, "200.00"]
    assert AuditEntry.objects.filter(action="代扣文件下载").count() == 1


def test_batch_file_xlsx_keeps_the_account_number_as_text(batch, finance):
    _, _, content = withholding_files.batch_file(user=finance, batch=batch)
    sheet = load_workbook(io.BytesIO(content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1] == ("序号", "业务编号", "扣款账号", "户名", "金额", "用途")
    assert rows[2][2] == CARD_A


def test_a_steward_cannot_download_the_batch_file(batch, steward):
    with pytest.raises(ValidationFailed):
        withholding_files.batch_file(user=steward, batch=batch)


# --- return files ----------------------------------------------------------------------------------


def test_return_file_posts_successes_as_withholding_payments(project, finance, batch, homes):
    ret = import_return(finance, project, answers(batch, {2: "余额不足"}))
    assert ret.status == "committed", ret.report
    payment = Payment.objects.get(account=homes[0])
    line = payment.lines.get()
    assert line.method == PaymentMethod.WITHHOLDING
    assert line.reference == f"{batch.number}-0001" and payment.amount == Decimal("200.00")
    assert not Payment.objects.filter(account=homes[1]).exists()
    batch.refresh_from_db()
    assert batch.state == BatchState.RETURNED
    assert (batch.success_count, batch.failure_count) == (1, 1)
    assert batch.success_amount == Decimal("200.00")


def test_the_same_return_file_imported_again_posts_nothing(project, finance, batch):
    content = answers(batch, {2: "余额不足"})
    import_return(finance, project, content)
    again = import_return(finance, project, content)
    assert again.status == "committed"
    assert again.already_count == 2 and again.success_count == 0
    assert Payment.objects.count() == 1
    assert again.report["same_file_committed"] is not None


def test_a_failure_is_recorded_on_the_households_case_with_the_reason(
    project, finance, steward, batch, homes, today
):
    dun.run(project, today)
    import_return(finance, project, answers(batch, {2: "账户冻结"}))
    case = dun.case_of(homes[1])
    event = case.events.get(kind=EventKind.BANK)
    assert "代扣失败：账户冻结" in event.reason and batch.number in event.reason
    line = WithholdingLine.objects.get(batch=batch, seq=2)
    assert line.result == LineResult.FAILURE and line.reason == "账户冻结"


def test_todays_list_shows_the_failure_reason(
    project, finance, steward, batch, homes, today, django_capture_on_commit_callbacks
):
    dun.run(project, today)
    with django_capture_on_commit_callbacks(execute=True):
        import_return(finance, project, answers(batch, {2: "户名不符"}))
    cards = {c.account_id: c for c in today_tasks(user=steward, project_id=project.pk, on=today)}
    assert "户名不符" in cards[homes[1].pk].bank_note
    assert homes[0].pk not in cards  # paid by the bank: the case closed
    assert cards[homes[1].pk].bank_hold == ""


def test_a_return_file_with_unknown_batch_wrong_amount_and_duplicates_posts_nothing(
    project, finance, batch
):
    first = f"{batch.number}-0001"
    content = return_file(
        [
            [first, CARD_A, "张三", "200.00", "成功", ""],
            [first, CARD_A, "张三", "200.00", "成功", ""],
            [f"{batch.number}-0002", CARD_B, "李四", "150.00", "成功", ""],
            ["DKP00119990101-0001", CARD_A, "张三", "200.00", "成功", ""],
            [f"{batch.number}-0009", CARD_A, "张三", "200.00", "成功", ""],
            [first, CARD_A, "张三", "200.00", "已受理", ""],
        ]
    )
    ret = withholding_returns.return_upload(
        user=finance, project=project, filename="回盘.xlsx", content=content
    )
    texts = [e["text"] for e in ret.report["errors"]]
    assert any("第5行" in t and "与第 4 行重复" in t for t in texts), texts
    assert any("第6行" in t and "150.00 元与批次中该笔的 200.00 元不符" in t for t in texts)
    assert any("第7行" in t and "不存在于本项目" in t for t in texts)
    assert any("第8行" in t and "没有第 9 笔" in t for t in texts)
    assert any("第9行" in t and "无法识别的扣款结果" in t for t in texts)
    with pytest.raises(ValidationFailed):
        withholding_returns.return_commit(user=finance, ret=ret)
    assert Payment.objects.count() == 0
    assert WithholdingLine.objects.filter(result=LineResult.PENDING).count() == 2


def test_a_return_contradicting_an_earlier_one_is_a_row_error(project, finance, batch):
    import_return(finance, project, answers(batch, {2: "余额不足"}))
    ret = withholding_returns.return_upload(
        user=finance, project=project, filename="b.xlsx", content=answers(batch)
    )
    assert ret.report["error_count"] == 1
    assert (
        "已于" in ret.report["errors"][0]["text"]
        and "请与银行核实" in ret.report["errors"][0]["text"]
    )


def test_a_return_row_with_another_households_card_is_refused(project, finance, batch):
    content = return_file([[f"{batch.number}-0001", CARD_B, "张三", "200.00", "成功", ""]])
    ret = withholding_returns.return_upload(
        user=finance, project=project, filename="c.xlsx", content=content
    )
    assert "授权账号不符" in ret.report["errors"][0]["text"]
    assert CARD_B not in str(ret.report["preview"])


def test_a_return_by_sequence_needs_the_batch_chosen(project, finance, batch):
    content = return_file(
        [[1, "200.00", "成功", ""], [2, "200.00", "失败", "账户已销户"]],
        header=("序号", "金额", "结果", "原因"),
    )
    ret = import_return(finance, project, content, batch=batch)
    assert ret.status == "committed", ret.report
    assert (ret.success_count, ret.failure_count) == (1, 1)


# --- no chasing while the bank works ---------------------------------------------------------------


def test_a_household_in_flight_is_held_on_todays_list(project, steward, batch, homes, today):
    dun.run(project, today)
    cards = today_tasks(user=steward, project_id=project.pk, on=today)
    assert cards and all(c.bank_hold.startswith("银行代扣处理中") for c in cards)
    assert batch.number in cards[0].bank_hold


def test_a_call_to_a_household_in_flight_is_refused(project, steward, batch, homes, today):
    dun.run(project, today)
    case = dun.case_of(homes[0])
    at = dun.at(today, 10)
    with pytest.raises(ValidationFailed) as exc:
        contact_record(user=steward, case=case, channel="phone", reached=True, at=at, now=at)
    assert exc.value.code == "dunning.bank_hold" and "银行代扣处理中" in exc.value.message
    with pytest.raises(ValidationFailed):
        contact_record(user=steward, case=case, channel="sms", reached=True, at=at, now=at)


def test_the_daily_run_does_not_escalate_a_household_in_flight(
    project, finance, steward, batch, homes, today
):
    EscalationRule.objects.filter(project=project).update(days=1)
    dun.run(project, today - 5 * DAY)
    dun.run(project, today)
    case = dun.case_of(homes[0])
    assert case.stage == Stage.REMINDER


def test_the_hold_ends_when_the_result_is_back(project, finance, steward, batch, homes, today):
    dun.run(project, today)
    import_return(finance, project, answers(batch, {1: "余额不足", 2: "余额不足"}))
    cards = today_tasks(user=steward, project_id=project.pk, on=today)
    assert cards and all(c.bank_hold == "" for c in cards)


def test_a_cancelled_batch_releases_the_hold(project, finance, batch, homes):
    withholding_batches.batch_cancel(user=finance, batch=batch, reason="文件未发送")
    assert withholding_batches.chase_holds(project_id=project.pk, account_ids=None) == {}


def test_a_template_without_the_account_number_or_with_an_unknown_column_is_refused(
    project, finance
):
    with pytest.raises(ValidationFailed) as exc:
        withholding_files.template_set(
            user=finance,
            project=project,
            bank=BANK,
            columns=[("seq", "序号"), ("amount", "金额")],
            file_format="csv",
        )
    assert "扣款账号" in exc.value.message
    with pytest.raises(ValidationFailed) as exc:
        withholding_files.template_columns([("seq", "序号"), ("id_number", "身份证")])
    assert "未知的列" in exc.value.message
