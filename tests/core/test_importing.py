"""The one spreadsheet-import machinery (core.importing): reading .xlsx/.xls/.csv in UTF-8 or GBK,
the header row below title and account rows, synonyms and the user's mapping, blank and totals rows,
row errors with row numbers, and the batch's preview and all-or-nothing commit."""

import csv
import datetime
import io
from decimal import Decimal, InvalidOperation

import openpyxl
import pytest
import xlwt
from django.db import IntegrityError

from wuye.core.errors import ValidationFailed
from wuye.core.importing import (
    CSV,
    HEADER_ROW,
    XLS,
    XLSX,
    Column,
    RowStream,
    SheetSpec,
    check_readable,
    make_layout,
    mapping_errors,
    mapping_headers,
    read_sheets,
)
from wuye.core.importing.batch import (
    Analysis,
    ImportStatus,
    batch_commit,
    batch_new,
    batch_preview,
    batch_remap,
)
from wuye.core.models import Company

# A bank statement's columns, as a caller of the machinery would describe them.
STATEMENT = SheetSpec(
    "statement",
    "",
    (
        Column("date", "交易日期", ("记账日期",), required=True),
        Column("credit", "收入金额", ("贷方发生额", "贷方金额"), required=True),
        Column("debit", "支出金额", ("借方发生额",)),
        Column("counterparty", "对方户名", ("付款人名称", "对方名称")),
        Column("remark", "附言", ("用途", "备注", "交易附言")),
        Column("serial", "交易流水号", ("流水号", "凭证号")),
    ),
)

TITLE_ROWS = [
    ["中国某某银行账户交易明细"],
    ["账号：6222 0000 1111", None, "户名：锦绣花园物业管理处"],
    ["起止日期：2026-11-01 至 2026-11-30"],
]
HEAD = ["记账日期", "贷方发生额(元)", "借方发生额", "对方户名", "交易附言", "流水号"]
LINES = [
    ["2026-11-02", "1,200.00", "", "张三", "5-1-803物业费", "A001"],
    ["2026-11-03", "", "15.00", "", "手续费", "A002"],
    [],
    ["2026-11-05", "300.00", "", "李四", "3栋2单元1502", "A003"],
    ["合计", "1,500.00", "15.00", "", "", ""],
]


def xlsx(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def xls(rows: list[list]) -> bytes:
    book = xlwt.Workbook()
    ws = book.add_sheet("明细")
    dated = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, datetime.date):
                ws.write(r, c, value, dated)
            elif value not in (None, ""):
                ws.write(r, c, value)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_text(rows: list[list], sep: str = ",") -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=sep).writerows(rows)
    return buffer.getvalue()


def money(value: object) -> Decimal | None:
    text = str(value or "").replace(",", "").strip()
    if not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError(f"金额“{value}”不是数字") from None


def read(content: bytes, spec: SheetSpec = STATEMENT, **kw):
    sheet = read_sheets(content)[0]
    layout = make_layout(spec, sheet, **kw)
    errors = []
    stream = RowStream(layout, errors)
    rows = [(row.number, row.parse("credit", money), row.raw("serial")) for row in stream]
    return layout, rows, errors, stream


# --- reading each format -------------------------------------------------------------------------


def test_xlsx_header_found_below_title_and_account_rows_and_totals_skipped():
    layout, rows, errors, stream = read(xlsx([*TITLE_ROWS, HEAD, *LINES]))
    assert layout.header_row == 4
    assert layout.mapping == {
        "date": 1, "credit": 2, "debit": 3, "counterparty": 4, "remark": 5, "serial": 6,
    }  # fmt: skip
    assert [r[0] for r in rows] == [
        5,
        6,
        8,
    ]  # Excel's row numbers; blank row 7 and 合计 row 9 left out
    assert rows[0][1] == Decimal("1200.00")
    assert stream.skipped_totals == [9]
    assert stream.count == 3 and errors == []


def test_gbk_csv_is_read_and_its_encoding_told():
    content = csv_text([*TITLE_ROWS, HEAD, *LINES]).encode("gbk")
    sheet = read_sheets(content)[0]
    assert (sheet.format, sheet.encoding) == (CSV, "gb18030")
    layout, rows, errors, _ = read(content)
    assert layout.header_row == 4
    assert [r[2] for r in rows] == ["A001", "A002", "A003"]
    assert rows[0][1] == Decimal("1200.00")
    assert any("张三" in str(v) for v in sheet.rows[4][1])


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
def test_utf8_csv_with_or_without_bom_and_tab_separated(encoding):
    content = csv_text([*TITLE_ROWS, HEAD, *LINES], sep="\t").encode(encoding)
    sheet = read_sheets(content)[0]
    assert sheet.encoding == encoding
    _, rows, errors, _ = read(content)
    assert [r[1] for r in rows] == [Decimal("1200.00"), None, Decimal("300.00")]


