"""One machinery for every spreadsheet import (registry, bank statements, and those to come).

* ``reading``: .xlsx / .xls / .csv (UTF-8 or GBK) → sheets of numbered non-blank rows, bounded;
* ``headers``: the header row below titles, found with the caller's synonyms; the column mapping;
* ``rows``: layouts, rows parsed with the caller's cell parsers, row errors with row numbers, blank
  and totals rows skipped, preview rows;
* ``batch``: the batch record (abstract model), preview, remap and the all-or-nothing commit.

See docs/decisions/0007-one-import-machinery.md. ``batch`` holds a model: import it from
``wuye.core.importing.batch`` (not re-exported here, so that this package imports before Django's
apps are ready).
"""

from wuye.core.importing.cells import cell_text, halfwidth
from wuye.core.importing.headers import (
    Column,
    HeaderGuess,
    SheetSpec,
    auto_mapping,
    clean_mapping,
    find_header,
    header_key,
    mapping_choices,
    mapping_headers,
    posted_choices,
    synonym_index,
)
from wuye.core.importing.reading import (
    ALL_FORMATS,
    CSV,
    HEADER_SEARCH_ROWS,
    XLS,
    XLSX,
    Sheet,
    check_readable,
    decode_text,
    read_sheets,
    sniff_format,
)
from wuye.core.importing.rows import (
    HEADER_ROW,
    PREVIEW_ROWS,
    TOTALS,
    Layout,
    Row,
    RowError,
    RowStream,
    Where,
    make_layout,
    mapping_errors,
)

__all__ = [
    "ALL_FORMATS",
    "CSV",
    "HEADER_ROW",
    "HEADER_SEARCH_ROWS",
    "PREVIEW_ROWS",
    "TOTALS",
    "XLS",
    "XLSX",
    "Column",
    "HeaderGuess",
    "Layout",
    "Row",
    "RowError",
    "RowStream",
    "Sheet",
    "SheetSpec",
    "Where",
    "auto_mapping",
    "cell_text",
    "check_readable",
    "clean_mapping",
    "decode_text",
    "find_header",
    "halfwidth",
    "header_key",
    "make_layout",
    "mapping_errors",
    "mapping_choices",
    "mapping_headers",
    "posted_choices",
    "read_sheets",
    "sniff_format",
    "synonym_index",
]
