"""One sheet as read (its layout), its data rows, and every row error with its row number and reason.

A caller parses each ``Row`` with its own cell parsers (each returns a value or raises ``ValueError``
with a Chinese reason); ``Row.parse`` records the reason against the row and column and remembers what
the preview shows. ``RowStream`` skips blank rows and, as the caller chooses, totals rows (合计/小计),
counts the data rows and keeps the first few for the preview.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from wuye.core.importing.cells import cell_text
from wuye.core.importing.headers import (
    HeaderGuess,
    SheetSpec,
    auto_mapping,
    clean_mapping,
    find_header,
    row_headers,
)
from wuye.core.importing.reading import HEADER_SEARCH_ROWS, Sheet

PREVIEW_ROWS = 20
HEADER_ROW = "@header"  # in a user's mapping: the header row they chose, when detection missed it
TOTALS = re.compile(r"^(合计|总计|小计)")  # in the first non-blank cell of a row


@dataclass
class RowError:
    sheet: str  # "" where the file has one sheet that matters
    row: int | None  # None for a problem with the whole sheet (a missing column)
    column: str
    message: str

    @property
    def text(self) -> str:
        where = f"「{self.sheet}」表" if self.sheet else ""
        if self.row:
            where += f"第{self.row}行"
        if self.column:
            where += f"「{self.column}」"
        return f"{where}：{self.message}" if where else self.message

    def as_dict(self) -> dict[str, Any]:
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "message": self.message,
            "text": self.text,
        }


@dataclass
class Layout:
    """One sheet as read: where its header is and which column holds which field."""

    spec: SheetSpec
    sheet: Sheet
    header_row: int
    headers: dict[int, str]  # column number (1-based) → header text
    mapping: dict[str, int]  # field key → column number
    named: bool  # name the sheet in messages (multi-sheet templates)
    header_chosen: bool = False  # the user chose the header row (kept in the mapping as HEADER_ROW)

    def header(self, key: str) -> str:
        col = self.mapping.get(key)
        return self.headers.get(col, "") if col else self.spec.column(key).label

    def error(self, row: int | None, key: str, message: str) -> RowError:
        return RowError(self.sheet.title if self.named else "", row, self.header(key), message)

    def data_rows(self) -> list[tuple[int, tuple[object, ...]]]:
        return [(n, values) for n, values in self.sheet.rows if n > self.header_row]

    def report(self) -> dict[str, Any]:
        """What the preview's mapping form needs; JSON-ready, kept on the batch."""
        return {
            "title": self.sheet.title,
            "spec": self.spec.key,
            "header_row": self.header_row,
            "headers": [[col, text] for col, text in sorted(self.headers.items())],
            "mapping": (
                {HEADER_ROW: self.header_row, **self.mapping}
                if self.header_chosen
                else self.mapping
            ),
            "columns": [[c.key, c.label, c.required] for c in self.spec.columns],
        }


def make_layout(
    spec: SheetSpec,
    sheet: Sheet,
    wanted: Mapping[str, object] | None = None,
    *,
    named: bool = False,
    search_rows: int = HEADER_SEARCH_ROWS,
    remembered: Mapping[str, str] | None = None,
) -> Layout:
    """The sheet's header row and mapping: ``wanted`` (the user's choice, by column number) when
    given, else detection from the synonyms, with ``remembered`` header texts ({key: header}) first.

    ``wanted[HEADER_ROW]`` (a row number) sets the header row when detection picked the wrong one.
    """
    detecting = spec.remembering(remembered)
    guess = find_header(sheet, detecting, search_rows)
    chosen = _row_number(wanted.get(HEADER_ROW)) if wanted else None
    values = dict(sheet.rows).get(chosen) if chosen is not None else None
    if chosen is not None and values is not None:
        guess = HeaderGuess(chosen, row_headers(values), 0)
    cols = (
        clean_mapping(wanted, guess.headers)
        if wanted is not None
        else auto_mapping(detecting, guess.headers)
    )
    cols.pop(HEADER_ROW, None)
    return Layout(
        spec, sheet, guess.row, guess.headers, cols, named=named, header_chosen=values is not None
    )


