"""Reading a bank statement into ``ParsedLine``s, on the project's import machinery (core.importing).

Chinese banks' web banking exports .xlsx, .xls or .csv (GBK or UTF-8) with a title, account-information
rows (账号、户名、起止日期) above the header, columns named differently per bank, and totals rows
(合计/本页小计) at the end. The machinery reads the file, finds the header row with the synonyms below,
lets finance confirm or correct the mapping in the preview and records row errors; this module brings
the bank's columns, its cell parsers and the receiving account named in the header rows. MT940 files
are read with the ``mt940`` package (no mapping to confirm).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import mt940
from django.conf import settings

from wuye.banking.enums import Direction
from wuye.banking.lines import ParsedLine
from wuye.core.errors import ValidationFailed
from wuye.core.importing import (
    ALL_FORMATS,
    Column,
    Layout,
    RowError,
    RowStream,
    Sheet,
    SheetSpec,
    cell_text,
    halfwidth,
    make_layout,
    mapping_errors,
    read_sheets,
)

MT940 = "mt940"
SEARCH_ROWS = 25  # banks put up to a dozen title and account rows above the header
UNREADABLE = "无法读取流水文件：请上传网银导出的 .xlsx、.xls、.csv 或 MT940 文件"
TOTALS = re.compile(r"^(合计|总计|小计|本页合计|本页小计|本期合计|累计|共\s*\d+\s*笔)")
BALANCE_ROWS = re.compile(r"(期初余额|期末余额|上页结转|承前页|过次页)")

STATEMENT = SheetSpec(
    "statement",
    "银行流水",
    (
        Column("date", "交易日期", ("记账日期", "交易日", "入账日期", "日期", "记账日")),
        Column("time", "交易时间", ("时间", "记账时间", "交易时刻")),
        Column(
            "credit",
            "收入金额",
            (
                "贷方发生额",
                "贷方金额",
                "收入",
                "贷方",
                "存入金额",
                "收款金额",
                "转入金额",
                "贷方发生额（收入）",
            ),
        ),
        Column(
            "debit",
            "支出金额",
            ("借方发生额", "借方金额", "支出", "借方", "取出金额", "付款金额", "转出金额"),
        ),
        Column("amount", "交易金额", ("金额", "发生额")),
        Column("flag", "借贷标志", ("收支方向", "借贷方向", "借贷", "收/支", "收支")),
        Column(
            "name",
            "对方户名",
            (
                "付款人名称",
                "对方名称",
                "对方账户名称",
                "对方账户名",
                "付款人",
                "对方单位",
                "对方户名称",
            ),
        ),
        Column(
            "account", "对方账号", ("付款人账号", "对方账户", "付款账号", "对方卡号", "付款人账户")
        ),
        Column("summary", "摘要", ("交易摘要", "交易类型", "业务摘要")),
        Column("remark", "附言", ("用途", "备注", "交易附言", "附加信息", "交易用途", "汇款附言")),
        Column(
            "serial",
            "交易流水号",
            ("流水号", "凭证号", "交易流水", "交易参考号", "流水号码", "凭证号码", "交易序号"),
        ),
        Column("balance", "余额", ("账户余额", "交易后余额", "当前余额")),
    ),
)

_ACCOUNT = re.compile(
    r"(?<!对方)(?:本方账号|账号|帐号|账户|卡号)\s*[:：]?\s*([0-9][0-9\s\-]{7,}[0-9])"
)
_HOLDER = re.compile(r"(?<!对方)(?:户名|账户名称|单位名称)\s*[:：]\s*([^\s,，:：]{2,50})")
_BANK = re.compile(r"(?:开户行|开户银行)\s*[:：]\s*([^\s,，]{2,50})")


@dataclass
class Parsed:
    """What a statement file holds: its lines, the receiving account named in its header rows, the
    layout used (for the preview's mapping form), errors and counts."""

    format: str
    lines: list[ParsedLine] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    account_number: str = ""
    account_name: str = ""
    bank: str = ""
    layout: Layout | None = None
    preview: dict[str, Any] | None = None
    skipped_totals: int = 0

    def report(self) -> dict[str, Any]:
        incoming = [x for x in self.lines if x.incoming]
        return {
            "format": self.format,
            "account_number": self.account_number,
            "account_name": self.account_name,
            "bank": self.bank,
            "sheets": [self.layout.report()] if self.layout else [],
            "preview": [self.preview] if self.preview else [],
            "errors": [e.as_dict() for e in self.errors],
            "error_count": len(self.errors),
            "data_rows": len(self.lines),
            "counts": {
                "incoming": len(incoming),
                "incoming_amount": str(sum((x.amount for x in incoming), Decimal("0.00"))),
                "outgoing": len(self.lines) - len(incoming),
                "totals_skipped": self.skipped_totals,
            },
        }


# --- cells -----------------------------------------------------------------------------------------

_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d", "%Y年%m月%d日")
_TIME_FORMATS = ("%H:%M:%S", "%H:%M", "%H%M%S")


def parse_when(value: object) -> tuple[datetime.date, datetime.time | None]:
    """A date cell, possibly with its time: ``2025-12-01``, ``2025/12/1 10:22:33``, ``20251201``,
    ``2025年12月1日``, or a date/datetime from the workbook."""
    if isinstance(value, datetime.datetime):
        return value.date(), (value.time() if value.time() != datetime.time() else None)
    if isinstance(value, datetime.date):
        return value, None
    text = halfwidth(cell_text(value))
    if not text:
        raise ValueError("交易日期为空")
    date_part, _, time_part = text.partition(" ")
    if "T" in date_part and not time_part:
        date_part, _, time_part = date_part.partition("T")
    for fmt in _DATE_FORMATS:
        try:
            day = datetime.datetime.strptime(date_part, fmt).date()  # noqa: DTZ007 - a calendar date
        except ValueError:
            continue
        return day, (parse_time(time_part) if time_part.strip() else None)
    raise ValueError(f"无法识别的日期“{text}”，应为 2025-12-01 这样的格式")


def parse_time(value: object) -> datetime.time | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        return value.time()
    if isinstance(value, datetime.time):
        return value
    text = halfwidth(cell_text(value))
    if " " in text:  # a full date and time in the time column
        text = text.rsplit(" ", 1)[1]
    text = text.split(".")[0]
    for fmt in _TIME_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt).time()  # noqa: DTZ007 - a time of day
        except ValueError:
            continue
    raise ValueError(f"无法识别的时间“{text}”，应为 10:22:33 这样的格式")


