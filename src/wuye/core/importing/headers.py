"""Which row is the header and which column holds which field, from a table of header synonyms the
caller supplies; the mapping the user confirms or corrects in the preview.

A *mapping* is ``{field key: column number (1-based)}`` for one sheet. The preview shows it and lets the
user change it; a caller keeps what the user chose (on the batch, or for a bank account for next time)
and hands it back. A mapping kept *by header text* (``mapping_headers``) survives a column moving in
the next export; ``remembered=`` gives it back to detection.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from openpyxl.utils import get_column_letter

from wuye.core.importing.cells import cell_text, halfwidth
from wuye.core.importing.reading import HEADER_SEARCH_ROWS, Sheet


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # the header written in the template; shown in messages and the mapping form
    synonyms: tuple[str, ...] = ()
    required: bool = False


@dataclass(frozen=True)
class SheetSpec:
    """The fields one kind of sheet has; ``title`` names a sheet in a multi-sheet template."""

    key: str
    title: str
    columns: tuple[Column, ...]

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)

    def remembering(self, remembered: Mapping[str, str] | None) -> SheetSpec:
        """This spec with the header texts a user chose before ({key: header}) as first synonyms."""
        if not remembered:
            return self
        columns = tuple(
            replace(c, synonyms=(remembered[c.key], *c.synonyms)) if remembered.get(c.key) else c
            for c in self.columns
        )
        return replace(self, columns=columns)


_UNITS = re.compile(r"(m2|平方米|元)$")


def header_key(text: object) -> str:
    """A header as compared: ``'建筑面积（㎡）'``, ``'*房号'`` and ``' 房 号 '`` match ``建筑面积``/``房号``."""
    key = halfwidth(cell_text(text)).lower()
    key = re.sub(r"\(.*?\)|\[.*?\]|【.*?】|[\s*:]", "", key)
    return _UNITS.sub("", key)


def synonym_index(spec: SheetSpec) -> dict[str, str]:
    """header key → field key; a text listed for two fields belongs to the first."""
    index: dict[str, str] = {}
    for column in spec.columns:
        for text in (column.label, *column.synonyms):
            index.setdefault(header_key(text), column.key)
    return index


def auto_mapping(spec: SheetSpec, headers: Mapping[int, str]) -> dict[str, int]:
    """The columns whose header is a known name; the leftmost wins when two name one field."""
    index = synonym_index(spec)
    mapping: dict[str, int] = {}
    for col, text in sorted(headers.items()):
        key = index.get(header_key(text))
        if key and key not in mapping:
            mapping[key] = col
    return mapping


def row_headers(values: tuple[object, ...]) -> dict[int, str]:
    return {i: cell_text(v) for i, v in enumerate(values, start=1) if cell_text(v)}


@dataclass
class HeaderGuess:
    row: int  # its row number; 0 for an empty sheet
    headers: dict[int, str] = field(default_factory=dict)  # column number → header text
    score: int = 0  # known columns found, +100 when every required one is among them


def find_header(
    sheet: Sheet, spec: SheetSpec, search_rows: int = HEADER_SEARCH_ROWS
) -> HeaderGuess:
    """The row among the first ``search_rows`` that names the most known columns (titles and
    account-information rows may sit above it). With no known column at all: the first row, score 0,
    so that the user can still map the columns by hand."""
    required = {c.key for c in spec.columns if c.required}
    best: HeaderGuess | None = None
    for number, values in sheet.rows[:search_rows]:
        headers = row_headers(values)
        found = set(auto_mapping(spec, headers))
        score = len(found) + (100 if required <= found else 0)
        if found and (best is None or score > best.score):
            best = HeaderGuess(number, headers, score)
    if best is not None:
        return best
    if not sheet.rows:
        return HeaderGuess(0)
    number, values = sheet.rows[0]
    return HeaderGuess(number, row_headers(values), 0)


def clean_mapping(wanted: Mapping[str, object], headers: Mapping[int, str]) -> dict[str, int]:
    """A mapping as posted or stored, keeping only columns that exist (blank means: not imported)."""
    result = {}
    for key, col in wanted.items():
        try:
            number = int(col) if col not in (None, "") else 0  # type: ignore[call-overload]
        except (TypeError, ValueError):
            continue
        if number in headers:
            result[str(key)] = number
    return result


def mapping_headers(mapping: Mapping[str, int], headers: Mapping[int, str]) -> dict[str, str]:
    """A mapping by header text, to keep for the next file of the same source."""
    return {key: headers[col] for key, col in mapping.items() if col in headers}


def mapping_choices(sheet: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The 列对应 form of a previewed sheet (a report's ``sheets`` entry): per field its label,
    whether it is required, the column chosen, and the columns to choose from ("B 列：交易日期")."""
    options = [(col, f"{get_column_letter(col)} 列：{text}") for col, text in sheet["headers"]]
    return [
        {
            "key": key,
            "label": label,
            "required": required,
            "selected": sheet["mapping"].get(key),
            "options": options,
        }
        for key, label, required in sheet["columns"]
    ]


def posted_choices(
    data: Mapping[str, str], sheet: Mapping[str, Any], prefix: str
) -> dict[str, int | None]:
    """The 列对应 form posted back: per field of ``sheet`` the column number in ``<prefix><field>``,
    or None (left blank: not imported)."""
    chosen: dict[str, int | None] = {}
    for key, _label, _required in sheet.get("columns", []):
        value = data.get(f"{prefix}{key}", "")
        chosen[key] = int(value) if value.isdigit() else None
    return chosen
