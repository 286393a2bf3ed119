"""Writing Excel workbooks so that what a user typed stays text.

openpyxl turns any string that starts with ``=`` into a formula, and ``#N/A`` and the like into error
cells; spreadsheet programs may treat ``+``, ``-``, ``@``, a tab or a carriage return at the start as
the start of a formula too. A person called ``=HYPERLINK("http://…","点我")`` would then export as a
live link (CSV/formula injection). Every workbook the project writes is made here:

* ``workbook()`` makes the book; its sheets' ``append`` writes text as string cells (``t="inlineStr"``),
  never a formula: a ``str`` starting with one of ``FORMULA_TRIGGERS`` or ``#`` becomes a cell with
  the explicit string type (``data_type = "s"``), other text is written as a string by openpyxl
  already; numbers, Decimals and dates keep their types. ``cell()`` makes a styled cell with any
  text as a string;
* ``save()`` returns the bytes and, for books that are not write-only, turns any formula cell that
  slipped in through ``ws[...] = text`` back into a string cell.

No other module makes an openpyxl ``Workbook`` (``tests/core/test_xlsx.py`` checks the source).

The project writes no formulas. Reading stays with openpyxl's ``data_only`` mode (imports never run a
formula and read such text as the text it is).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet

# What spreadsheet programs may read as the start of a formula (OWASP "CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _as_text(cell: Cell) -> Cell:
    if isinstance(cell.value, str):
        cell.data_type = "s"
    return cell


def cell(
    ws: Any,
    value: object = None,
    *,
    font: Any = None,
    fill: Any = None,
    alignment: Any = None,
    number_format: str | None = None,
) -> Cell:
    """A cell of ``ws`` holding ``value``: text as text whatever it starts with; numbers as numbers."""
    made = Cell(ws, row=1, column=1, value=value)  # as WriteOnlyCell; append places it
    _as_text(made)
    if font is not None:
        made.font = font
    if fill is not None:
        made.fill = fill
    if alignment is not None:
        made.alignment = alignment
    if number_format is not None:
        made.number_format = number_format
    return made


def row(ws: Any, values: Iterable[object]) -> list[object]:
    """``values`` for ``ws.append``: text as string cells, cells made elsewhere checked, the rest as is."""
    return [
        _as_text(v) if isinstance(v, Cell) else cell(ws, v) if _needs_cell(v) else v for v in values
    ]


def _needs_cell(value: object) -> bool:
    # Other text openpyxl writes as a string anyway; making a cell for each is a third slower.
    return isinstance(value, str) and value.startswith((*FORMULA_TRIGGERS, "#"))


class _TextSheet(Worksheet):
    def append(self, iterable: Iterable[object]) -> None:
        super().append(row(self, iterable))


class _StreamedTextSheet(WriteOnlyWorksheet):
    def append(self, iterable: Iterable[object]) -> None:
        super().append(row(self, iterable))


class _TextWorkbook(Workbook):
    """A book whose sheets write text as text (see the module docstring)."""

    def __init__(self, write_only: bool = False) -> None:
        super().__init__(write_only=write_only)
        if not write_only:  # the default first sheet, as one of ours
            self.remove(self.active)
            self._add_sheet(_TextSheet(self, "Sheet"))
            self.active = 0

    def create_sheet(self, title: str | None = None, index: int | None = None) -> Any:
        sheet_class = _StreamedTextSheet if self.write_only else _TextSheet
        sheet = sheet_class(parent=self, title=title)
        self._add_sheet(sheet=sheet, index=index)
        return sheet


def workbook(*, write_only: bool = True) -> Workbook:
    """A new book. Write-only (streamed) unless the caller needs to style cells after writing them."""
    return _TextWorkbook(write_only=write_only)


def save(book: Workbook) -> bytes:
    """The book as .xlsx bytes; in a book that is not write-only no cell is left a formula."""
    if not book.write_only:
        for ws in book.worksheets:
            for line in ws.iter_rows():
                for c in line:
                    if c.data_type in ("f", "e") and isinstance(c.value, str):
                        c.data_type = "s"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
