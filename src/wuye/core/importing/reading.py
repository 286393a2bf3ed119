"""Reading an uploaded table: .xlsx (openpyxl), .xls (xlrd) or .csv (UTF-8 or GBK, detected).

``read_sheets`` gives every non-blank row of every sheet with its row number as the user sees it in
Excel (for a CSV file: its record number). Cell values are as the file holds them: numbers, dates and
text from a workbook, text from a CSV. Nothing is interpreted here; header detection and the meaning
of columns are the business of ``headers`` and of the caller.

Whatever the file claims, reading is bounded (settings ``WUYE_IMPORT_*``): the unpacked size and the
number of parts of an .xlsx before openpyxl opens it (a few hundred KB can unpack to gigabytes), the
rows read per sheet with blank ones counted, the columns (an empty padding cell far right is dropped, a
value there refused), and the seconds spent reading.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
import time
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import openpyxl
from django.conf import settings

from wuye.core.errors import ValidationFailed
from wuye.core.importing.cells import cell_text

XLSX, XLS, CSV = "xlsx", "xls", "csv"
ALL_FORMATS = (XLSX, XLS, CSV)
HEADER_SEARCH_ROWS = 10  # rows above the data a reader keeps beyond the row limit (titles, header)

UNREADABLE = "无法读取文件：请上传 .xlsx、.xls 或 .csv 文件"

_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass
class Sheet:
    title: str
    # (row number as Excel shows it, cell values); blank rows are left out
    rows: list[tuple[int, tuple[object, ...]]]
    format: str = XLSX
    encoding: str | None = None  # for CSV: the encoding the text was read with


def sniff_format(content: bytes, formats: Sequence[str] = ALL_FORMATS) -> str | None:
    """The format the bytes are in, among ``formats``; None when they are in none of them.

    Decided by content, never by the file name: a .csv renamed .xlsx is read as what it is.
    """
    if content.startswith(_ZIP):
        return XLSX if XLSX in formats else None
    if content.startswith(_OLE):
        return XLS if XLS in formats else None
    if CSV in formats and content and decode_text(content) is not None:
        return CSV
    return None


def decode_text(content: bytes) -> tuple[str, str] | None:
    """(text, encoding) of a text file: a BOM decides; else strict UTF-8; else GB18030 (a superset of
    GBK and GB2312, which Chinese banks and Excel on Chinese Windows write). None for binary data."""
    if b"\x00" in content[:4096] and not content.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None
    for bom, encoding in (
        (b"\xef\xbb\xbf", "utf-8-sig"),
        (b"\xff\xfe", "utf-16"),
        (b"\xfe\xff", "utf-16"),
    ):
        if content.startswith(bom):
            try:
                return content.decode(encoding), encoding
            except UnicodeDecodeError:
                return None
    for encoding in ("utf-8", "gb18030"):
        try:
            return content.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return None


def check_readable(
    content: bytes, formats: Sequence[str] = ALL_FORMATS, *, unreadable: str = UNREADABLE
) -> str:
    """The file's format; raises ``ValidationFailed`` (``import.unreadable``) when it cannot be read.

    Call it before keeping an upload, so that an unreadable file is refused at the form.
    """
    kind = sniff_format(content, formats)
    if kind is None:
        raise ValidationFailed(unreadable, code="import.unreadable")
    if kind == XLSX:
        _open_xlsx(content, unreadable).close()
    elif kind == XLS:
        _open_xls(content, unreadable)
    return kind


def read_sheets(
    content: bytes,
    formats: Sequence[str] = ALL_FORMATS,
    *,
    max_rows: int | None = None,
    unreadable: str = UNREADABLE,
) -> list[Sheet]:
    """Every sheet of the file with its non-blank rows.

    Refuses (``import.too_large``) a sheet with more than ``max_rows`` non-blank rows
    (default ``settings.WUYE_IMPORT_MAX_ROWS``) plus a few for titles and the header.
    """
    limit = settings.WUYE_IMPORT_MAX_ROWS if max_rows is None else max_rows
    kind = check_readable(content, formats, unreadable=unreadable)
    if kind == XLSX:
        return _read_xlsx(content, limit, unreadable)
    if kind == XLS:
        return _read_xls(content, limit, unreadable)
    return [_read_csv(content, limit)]


def _kept_rows(
    title: str, numbered: Iterable[tuple[int, Sequence[object]]], limit: int, deadline: float
) -> list[tuple[int, tuple[object, ...]]]:
    """The non-blank rows, reading at most a bounded number of rows (blank ones count too: a sheet
    of a million empty rows is refused at once), columns and seconds."""
    max_read = limit + HEADER_SEARCH_ROWS + settings.WUYE_IMPORT_BLANK_ROWS
    max_cols = settings.WUYE_IMPORT_MAX_COLUMNS
    rows = []
    for number, values in numbered:
        if number > max_read:
            raise ValidationFailed(
                f"「{title}」超过 {max_read} 行（空行也计算在内），"
                "请删除表格末尾多余的空行，或拆分后分批导入",
                code="import.too_large",
            )
        if number % 256 == 0 and time.monotonic() > deadline:
            raise ValidationFailed(
                f"读取文件超过 {settings.WUYE_IMPORT_MAX_SECONDS} 秒仍未读完，已停止；"
                "请删除多余的空行、空列和工作表，或拆分后分批导入",
                code="import.too_slow",
            )
        if len(values) > max_cols:
            # An empty cell far right (a styled one) pads the row; a value there is refused.
            # ``count`` keeps the look at the padding at C speed.
            beyond = tuple(values[max_cols:])
            if beyond.count(None) != len(beyond) and any(cell_text(v) for v in beyond):
                raise ValidationFailed(
                    f"「{title}」第{number}行超过 {max_cols} 列，请删除多余的列后再导入",
                    code="import.too_wide",
                )
            values = values[:max_cols]
            end = len(values)
            while end and values[end - 1] is None:
                end -= 1
            values = values[:end]
        if any(cell_text(v) for v in values):
            rows.append((number, tuple(values)))
            if len(rows) > limit + HEADER_SEARCH_ROWS:
                raise ValidationFailed(
                    f"「{title}」超过 {limit} 行，请拆分后分批导入", code="import.too_large"
                )
    return rows


def _deadline() -> float:
    return time.monotonic() + settings.WUYE_IMPORT_MAX_SECONDS


# --- .xlsx ---------------------------------------------------------------------------------------


def _check_unpacked_size(content: bytes, unreadable: str) -> None:
    """Refuses a workbook that unpacks to more than an import may read, before openpyxl opens it.

    An .xlsx is a zip: a few hundred KB can unpack to gigabytes of XML. The sizes come from the zip's
    directory; ``zipfile`` never inflates a member past the size it declares (a member that lies
    fails its CRC), so what openpyxl reads is bounded by the sum checked here.
    """
    try:
        members = zipfile.ZipFile(io.BytesIO(content)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ValidationFailed(unreadable, code="import.unreadable") from exc
    limit = settings.WUYE_IMPORT_MAX_UNPACKED_BYTES
    if len(members) > settings.WUYE_IMPORT_MAX_PARTS or (sum(m.file_size for m in members) > limit):
        raise ValidationFailed(
            f"文件解压后超过 {limit // (1024 * 1024)} MB（或内部文件过多），不像正常的数据表；"
            "请删除多余的空行、空列和工作表，或拆分后分批导入",
            code="import.too_large",
        )


_SHEET_PART = re.compile(r"xl/worksheets/[^/]+\.xml")
_DIMENSION = re.compile(rb"<(\w+:)?dimension\b")
_SHEET_DATA = re.compile(rb"<(\w+:)?sheetData\b")


def _declare_sheet_sizes(content: bytes) -> bytes:
    """``content`` with a size record (``<dimension>``) in every sheet that lacks one.

    Opening a sheet without it, openpyxl reads the whole sheet XML to look for it before the first
    row is read or counted (100 MB of blank rows: half a minute). openpyxl's own streamed files have
    none; Excel, WPS and LibreOffice write one. The rows are read with the size reset anyway, so the
    record says ``A1``. The file is rewritten (uncompressed, at most the checked unpacked size) only
    when a sheet needs it.
    """
    archive = zipfile.ZipFile(io.BytesIO(content))
    lacking = []
    for member in archive.infolist():
        if _SHEET_PART.fullmatch(member.filename):
            with archive.open(member) as part:
                head = part.read(64 * 1024)
            dimension, data = _DIMENSION.search(head), _SHEET_DATA.search(head)
            if dimension is None or (data is not None and data.start() < dimension.start()):
                lacking.append(member.filename)
    if not lacking:
        return content
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as rebuilt:
        for member in archive.infolist():
            data = archive.read(member)
            if member.filename in lacking and (found := _SHEET_DATA.search(data)):
                prefix = found.group(1) or b""
                record = b"<" + prefix + b'dimension ref="A1"/>'
                data = data[: found.start()] + record + data[found.start() :]
            rebuilt.writestr(member.filename, data)
    return out.getvalue()


def _open_xlsx(content: bytes, unreadable: str):
    _check_unpacked_size(content, unreadable)
    try:
        content = _declare_sheet_sizes(content)
        return openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises a zoo of types for files that are not .xlsx
        raise ValidationFailed(unreadable, code="import.unreadable") from exc


def _read_xlsx(content: bytes, limit: int, unreadable: str) -> list[Sheet]:
    book = _open_xlsx(content, unreadable)
    deadline = _deadline()
    sheets = []
    try:
        for ws in book.worksheets:
            # Some exporters write a wrong sheet size; forgetting it makes openpyxl read every row.
            ws.reset_dimensions()
            numbered = enumerate(ws.iter_rows(values_only=True), start=1)
            sheets.append(
                Sheet(ws.title.strip(), _kept_rows(ws.title, numbered, limit, deadline), XLSX)
            )
    finally:
        book.close()
    return sheets


# --- .xls ----------------------------------------------------------------------------------------


def _open_xls(content: bytes, unreadable: str):
    import xlrd

    try:
        return xlrd.open_workbook(file_contents=content, on_demand=True)
    except Exception as exc:  # xlrd.XLRDError, struct errors, CompDocError …
        raise ValidationFailed(unreadable, code="import.unreadable") from exc


def _xls_values(book, ws, r: int) -> Iterator[object]:
    import xlrd

    for cell in ws.row(r):
        if cell.ctype == xlrd.XL_CELL_EMPTY or cell.ctype == xlrd.XL_CELL_BLANK:
            yield None
        elif cell.ctype == xlrd.XL_CELL_DATE:
            try:
                moment = xlrd.xldate_as_datetime(cell.value, book.datemode)
            except (ValueError, OverflowError, xlrd.xldate.XLDateError):
                yield cell.value
                continue
            is_date = moment.time() == datetime.time(0) and float(cell.value).is_integer()
            yield moment.date() if is_date else moment
        elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
            yield bool(cell.value)
        elif cell.ctype == xlrd.XL_CELL_ERROR:
            yield None
        else:
            yield cell.value


def _read_xls(content: bytes, limit: int, unreadable: str) -> list[Sheet]:
    book = _open_xls(content, unreadable)
    deadline = _deadline()
    sheets = []
    try:
        for index in range(book.nsheets):
            ws = book.sheet_by_index(index)
            numbered = ((r + 1, tuple(_xls_values(book, ws, r))) for r in range(ws.nrows))
            sheets.append(
                Sheet(ws.name.strip(), _kept_rows(ws.name, numbered, limit, deadline), XLS)
            )
            book.unload_sheet(index)
    finally:
        book.release_resources()
    return sheets


# --- .csv ----------------------------------------------------------------------------------------


def _read_csv(content: bytes, limit: int) -> Sheet:
    decoded = decode_text(content)
    if decoded is None:  # sniff_format checked it; kept for type checkers
        raise ValidationFailed(UNREADABLE, code="import.unreadable")
    text, encoding = decoded
    head = text[:65536]
    delimiter = "\t" if head.count("\t") > head.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    numbered = ((n, [v if v.strip() else None for v in rec]) for n, rec in enumerate(reader, 1))
    try:
        rows = _kept_rows("CSV", numbered, limit, _deadline())
    except csv.Error as exc:
        raise ValidationFailed(f"CSV 文件格式有误：{exc}", code="import.unreadable") from exc
    return Sheet("CSV", rows, CSV, encoding)
