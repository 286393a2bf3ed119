"""Reading statements as banks export them: title and account rows above the header, different
header names, totals rows, GBK CSV, .xls, MT940; the upload → preview → commit flow on the import
machinery, the mapping remembered per receiving account."""

import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
import xlwt

from tests.banking import factories as f
from wuye.banking import statement_imports
from wuye.banking.enums import Direction
from wuye.banking.models import BankAccount, StatementLine
from wuye.banking.statements import parse_statement
from wuye.core.errors import ValidationFailed
from wuye.core.importing.batch import ImportStatus
from wuye.ledger.models import Payment

D = datetime.date


def xlsx(rows) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def xls(rows) -> bytes:
    book = xlwt.Workbook()
    sheet = book.add_sheet("流水")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(r, c, value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


ICBC = [
    ["中国工商银行 账户明细"],
    ["账号：6222 0202 0011 2233 445", None, "户名：锦绣花园物业服务中心"],
    ["起止日期：2025-12-01 至 2025-12-31"],
    [],
    [
        "交易日期",
        "交易时间",
        "摘要",
        "收入金额(元)",
        "支出金额(元)",
        "余额",
        "对方户名",
        "对方账号",
        "附言",
        "交易流水号",
    ],
    [
        "2025-12-01",
        "09:12:30",
        "转账",
        "600.00",
        "",
        "10600.00",
        "张三",
        "6217000011112222",
        "5-1-803物业费",
        "SN001",
    ],
    ["2025-12-01", "10:00:00", "手续费", "", "5.00", "10595.00", "", "", "", "SN002"],
    [
        "2025-12-02",
        "11:30:00",
        "转账",
        "1,200.50",
        "",
        "11795.50",
        "李 四",
        "",
        "5栋2单元803",
        "SN003",
    ],
    ["合计", None, None, "1800.50", "5.00"],
]


def test_icbc_layout_with_title_account_rows_and_totals():
    parsed = parse_statement(xlsx(ICBC))
    assert parsed.errors == []
    assert parsed.account_number == "6222020200112233445"
    assert parsed.account_name == "锦绣花园物业服务中心"
    assert [x.serial for x in parsed.lines] == ["SN001", "SN002", "SN003"]
    first, fee, third = parsed.lines
    assert first.direction == Direction.IN and first.amount == Decimal("600.00")
    assert first.txn_date == D(2025, 12, 1) and first.txn_time == datetime.time(9, 12, 30)
    assert first.counterparty_account == "6217000011112222" and first.remark == "5-1-803物业费"
    assert fee.direction == Direction.OUT and fee.amount == Decimal("5.00")
    assert third.amount == Decimal("1200.50")
    assert parsed.skipped_totals == 1


def test_ccb_style_headers_and_gbk_csv():
    text = "\n".join(
        [
            "中国建设银行 交易明细",
            "帐号:6227001234567890123",
            "记账日期,交易时间,借方发生额,贷方发生额,余额,对方户名称,对方账户,交易用途,凭证号",
            "20251203,142233,,300.00,900.00,王五,6222111122223333,6栋1单元1201,V01",
            "20251203,150000,20.00,,880.00,,,,V02",
            "本页小计,,20.00,300.00,,,,,",
        ]
    )
    parsed = parse_statement(text.encode("gbk"))
    assert parsed.errors == []
    assert parsed.account_number == "6227001234567890123"
    assert [(x.serial, x.direction, x.amount) for x in parsed.lines] == [
        ("V01", Direction.IN, Decimal("300.00")),
        ("V02", Direction.OUT, Decimal("20.00")),
    ]
    assert parsed.lines[0].txn_time == datetime.time(14, 22, 33)
    assert parsed.lines[0].remark == "6栋1单元1201"


def test_utf8_csv_with_one_signed_amount_column_and_a_flag():
    text = (
        "交易时间,交易金额,借贷标志,付款人名称,付款人账号,备注,流水号\n"
        "2025-12-04 08:00:01,88.00,贷,赵六,6222,8-1-101,A1\n"
        "2025-12-04 09:00:00,-12.00,,,,,A2\n"
    )
    parsed = parse_statement(text.encode("utf-8"))
    assert parsed.errors == []
    first, second = parsed.lines
    assert first.direction == Direction.IN and first.txn_time == datetime.time(8, 0, 1)
    assert second.direction == Direction.OUT and second.amount == Decimal("12.00")


def test_xls_from_older_web_banking():
    parsed = parse_statement(xls(ICBC))
    assert parsed.errors == [] and len(parsed.lines) == 3


def test_bad_cells_are_reported_with_row_and_column():
    rows = [r[:] for r in ICBC]
    rows[5][3] = "六百"
    parsed = parse_statement(xlsx(rows))
    assert (
        parsed.errors and "第6行" in parsed.errors[0].text and "收入金额" in parsed.errors[0].text
    )


def test_a_statement_without_amount_columns_asks_for_the_mapping():
    parsed = parse_statement(xlsx([["日期", "说明"], ["2025-12-01", "x"]]))
    assert any("收入金额" in e.text for e in parsed.errors)


MT940 = """:20:STMT
:25:CN/6222020200112233445
:28C:00001/001
:60F:C251201CNY1000,00
:61:2512011201C600,00NTRFNONREF//MT0001
:86:/NAME/ZHANG SAN/ACNO/6217000011112222/REMI/5-1-803 WUYEFEI
:61:2512021202D50,00NCHGNONREF//MT0002
:86:SHOUXUFEI
:62F:C251202CNY1550,00
"""


def test_mt940():
    parsed = parse_statement(MT940.encode())
    assert parsed.account_number == "6222020200112233445"
    first, second = parsed.lines
    assert (first.direction, first.amount, first.serial) == (
        Direction.IN,
        Decimal("600.00"),
        "MT0001",
    )
    assert first.counterparty_name == "ZHANG SAN" and first.remark == "5-1-803 WUYEFEI"
    assert first.counterparty_account == "6217000011112222"
    assert second.direction == Direction.OUT


# --- upload → preview → commit ---------------------------------------------------------------------


@pytest.fixture
def homes(project, item):
    a = f.account(project, "5-1-803", owner="张三")
    b = f.account(project, "5-2-803", owner="李四")
    f.monthly_bills(a, item, D(2025, 1, 1), 3, "200.00")
    f.monthly_bills(b, item, D(2025, 1, 1), 8, "150.05")
    return a, b


def test_upload_preview_commit_creates_the_account_named_in_the_file(project, finance, homes):
    content = xlsx(ICBC)  # once: openpyxl stamps the time into every file it writes
    batch = statement_imports.statement_upload(
        user=finance, project=project, filename="工行.xlsx", content=content
    )
    assert batch.status == ImportStatus.PREVIEWED
    assert batch.report["error_count"] == 0 and batch.report["counts"]["incoming"] == 2
    assert not StatementLine.objects.exists()  # the preview writes no line
    result = statement_imports.statement_commit(user=finance, batch=batch)
    account = BankAccount.objects.get(project=project)
    assert account.number == "6222020200112233445"
    assert [o.status for o in result.outcomes] == ["auto", "ignored", "auto"]
    assert Payment.objects.count() == 2
    assert account.mapping["credit"] == "收入金额(元)"
    # the same file again: kept once, posts nothing
    again = statement_imports.statement_upload(
        user=finance, project=project, filename="工行.xlsx", content=content
    )
    assert again.report["same_file_committed"]
    result = statement_imports.statement_commit(user=finance, batch=again)
    assert {o.status for o in result.outcomes} == {"duplicate"}
    assert Payment.objects.count() == 2


def test_a_corrected_mapping_is_remembered_for_the_account(project, finance, homes):
    odd = [
        ["账号：6222020200112233445"],
        ["日", "进账", "出账", "客户", "说明", "号"],
        ["2025-12-01", "600.00", "", "张三", "5-1-803", "Z1"],
    ]
    batch = statement_imports.statement_upload(
        user=finance, project=project, filename="a.xlsx", content=xlsx(odd)
    )
    assert batch.report["error_count"]
    batch = statement_imports.statement_remap(
        user=finance,
        batch=batch,
        mapping={
            "@header": 2,
            "date": 1,
            "credit": 2,
            "debit": 3,
            "name": 4,
            "remark": 5,
            "serial": 6,
        },
    )
    assert batch.report["error_count"] == 0
    statement_imports.statement_commit(user=finance, batch=batch)
    assert Payment.objects.count() == 1
    # next month's file of the same account is read with that mapping at once
    odd[2] = ["2026-01-01", "300.10", "", "李四", "5-2-803", "Z2"]
    nxt = statement_imports.statement_upload(
        user=finance, project=project, filename="b.xlsx", content=xlsx(odd)
    )
    assert nxt.report["error_count"] == 0
    assert nxt.report["known_account"] == BankAccount.objects.get().pk


def test_a_statement_naming_no_account_needs_one_when_the_project_has_several(
    project, finance, homes
):
    content = "交易日期,收入金额,对方户名,附言\n2025-12-01,600.00,张三,5-1-803\n".encode()
    batch = statement_imports.statement_upload(
        user=finance, project=project, filename="a.csv", content=content
    )
    f.bank(project, "111122223333")
    f.bank(project, "444455556666")
    with pytest.raises(ValidationFailed, match="请选择"):
        statement_imports.statement_commit(user=finance, batch=batch)
    account = BankAccount.objects.get(number="111122223333")
    statement_imports.statement_commit(user=finance, batch=batch, account=account)
    assert StatementLine.objects.get().bank_account == account


def test_an_unreadable_upload_is_refused(project, finance):
    with pytest.raises(ValidationFailed):
        statement_imports.statement_upload(
            user=finance, project=project, filename="a.pdf", content=b"%PDF-1.4 \x00\x01"
        )
