"""An uploaded bank file, statement (流水) or return file (回盘): kept with its bytes and previewed,
previewed again with the columns finance chose, then committed — on ``core.importing.batch``, with
one sheet per file. ``statement_imports`` and ``withholding_returns`` supply the analysis."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from wuye.core.importing.batch import (
    Analysis,
    ImportBatchBase,
    batch_new,
    batch_preview,
    batch_remap,
)
from wuye.core.models import Project, User

B = TypeVar("B", bound=ImportBatchBase)


def file_upload(
    model: type[B],
    analyse: Callable[[B], Analysis],
    *,
    user: User,
    project: Project,
    filename: str,
    content: bytes,
    default_name: str,
    **scope,
) -> B:
    """Keeps the file of ``project`` (``scope``: what else the batch belongs to) and previews it; the
    same file committed before in the project is named on the preview."""
    batch = batch_new(
        model,
        user=user,
        filename=filename,
        content=content,
        default_name=default_name,
        project=project,
        **scope,
    )
    return batch_preview(batch, analyse, same_file={"project_id": project.pk})


def file_remap(
    batch: B, sheet: str, mapping: dict[str, int | None], analyse: Callable[[B], Analysis]
) -> B:
    """Previews again with the columns finance chose for the file's one sheet ({field: column
    number or None})."""
    return batch_remap(batch, {sheet: mapping}, analyse)