def parse_money(value: object) -> Decimal | None:
    """``1,200.00``, ``¥1200``, ``1200元``, ``-50.00`` or a number cell; blank and ``-`` are None."""
    if value is None:
        return None
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        amount = Decimal(str(value))
    else:
        text = halfwidth(cell_text(value)).replace(",", "").replace("¥", "").replace("￥", "")
        text = text.replace("元", "").replace("RMB", "").replace("CNY", "").strip()
        if text in ("", "-", "--"):
            return None
        try:
            amount = Decimal(text)
        except InvalidOperation as exc:
            raise ValueError(f"“{cell_text(value)}”不是有效的金额") from exc
    if not amount.is_finite():
        raise ValueError(f"“{cell_text(value)}”不是有效的金额")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError(f"金额“{cell_text(value)}”超过两位小数")
    return amount.quantize(Decimal("0.01"))


def _text(value: object) -> str:
    return re.sub(r"\s+", " ", halfwidth(cell_text(value))).strip()


def _direction_flag(value: object) -> str | None:
    text = _text(value).upper()
    if not text:
        return None
    if text[0] in "贷收入C" or text in ("CR", "CREDIT"):
        return Direction.IN
    if text[0] in "借支出D" or text in ("DR", "DEBIT"):
        return Direction.OUT
    raise ValueError(f"无法识别的借贷标志“{text}”，应为 借/贷 或 收/支")


# --- spreadsheets ----------------------------------------------------------------------------------


def _header_facts(sheet: Sheet, header_row: int) -> tuple[str, str, str]:
    """The receiving account, its holder and the bank, from the rows above the header."""
    number = holder = bank = ""
    for row_no, values in sheet.rows[:SEARCH_ROWS]:
        if row_no >= header_row:
            break
        text = halfwidth(" ".join(cell_text(v) for v in values if cell_text(v)))
        if not number and (m := _ACCOUNT.search(text)):
            number = re.sub(r"[\s\-]", "", m.group(1))
        if not holder and (m := _HOLDER.search(text)):
            holder = m.group(1)
        if not bank and (m := _BANK.search(text)):
            bank = m.group(1)
    return number, holder, bank


