"""An import reads a bounded amount whatever the file claims: unpacked bytes, rows (blank ones too),
columns and seconds. The files are built here: a few hundred KB that unpack to far more."""

import io
import time
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from wuye.core.errors import ValidationFailed
from wuye.registry import import_parsing
from wuye.registry.importing import import_preview
from wuye.registry.models import ImportBatch

SHEET = "xl/worksheets/sheet1.xml"
HEAD = '<row r="1"><c r="A1" t="inlineStr"><is><t>房号</t></is></c></row>'


def xlsx_with_sheet(sheet_data_chunks) -> bytes:
    """A valid workbook whose first sheet's <sheetData> is streamed from ``sheet_data_chunks``."""
    book = openpyxl.Workbook()
    book.active.append(["房号"])
    plain = io.BytesIO()
    book.save(plain)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(plain) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst,
    ):
        for info in src.infolist():
            if info.filename != SHEET:
                dst.writestr(info, src.read(info))
                continue
            with dst.open(SHEET, "w", force_zip64=True) as member:
                member.write(
                    b'<?xml version="1.0" encoding="UTF-8"?>'
                    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                    b"<sheetData>"
                )
                for chunk in sheet_data_chunks:
                    member.write(chunk.encode())
                member.write(b"</sheetData></worksheet>")
    return out.getvalue()


def blank_rows(first: int, count: int, per_chunk: int = 10_000):
    for start in range(first, first + count, per_chunk):
        yield "".join(
            f'<row r="{n}"/>' for n in range(start, min(start + per_chunk, first + count))
        )


def refused(content: bytes) -> tuple[ValidationFailed, float]:
    started = time.monotonic()
    with pytest.raises(ValidationFailed) as info:
        import_parsing.parse_workbook(content)
    return info.value, time.monotonic() - started


def test_a_small_file_that_unpacks_huge_is_refused_before_openpyxl_opens_it(
    project, steward, monkeypatch
):
    # 110 MB of whitespace between the rows (valid XML) deflates to a few hundred KB.
    padding = " " * (1024 * 1024)
    content = xlsx_with_sheet([HEAD, *(padding for _ in range(110))])
    assert len(content) < 1024 * 1024

    def never(*args, **kwargs):
        raise AssertionError("openpyxl opened a workbook that unpacks past the limit")

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    started = time.monotonic()
    with pytest.raises(ValidationFailed) as info:
        import_preview(user=steward, project=project, filename="bomb.xlsx", content=content)
    error, seconds = info.value, time.monotonic() - started
    assert not ImportBatch.objects.exists()  # not even kept
    assert error.code == "import.too_large"
    assert "解压后超过 100 MB" in error.message
    assert seconds < 2


def test_blank_rows_count_towards_the_rows_read(settings):
    settings.WUYE_IMPORT_MAX_ROWS = 1000
    # 5,000 explicit empty rows after the header: nothing to import, but every one is read.
    content = xlsx_with_sheet([HEAD, *blank_rows(2, 5000)])
    error, _ = refused(content)
    assert error.code == "import.too_large"
    assert "空行也计算在内" in error.message and "「Sheet」超过 2010 行" in error.message


def test_a_row_far_down_does_not_make_the_reader_walk_a_million_missing_rows():
    # openpyxl yields an empty row for every row number skipped: one cell in row 1,048,576 of an
    # otherwise tiny sheet used to mean reading a million rows before anything was refused.
    far = '<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    content = xlsx_with_sheet([HEAD, far])
    assert len(content) < 20_000
    error, seconds = refused(content)
    assert error.code == "import.too_large" and "51010 行" in error.message
    assert seconds < 10


def test_a_cell_beyond_the_column_limit_is_refused():
    wide = '<row r="2"><c r="XFD2" t="inlineStr"><is><t>x</t></is></c></row>'
    error, _ = refused(xlsx_with_sheet([HEAD, wide]))
    assert error.code == "import.too_wide"
    assert "第2行超过 200 列" in error.message


def test_an_empty_cell_far_right_is_read_as_a_short_row():
    # An empty styled cell in column XFD of every row is not data: the row stays as short as its
    # values, and the file is read as usual.
    rows = "".join(
        f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>1-1-{n}</t></is></c><c r="XFD{n}"/></row>'
        for n in range(2, 400)
    )
    sheets = import_parsing._read_workbook(xlsx_with_sheet([HEAD, rows]))
    assert len(sheets[0].rows) == 399
    assert max(len(values) for _, values in sheets[0].rows) == 1


