"""对账单 as an Excel workbook (openpyxl): the filters in the header rows, Chinese column names, money
as numbers with two decimals (so finance can sum them), the same figures as the page and the PDF."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from wuye.core import xlsx
from wuye.ledger.selectors.statement import Statement

MONEY_FORMAT = "#,##0.00"
KIND_LABELS = {
    "bill": "账单",
    "adjustment": "减免/冲红",
    "payment": "收款",
    "reversal": "收款冲红",
    "prepaid": "预存款抵扣",
    "refund": "退款",
}
COLUMNS = [
    ("日期", 12),
    ("类型", 11),
    ("摘要", 46),
    ("应收（元）", 13),
    ("已收/减免（元）", 15),
    ("欠费余额（元）", 14),
    ("预存款变动（元）", 15),
    ("预存款余额（元）", 15),
]


@dataclass(frozen=True)
class StatementHeader:
    company: str
    project: str
    room_code: str
    payer: str


def statement_xlsx(statement: Statement, header: StatementHeader) -> bytes:
    wb = xlsx.workbook(write_only=False)
    ws = wb.active
    ws.title = "对账单"
    bold = Font(bold=True)
    ws.append([f"{header.company} 对账单"])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(["项目", header.project, "房号", header.room_code, "缴费人", header.payer])
    ws.append(
        [
            "期间",
            f"{statement.date_from:%Y-%m-%d} 至 {statement.date_to:%Y-%m-%d}",
            "导出时间",
            f"{timezone.localtime():%Y-%m-%d %H:%M}",
        ],
    )
    ws.append([])
    ws.append([name for name, _ in COLUMNS])
    head_row = ws.max_row
    fill = PatternFill("solid", fgColor="EEF2F6")
    for cell in ws[head_row]:
        cell.font = bold
        cell.fill = fill
        cell.alignment = Alignment(horizontal="center")
    ws.append(
        [
            statement.date_from,
            "",
            "期初余额",
            None,
            None,
            statement.opening_balance,
            None,
            statement.opening_prepaid,
        ],
    )
    for line in statement.lines:
        ws.append(
            [
                line.date,
                KIND_LABELS.get(line.kind, line.kind),
                line.text,
                line.charge or None,
                line.credit or None,
                line.balance,
                line.prepaid_change or None,
                line.prepaid_balance,
            ],
        )
    ws.append(
        [
            None,
            "",
            "本期合计",
            statement.total_charged,
            statement.total_credited,
            None,
            None,
            None,
        ],
    )
    ws.append(
        [
            statement.date_to,
            "",
            "期末余额",
            None,
            None,
            statement.closing_balance,
            None,
            statement.closing_prepaid,
        ],
    )
    for row in ws.iter_rows(min_row=head_row + 1, max_row=ws.max_row):
        row[0].number_format = "yyyy-mm-dd"
        for cell in row[3:]:
            cell.number_format = MONEY_FORMAT
    for row in (ws.max_row - 1, ws.max_row):
        for cell in ws[row]:
            cell.font = bold
    for index, (_, width) in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = ws.cell(row=head_row + 1, column=1)
    return xlsx.save(wb)