def _layout_errors(layout: Layout) -> list[RowError]:
    errors = mapping_errors(layout)
    cols = layout.mapping
    if "date" not in cols and "time" not in cols:
        errors.append(RowError("", None, "交易日期", "未找到「交易日期」列，请在“列对应”中指定"))
    if not ({"credit", "debit"} & set(cols)) and "amount" not in cols:
        errors.append(
            RowError("", None, "收入金额", "未找到「收入金额」或「交易金额」列，请在“列对应”中指定")
        )
    return errors


def _row_line(row) -> ParsedLine | None:
    when_key = "date" if row.has("date") else "time"
    when = row.parse(when_key, parse_when, lambda v: v[0].isoformat())
    time = row.parse("time", parse_time) if row.has("time") and when_key == "date" else None
    credit = row.parse("credit", parse_money) if row.has("credit") else None
    debit = row.parse("debit", parse_money) if row.has("debit") else None
    amount = row.parse("amount", parse_money) if row.has("amount") else None
    flag = row.parse("flag", _direction_flag) if row.has("flag") else None
    name = _text(row.raw("name"))
    remark = _text(row.raw("remark"))
    summary = _text(row.raw("summary"))
    serial = _text(row.raw("serial"))
    for key, value in (("name", name), ("account", _text(row.raw("account")))):
        row.display[key] = value
    row.display.update(remark=remark, summary=summary, serial=serial)
    balance = row.parse("balance", parse_money) if row.has("balance") else None
    if not row.ok or when is None:
        return None
    credit = credit or Decimal("0.00")
    debit = debit or Decimal("0.00")
    if credit < 0:  # a reversal shown as a negative credit
        credit, debit = Decimal("0.00"), debit - credit
    if debit < 0:
        debit, credit = Decimal("0.00"), credit - debit
    if credit > 0 and debit > 0:
        row.fail("credit", f"同一行既有收入 {credit} 又有支出 {debit}")
        return None
    if credit > 0:
        direction, value = Direction.IN, credit
    elif debit > 0:
        direction, value = Direction.OUT, debit
    elif amount:
        direction = flag or (Direction.IN if amount > 0 else Direction.OUT)
        value = abs(amount)
    else:
        if BALANCE_ROWS.search(f"{summary} {remark} {row.first_text()}"):
            return None  # 期初余额 / 上页结转: not a transaction
        row.fail("credit" if row.has("credit") else "amount", "收入和支出金额都为空")
        return None
    day, embedded_time = when
    return ParsedLine(
        row_no=row.number,
        direction=direction,
        txn_date=day,
        txn_time=time or embedded_time,
        amount=value,
        serial=serial[:64],
        counterparty_name=name[:100],
        counterparty_account=re.sub(r"[^0-9A-Za-z]", "", _text(row.raw("account")))[:40],
        summary=summary[:100],
        remark=remark[:200],
        balance=balance,
    )


def parse_table(
    content: bytes,
    *,
    wanted: dict[str, object] | None = None,
    remembered: dict[str, str] | None = None,
    max_rows: int | None = None,
) -> Parsed:
    """A spreadsheet statement: the sheet whose header names the most bank columns, its lines."""
    sheets = read_sheets(content, ALL_FORMATS, max_rows=max_rows, unreadable=UNREADABLE)
    best: Layout | None = None
    for sheet in sheets:
        layout = make_layout(
            STATEMENT, sheet, wanted, search_rows=SEARCH_ROWS, remembered=remembered
        )
        if best is None or len(layout.mapping) > len(best.mapping):
            best = layout
    if best is None:
        raise ValidationFailed("流水文件中没有数据", field="file")
    fmt = best.sheet.format
    # Above the header; anywhere near the top when no header was recognised yet.
    top = best.header_row if best.mapping else SEARCH_ROWS + 1
    number, holder, bank = _header_facts(best.sheet, top)
    parsed = Parsed(fmt, account_number=number, account_name=holder, bank=bank, layout=best)
    parsed.errors = _layout_errors(best)
    if parsed.errors:
        return parsed
    stream = RowStream(best, parsed.errors, totals=TOTALS)
    for row in stream:
        line = _row_line(row)
        if line is not None:
            parsed.lines.append(line)
    parsed.skipped_totals = len(stream.skipped_totals)
    parsed.preview = stream.preview()
    return parsed


# --- MT940 -----------------------------------------------------------------------------------------


def looks_like_mt940(content: bytes) -> bool:
    head = content[:2000].lstrip()
    return head.startswith((b":20:", b"{1:", b":940:")) or (b"\n:61:" in content[:20000])


