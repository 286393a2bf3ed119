"""The preview page of an uploaded bank file, statement (流水导入) or return file (回盘导入): the
column mapping form (列对应) and what the page shows of the report. The templates' part of it is
``banking/_column_mapping.html`` and ``banking/_preview_rows.html``."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages

from wuye.core.errors import WuyeError
from wuye.core.importing import HEADER_ROW, mapping_choices, posted_choices
from wuye.core.importing.batch import ImportBatchBase, ImportStatus


def mapping_context(report: dict) -> dict | None:
    """The mapping form of the file's one sheet: the header row and, per field, the columns to
    choose from ("B 列：交易日期") with the one chosen."""
    sheets = report.get("sheets") or []
    if not sheets:
        return None
    sheet = sheets[0]
    return {"header_row": sheet["header_row"], "rows": mapping_choices(sheet)}


def preview_context(batch: ImportBatchBase) -> dict:
    """What both preview pages show of the batch's report: counts, errors, the mapping form, the
    first rows, and whether it may be committed."""
    report = batch.report or {}
    committed = batch.status == ImportStatus.COMMITTED
    return {
        "report": report,
        "counts": report.get("counts") or {},
        "errors": report.get("errors", [])[:500],
        "error_count": report.get("error_count", 0),
        "sheet": mapping_context(report),
        "previews": report.get("preview", []),
        "committed": committed,
        "can_commit": not committed and not report.get("error_count"),
    }


def remap_posted(request, batch: ImportBatchBase, remap: Callable[[dict], object]) -> None:
    """The mapping form posted: ``remap({field: column number or None, HEADER_ROW: row})`` previews
    again; a refusal is shown as a message."""
    sheet = ((batch.report or {}).get("sheets") or [{}])[0]
    mapping: dict[str, int | None] = posted_choices(request.POST, sheet, "map-")
    header = request.POST.get("header_row", "")
    if header.isdigit():
        mapping[HEADER_ROW] = int(header)
    try:
        remap(mapping)
    except WuyeError as exc:
        messages.error(request, exc.message)
