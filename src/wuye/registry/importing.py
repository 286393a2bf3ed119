"""Excel import of the registry (一户一档): rooms, people, phones and occupancies.

Two layouts are read:

* the template (see ``exporting.import_template_workbook``): sheets 房屋, 客户 and 房屋关系;
* the flat layout old systems export: one sheet, one row per room, owners and phones in the row.

``import_preview`` reads an upload, lists every bad row and counts what a commit would create, update
or leave unchanged, and keeps all of it on an ``ImportBatch``; ``import_commit`` writes it
all-or-nothing. The matching rules make a second import of the same file change nothing:

* rooms by (project, code);
* people by name and a shared phone number, else by name and a current occupancy on one of their
  rooms in the file;
* phones by number per person; occupancies by (room, person, role) among current ones.

An import adds and updates; it never deletes, never clears a stored value because a cell is blank, and
never ends an occupancy (a sale or a move-out is recorded on the household page).

The generic machinery (reading, headers, mapping, row errors, the batch) is ``wuye.core.importing``;
the registry's own part is split by step: ``import_columns`` (the columns, their synonyms, the Chinese
labels and cell parsers), ``import_parsing`` (what the file says), ``import_planning`` (compared with
the database), ``import_writing`` (the bulk writes); this module is the batch: preview, remap, commit.
"""

from __future__ import annotations

import time
from typing import Any

from wuye.core.audit import audit_record
from wuye.core.importing import (
    XLSX,
    check_readable,
)
from wuye.core.importing.batch import (
    Analysis,
    batch_commit,
    batch_new,
    batch_preview,
    batch_remap,
)
from wuye.core.models import Project, User
from wuye.registry.import_columns import TEMPLATE_SHEETS
from wuye.registry.import_parsing import UNREADABLE, parse_workbook
from wuye.registry.import_planning import Plan, make_plan
from wuye.registry.import_writing import _apply, _changed_anything
from wuye.registry.models import (
    ImportBatch,
)

# --- the batch: preview and commit ---------------------------------------------------------------


def _analyse(batch: ImportBatch, *, record_developer: bool = False) -> Analysis:
    """Reads the batch's file with its mapping; the report to keep and the plan of the commit."""
    started = time.monotonic()
    parsed = parse_workbook(bytes(batch.content), batch.mapping or None)
    plan: Plan | None = None
    errors = list(parsed.errors)
    if parsed.readable:  # bad rows are left out; the plan still shows what the good ones would do
        plan, db_errors = make_plan(parsed, batch.project, record_developer=record_developer)
        errors.extend(db_errors)
    errors.sort(key=lambda e: (_sheet_order(e.sheet), e.row or 0))
    report = {
        "layout": parsed.kind,
        "sheets": [layout.report() for layout in parsed.layouts],
        "errors": [e.as_dict() for e in errors],
        "error_count": len(errors),
        "data_rows": parsed.data_rows,
        "counts": plan.counts if plan else {},
        "new_buildings": plan.new_buildings if plan else [],
        "new_units": plan.new_units if plan else 0,
        "preview": parsed.preview,
        "warnings": [w.as_dict() for w in plan.warnings] if plan else [],
        "rooms_without_area": plan.rooms_without_area if plan else [],
        "developer_offer": _offer_report(plan),
        "developer_recorded": bool(record_developer and plan and plan.developer_offer),
        "seconds": round(time.monotonic() - started, 2),
    }
    return Analysis(report, plan, {"kind": parsed.kind})


def _offer_report(plan: Plan | None) -> dict[str, Any] | None:
    if plan is None or plan.developer_offer is None:
        return None
    person, rooms = plan.developer_offer
    return {"name": person.name, "rooms": rooms}


def _sheet_order(title: str) -> int:
    titles = [s.title for s in TEMPLATE_SHEETS]
    return titles.index(title) if title in titles else -1


def _same_file(batch: ImportBatch) -> dict[str, Any]:
    return {"project_id": batch.project_id}


def import_preview(
    *,
    user: User | None,
    project: Project,
    filename: str,
    content: bytes,
    mapping: dict[str, dict[str, int | None]] | None = None,
) -> ImportBatch:
    """Reads an uploaded workbook and keeps it as a batch with its report; writes nothing else.

    ``mapping`` ({sheet title: {field key: column number}}) overrides the detected columns.
    Raises ``ValidationFailed`` when the file is not a readable .xlsx.
    """
    check_readable(content, (XLSX,), unreadable=UNREADABLE)  # refuse it before keeping it
    batch = batch_new(
        ImportBatch, user=user, filename=filename, content=content, mapping=mapping,
        project=project,
    )  # fmt: skip
    return batch_preview(batch, _analyse, same_file=_same_file(batch))


def import_remap(
    *, user: User | None, batch: ImportBatch, mapping: dict[str, dict[str, int | None]]
) -> ImportBatch:
    """Previews the batch again with the columns the user chose."""
    return batch_remap(batch, mapping, _analyse, same_file=_same_file(batch))


def import_commit(
    *, user: User | None, batch: ImportBatch, record_developer: bool = False
) -> ImportBatch:
    """Writes the batch all-or-nothing, reading its file again against the data as it is now.

    Refused while the preview shows errors; when the data changed since the preview and a row no longer
    fits, nothing is written and the batch is marked failed with the reasons. ``record_developer``:
    the user accepted the preview's offer (``report["developer_offer"]``) to record the organisation
    owning rooms not handed over as the project's developer, who then pays for them.
    """

    def analyse(locked: ImportBatch) -> Analysis:
        return _analyse(locked, record_developer=record_developer)

    def apply(locked: ImportBatch, plan: Plan) -> None:
        _apply(plan, user=user, project=locked.project, batch=locked)
        if _changed_anything(plan.counts):
            audit_record(
                user=user,
                action="批量导入",
                obj=locked,
                project=locked.project,
                changes={"file": locked.filename, "sha256": locked.sha256, "counts": plan.counts},
            )

    return batch_commit(batch, analyse=analyse, apply=apply, related=("project",))