_MT_TAGS = re.compile(r"/(NAME|ORDP|ACNO|REMI|BENM|ORDR)/([^/]*)")
_MT_GERMAN = re.compile(r"\?(\d\d)([^?]*)")


def _mt940_details(details: str) -> tuple[str, str, str]:
    """(name, account, remark) from an :86: field: SWIFT ``/NAME/…/REMI/…`` or the German ``?20…?32``
    subfields; otherwise the whole text is the remark."""
    details = (details or "").replace("\n", "")
    tags = dict(_MT_TAGS.findall(details))
    if tags:
        return (
            (tags.get("NAME") or tags.get("ORDP") or tags.get("BENM") or "").strip(),
            (tags.get("ACNO") or "").strip(),
            (tags.get("REMI") or "").strip(),
        )
    fields = _MT_GERMAN.findall(details)
    if fields:
        by = {}
        for code, text in fields:
            by.setdefault(int(code), []).append(text)
        remark = "".join(t for c in range(20, 30) for t in by.get(c, []))
        name = "".join(by.get(32, []) + by.get(33, []))
        account = "".join(by.get(31, []))
        return name.strip(), account.strip(), remark.strip()
    return "", "", details.strip()


def parse_mt940(content: bytes, *, max_rows: int | None = None) -> Parsed:
    """An MT940 statement. Refused (``import.too_large``) with more transactions (``:61:`` fields)
    than ``max_rows`` (default ``settings.WUYE_IMPORT_MAX_ROWS``, as for a spreadsheet), counted
    before the file is parsed."""
    limit = settings.WUYE_IMPORT_MAX_ROWS if max_rows is None else max_rows
    if content.count(b"\n:61:") > limit:
        raise ValidationFailed(
            f"MT940 文件超过 {limit} 笔交易，请按日期拆分后分批导入",
            code="import.too_large",
            field="file",
        )
    decoded = None
    for encoding in ("utf-8", "gb18030", "latin-1"):
        try:
            decoded = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    transactions = mt940.models.Transactions()
    try:
        transactions.parse(decoded or "")
    except Exception as exc:  # noqa: BLE001 - the library raises many kinds; all mean unreadable
        raise ValidationFailed(f"无法读取 MT940 文件：{exc}", field="file") from exc
    account = str(transactions.data.get("account_identification") or "")
    parsed = Parsed(MT940, account_number=re.sub(r"[^0-9]", "", account.split("/")[-1]))
    rows = []
    for n, tx in enumerate(transactions, start=1):
        data = tx.data
        amount = Decimal(str(data["amount"].amount)).quantize(Decimal("0.01"))
        status = str(data.get("status") or "")
        incoming = (
            status.endswith("C")
            and not status.startswith("R")
            or (
                status == "RD"  # reversal of a debit: money back in
            )
        )
        name, acno, remark = _mt940_details(str(data.get("transaction_details") or ""))
        day = data.get("date")
        line = ParsedLine(
            row_no=n,
            direction=Direction.IN if incoming else Direction.OUT,
            txn_date=datetime.date(day.year, day.month, day.day),
            amount=abs(amount),
            serial=str(data.get("bank_reference") or "").strip()[:64],
            counterparty_name=name[:100],
            counterparty_account=re.sub(r"[^0-9A-Za-z]", "", acno)[:40],
            summary=str(data.get("id") or "")[:100],
            remark=remark[:200],
        )
        parsed.lines.append(line)
        if len(rows) < 20:
            rows.append(
                {
                    "row": n,
                    "ok": True,
                    "cells": [
                        line.txn_date.isoformat(),
                        str(line.amount) if incoming else "",
                        "" if incoming else str(line.amount),
                        line.counterparty_name,
                        line.remark,
                        line.serial,
                    ],
                }
            )
    parsed.preview = {
        "title": "MT940",
        "columns": ["交易日期", "收入金额", "支出金额", "对方户名", "附言", "交易流水号"],
        "rows": rows,
    }
    return parsed


def parse_statement(
    content: bytes,
    *,
    wanted: dict[str, object] | None = None,
    remembered: dict[str, str] | None = None,
    max_rows: int | None = None,
) -> Parsed:
    """Any statement file: MT940 by its content, else a spreadsheet."""
    if looks_like_mt940(content):
        return parse_mt940(content, max_rows=max_rows)
    return parse_table(content, wanted=wanted, remembered=remembered, max_rows=max_rows)