def _row_number(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None


def mapping_errors(layout: Layout) -> list[RowError]:
    """A required field without a column, and one column feeding two fields."""
    errors = []
    title = layout.sheet.title if layout.named else ""
    for column in layout.spec.columns:
        if column.required and column.key not in layout.mapping:
            errors.append(
                RowError(
                    title, None, column.label, f"未找到「{column.label}」列，请在“列对应”中指定"
                )
            )
    used: dict[int, str] = {}
    for column in layout.spec.columns:
        col = layout.mapping.get(column.key)
        if col is None:
            continue
        if col in used:
            errors.append(
                RowError(
                    title,
                    None,
                    layout.headers[col],
                    f"同一列不能同时作为「{used[col]}」和「{column.label}」",
                )
            )
        used[col] = column.label
    return errors


@dataclass
class Where:
    layout: Layout
    row: int

    def error(self, key: str, message: str) -> RowError:
        return self.layout.error(self.row, key, message)


class Row:
    """One data row: parses its cells, collects every error, remembers what the preview shows."""

    def __init__(
        self, layout: Layout, number: int, values: tuple[object, ...], errors: list[RowError]
    ):
        self.layout = layout
        self.number = number
        self.values = values
        self.errors = errors
        self.ok = True
        self.display: dict[str, str] = {}

    @property
    def where(self) -> Where:
        return Where(self.layout, self.number)

    def has(self, key: str) -> bool:
        return key in self.layout.mapping

    def raw(self, key: str) -> object:
        col = self.layout.mapping.get(key)
        if not col or col > len(self.values):
            return None
        return self.values[col - 1]

    def parse(
        self, key: str, parser: Callable[[object], Any], show: Callable[[Any], str] | None = None
    ) -> Any:
        """The parsed cell, or None with the reason recorded when the parser raises ``ValueError``."""
        raw = self.raw(key)
        try:
            value = parser(raw)
        except ValueError as exc:
            self.fail(key, str(exc))
            self.display[key] = cell_text(raw)
            return None
        self.display[key] = show(value) if show else cell_text(raw)
        return value

    def fail(self, key: str, message: str) -> None:
        self.ok = False
        self.errors.append(self.layout.error(self.number, key, message))

    def is_blank(self) -> bool:
        """Nothing in the mapped columns: a subtotal or a note in some other column."""
        return all(not cell_text(self.raw(key)) for key in self.layout.mapping)

    def first_text(self) -> str:
        return next((cell_text(v) for v in self.values if cell_text(v)), "")


class RowStream:
    """The data rows of a layout, below its header: blank rows always skipped, totals rows skipped
    when ``totals`` is a pattern (default 合计/总计/小计 at the start of the row's first cell; None keeps
    them). Iterate once; then ``count`` is the number of data rows and ``preview()`` shows the first
    ``preview_rows`` of them as parsed."""

    def __init__(
        self,
        layout: Layout,
        errors: list[RowError],
        *,
        totals: re.Pattern[str] | None = TOTALS,
        preview_rows: int = PREVIEW_ROWS,
    ):
        self.layout = layout
        self.errors = errors
        self.totals = totals
        self.preview_rows = preview_rows
        self.count = 0
        self.skipped_totals: list[int] = []
        self.shown: list[Row] = []

    def __iter__(self) -> Iterator[Row]:
        for number, values in self.layout.data_rows():
            row = Row(self.layout, number, values, self.errors)
            if self.totals is not None and self.totals.match(row.first_text()):
                self.skipped_totals.append(number)
                continue
            if row.is_blank():
                continue
            self.count += 1
            yield row
            if len(self.shown) < self.preview_rows:
                self.shown.append(row)

    def preview(self) -> dict[str, Any]:
        """The first rows as the user will check them: the parsed value of each mapped field."""
        spec, mapping = self.layout.spec, self.layout.mapping
        keys = [c.key for c in spec.columns if c.key in mapping]
        return {
            "title": self.layout.sheet.title,
            "columns": [spec.column(k).label for k in keys],
            "rows": [
                {"row": r.number, "ok": r.ok, "cells": [r.display.get(k, "") for k in keys]}
                for r in self.shown
            ],
        }