def test_reading_stops_when_it_takes_too_long(settings):
    settings.WUYE_IMPORT_MAX_SECONDS = 0
    error, _ = refused(xlsx_with_sheet([HEAD, *blank_rows(2, 600)]))
    assert error.code == "import.too_slow"
    assert "读取文件超过 0 秒仍未读完" in error.message


def test_the_upload_page_shows_why_a_bomb_is_refused(client, project, steward, settings):
    settings.WUYE_IMPORT_MAX_UNPACKED_BYTES = 2 * 1024 * 1024
    content = xlsx_with_sheet([HEAD, " " * (3 * 1024 * 1024)])
    client.force_login(steward)
    page = client.post(
        reverse("registry:import_upload"), {"file": SimpleUploadedFile("bomb.xlsx", content)}
    )
    assert page.status_code == 200
    assert "文件解压后超过 2 MB" in page.content.decode()
    assert not ImportBatch.objects.exists()


def test_a_preview_of_too_many_blank_rows_keeps_the_reason_on_the_batch(project, steward, settings):
    settings.WUYE_IMPORT_MAX_ROWS = 100
    content = xlsx_with_sheet([HEAD, *blank_rows(2, 2000)])
    batch = import_preview(user=steward, project=project, filename="a.xlsx", content=content)
    assert [e["text"] for e in batch.report["errors"]] == [
        "「Sheet」超过 1110 行（空行也计算在内），请删除表格末尾多余的空行，或拆分后分批导入"
    ]


def opened_by_openpyxl(monkeypatch) -> list[bytes]:
    """The bytes openpyxl is given, for a look at what it will read."""
    from wuye.core.importing import reading

    seen = []
    real = reading.openpyxl.load_workbook

    def spy(source, *args, **kwargs):
        seen.append(source.getvalue())
        return real(source, *args, **kwargs)

    monkeypatch.setattr(reading.openpyxl, "load_workbook", spy)
    return seen


def sheet_xml(content: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(content)) as zf:
        return zf.read(SHEET)


@pytest.mark.parametrize("prefix", ["", "x:"])
def test_a_sheet_without_a_size_record_gets_one_before_openpyxl_reads_it(monkeypatch, prefix):
    # Without <dimension>, openpyxl parses the whole sheet looking for it before the first row is
    # counted: 100 MB of blank rows kept a worker busy for half a minute before the row limit.
    content = xlsx_with_sheet([HEAD, *blank_rows(2, 3000)])
    if prefix:
        content = _prefixed(content)
    assert b"dimension" not in sheet_xml(content)
    seen = opened_by_openpyxl(monkeypatch)
    sheets = import_parsing._read_workbook(content)
    assert [r for _, r in sheets[0].rows] == [("房号",)]
    xml = sheet_xml(seen[-1])
    assert xml.index(f'<{prefix}dimension ref="A1"/>'.encode()) < xml.index(
        f"<{prefix}sheetData".encode()
    )


def test_a_sheet_with_a_size_record_is_given_to_openpyxl_unchanged(monkeypatch):
    book = openpyxl.Workbook()  # the normal writer records the size
    book.active.append(["房号"])
    out = io.BytesIO()
    book.save(out)
    seen = opened_by_openpyxl(monkeypatch)
    import_parsing._read_workbook(out.getvalue())
    assert seen[-1] == out.getvalue()


def _prefixed(content: bytes) -> bytes:
    """The same workbook with the sheet's elements written with an ``x:`` namespace prefix."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == SHEET:
                data = data.replace(b'<worksheet xmlns="', b'<x:worksheet xmlns:x="')
                for tag in (b"worksheet", b"sheetData", b"row", b"c", b"is", b"t"):
                    data = data.replace(b"<" + tag + b">", b"<x:" + tag + b">")
                    data = data.replace(b"<" + tag + b" ", b"<x:" + tag + b" ")
                    data = data.replace(b"</" + tag + b">", b"</x:" + tag + b">")
            dst.writestr(info.filename, data)
    return out.getvalue()