def test_xls_reads_dates_as_dates_and_numbers_as_numbers():
    rows = [*TITLE_ROWS, HEAD, [datetime.date(2026, 11, 2), 1200.5, None, "张三", "物业费", "A001"]]
    sheet = read_sheets(xls(rows))[0]
    assert sheet.format == XLS and sheet.title == "明细"
    number, values = sheet.rows[-1]
    assert number == 5
    assert values[:2] == (datetime.date(2026, 11, 2), 1200.5)
    assert make_layout(STATEMENT, sheet).header_row == 4


def test_format_is_decided_by_content_and_limited_by_the_caller():
    assert check_readable(xlsx([["a"]])) == XLSX
    assert check_readable(xls([["a"]])) == XLS
    assert check_readable("房号,面积\r\n".encode("gbk")) == CSV
    with pytest.raises(ValidationFailed) as refused:
        check_readable("房号,面积\r\n".encode(), (XLSX,), unreadable="只收 .xlsx")
    assert refused.value.message == "只收 .xlsx"
    for junk in (b"PK\x03\x04 not a zip", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1junk", b"\x00\x01\x02"):
        with pytest.raises(ValidationFailed) as exc:
            read_sheets(junk)
        assert exc.value.code == "import.unreadable"


def test_too_many_rows_are_refused_before_parsing():
    content = csv_text([HEAD] + [["2026-11-02", "1", "", "", "", f"S{i}"] for i in range(40)])
    with pytest.raises(ValidationFailed) as exc:
        read_sheets(content.encode(), max_rows=20)
    assert exc.value.code == "import.too_large"
    assert len(read_sheets(content.encode(), max_rows=40)[0].rows) == 41


# --- mapping -------------------------------------------------------------------------------------


def test_the_users_mapping_overrides_detection_and_is_checked():
    sheet = read_sheets(xlsx([*TITLE_ROWS, HEAD, *LINES]))[0]
    layout = make_layout(STATEMENT, sheet, {"date": 1, "credit": 3, "remark": "", "serial": 99})
    assert layout.mapping == {"date": 1, "credit": 3}  # blank and missing columns dropped
    assert mapping_errors(layout) == []
    twice = make_layout(STATEMENT, sheet, {"date": 1, "credit": 2, "debit": 2})
    assert [e.text for e in mapping_errors(twice)] == [
        "「贷方发生额(元)」：同一列不能同时作为「收入金额」和「支出金额」"
    ]
    missing = make_layout(STATEMENT, sheet, {"date": 1})
    assert [e.text for e in mapping_errors(missing)] == [
        "「收入金额」：未找到「收入金额」列，请在“列对应”中指定"
    ]


def test_a_remembered_mapping_by_header_text_finds_unknown_headers_in_the_next_file():
    head = ["日期", "入账", "摘要"]  # no synonym knows these
    first = read_sheets(xlsx([["某银行流水"], head, ["2026-11-02", "10", "x"]]))[0]
    unknown = make_layout(STATEMENT, first)
    assert "credit" not in unknown.mapping
    assert unknown.header_row == 1  # the title row: nothing known; the user picks the header row
    confirmed = make_layout(
        STATEMENT, first, {HEADER_ROW: "2", "date": 1, "credit": 2, "remark": 3}
    )
    assert (confirmed.header_row, confirmed.mapping) == (2, {"date": 1, "credit": 2, "remark": 3})
    assert confirmed.report()["mapping"] == {HEADER_ROW: 2, "date": 1, "credit": 2, "remark": 3}
    kept = mapping_headers(confirmed.mapping, confirmed.headers)
    assert kept == {"date": "日期", "credit": "入账", "remark": "摘要"}
    # next month's export moved the columns and added a title row
    moved = ["摘要", "日期", "入账"]
    second = read_sheets(xlsx([["某银行流水"], ["第2页"], moved, ["x", "2026-12-01", "20"]]))[0]
    layout = make_layout(STATEMENT, second, remembered=kept)
    assert layout.header_row == 3
    assert layout.mapping == {"date": 2, "credit": 3, "remark": 1}


# --- rows ----------------------------------------------------------------------------------------


def test_row_errors_carry_row_number_column_header_and_reason():
    bad = [*TITLE_ROWS, HEAD, ["2026-11-02", "一千", "", "张三", "", "A001"], *LINES[:1]]
    _, rows, errors, stream = read(xlsx(bad))
    assert [e.text for e in errors] == ["第5行「贷方发生额(元)」：金额“一千”不是数字"]
    assert errors[0].as_dict()["row"] == 5
    preview = stream.preview()
    assert preview["columns"][:2] == ["交易日期", "收入金额"]
    assert [(r["row"], r["ok"]) for r in preview["rows"]] == [(5, False), (6, True)]


def test_totals_rows_are_kept_when_the_caller_says_so():
    sheet = read_sheets(xlsx([HEAD, *LINES]))[0]
    layout = make_layout(STATEMENT, sheet)
    assert [r.number for r in RowStream(layout, [], totals=None)] == [2, 3, 5, 6]
    assert [r.number for r in RowStream(layout, [])] == [2, 3, 5]


# --- the batch: preview, remap, all-or-nothing commit ---------------------------------------------
# The flow is generic; registry.ImportBatch is the concrete batch model at hand.


@pytest.fixture
def batch_of(project):
    from wuye.registry.models import ImportBatch

    def make(content: bytes) -> ImportBatch:
        return batch_new(
            ImportBatch, user=None, filename="流水.csv", content=content, project=project
        )

    return make


def analyse_statement(batch):
    sheet = read_sheets(bytes(batch.content))[0]
    layout = make_layout(STATEMENT, sheet, (batch.mapping or {}).get(sheet.title))
    errors = mapping_errors(layout)
    amounts = []
    if not errors:
        for row in RowStream(layout, errors):
            amounts.append(row.parse("credit", money))
    report = {
        "sheets": [layout.report()],
        "errors": [e.as_dict() for e in errors],
        "error_count": len(errors),
    }
    return Analysis(report, amounts if not errors else None)


def test_batch_preview_keeps_report_and_mapping_and_remap_fixes_it(batch_of, project):
    content = csv_text([["日期", "入账"], ["2026-11-02", "10"]]).encode()
    batch = batch_preview(batch_of(content), analyse_statement, same_file={"project": project})
    assert batch.pk and batch.status == ImportStatus.PREVIEWED
    assert batch.report["error_count"] == 2 and batch.report["same_file_committed"] is None
    with pytest.raises(ValidationFailed, match="还有错误"):
        batch_commit(batch, analyse=analyse_statement, apply=lambda b, plan: None)
    batch = batch_remap(batch, {"CSV": {"date": 1, "credit": 2}}, analyse_statement)
    assert batch.report["error_count"] == 0
    assert batch.mapping == {"CSV": {"date": 1, "credit": 2}}


def test_batch_commit_applies_once_and_a_database_refusal_writes_nothing(batch_of, project):
    content = csv_text([HEAD, *LINES]).encode("gbk")
    applied = []

    def apply(batch, plan):
        applied.append(plan)

    batch = batch_preview(batch_of(content), analyse_statement, same_file={"project": project})
    batch = batch_commit(batch, analyse=analyse_statement, apply=apply)
    assert batch.status == ImportStatus.COMMITTED and batch.committed_at
    assert applied == [[Decimal("1200.00"), None, Decimal("300.00")]]
    with pytest.raises(ValidationFailed, match="不能重复导入"):
        batch_commit(batch, analyse=analyse_statement, apply=apply)
    again = batch_preview(batch_of(content), analyse_statement, same_file={"project": project})
    assert again.report["same_file_committed"]["id"] == batch.pk

    def refuse(batch, plan):
        Company.objects.create(name="写了一半")
        raise IntegrityError("duplicate key")

    failed = batch_commit(again, analyse=analyse_statement, apply=refuse)
    assert failed.status == ImportStatus.FAILED
    assert "未写入任何数据" in failed.report["errors"][0]["text"]
    assert not Company.objects.filter(name="写了一半").exists()


def test_batch_commit_fails_whole_when_the_file_no_longer_fits(batch_of):
    content = csv_text([HEAD, *LINES]).encode()
    batch = batch_preview(batch_of(content), analyse_statement)
    assert "same_file_committed" not in batch.report

    def analyse_now(batch):  # the data changed since the preview
        analysis = analyse_statement(batch)
        analysis.report["errors"] = [{"text": "第2行：房号已不存在"}]
        analysis.report["error_count"] = 1
        return analysis

    batch = batch_commit(batch, analyse=analyse_now, apply=lambda b, plan: pytest.fail("wrote"))
    assert batch.status == ImportStatus.FAILED
    assert batch.report["errors"] == [{"text": "第2行：房号已不存在"}]


def test_the_reading_bounds_hold_for_csv_and_xls_too(settings):
    settings.WUYE_IMPORT_MAX_COLUMNS = 10
    wide = csv_text([HEAD, ["2026-11-02", "1", *[""] * 20, "x"]]).encode()
    with pytest.raises(ValidationFailed) as exc:
        read_sheets(wide)
    assert exc.value.code == "import.too_wide" and "第2行超过 10 列" in exc.value.message
    padded = csv_text([HEAD, ["2026-11-02", "1", *[""] * 20]]).encode()
    assert read_sheets(padded)[0].rows[1][1] == ("2026-11-02", "1")
    settings.WUYE_IMPORT_MAX_ROWS, settings.WUYE_IMPORT_BLANK_ROWS = 5, 5
    blank = [HEAD, *[[None] for _ in range(30)], ["2026-11-02", "1"]]
    for content in (csv_text(blank).encode("gbk"), xls(blank)):
        with pytest.raises(ValidationFailed) as exc:
            read_sheets(content)
        assert "空行也计算在内" in exc.value.message
