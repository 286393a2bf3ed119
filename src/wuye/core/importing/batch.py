"""Import batches: an upload kept with its bytes, previewed (any number of times, as the user corrects
the mapping), then committed all-or-nothing.

A concrete batch model subclasses ``ImportBatchBase`` and adds what scopes it (a project, a bank
account) and what else it needs. The caller supplies two functions:

* ``analyse(batch) -> Analysis``: reads ``batch.content`` with ``batch.mapping`` and compares it with the
  database; returns the JSON report the preview page shows (with ``errors`` and ``error_count``) and the
  plan of what a commit would write. It writes nothing. It may raise ``ValidationFailed`` for a file
  that cannot be read at all.
* ``apply(batch, plan)``: writes the plan (inside the commit's transaction), audit entries included.

The commit locks the batch, analyses the file again against the data as it is now and writes only when
that finds no error: a row that stopped fitting since the preview fails the whole batch, with reasons.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wuye.core.errors import ValidationFailed
from wuye.core.importing.rows import RowError


class ImportStatus(models.TextChoices):
    PREVIEWED = "previewed", _("待确认")
    COMMITTED = "committed", _("已导入")
    FAILED = "failed", _("导入失败")


class ImportBatchBase(models.Model):
    """One uploaded file: previewed first, then committed all-or-nothing.

    The file's bytes are kept with the batch so the commit reads exactly what the preview showed, and a
    later question ("what did that import contain?") can be answered.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作人"),
    )
    filename = models.CharField(_("文件名"), max_length=200)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    size = models.PositiveIntegerField(_("大小(字节)"), default=0)
    content = models.BinaryField(_("文件内容"))
    status = models.CharField(
        _("状态"), max_length=20, choices=ImportStatus.choices, default=ImportStatus.PREVIEWED
    )
    mapping = models.JSONField(_("列对应"), default=dict, blank=True)
    report = models.JSONField(_("结果"), default=dict, blank=True)
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    committed_at = models.DateTimeField(_("导入时间"), null=True, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"


B = TypeVar("B", bound=ImportBatchBase)


@dataclass
class Analysis:
    report: dict[str, Any]  # JSON-ready; has "errors" (RowError.as_dict()) and "error_count"
    plan: Any = None  # what a commit would write; None when nothing can be written
    fields: dict[str, Any] = field(default_factory=dict)  # batch fields to set (e.g. the layout)


def error_report(message: str) -> dict[str, Any]:
    return {"errors": [RowError("", None, "", message).as_dict()], "error_count": 1}


def sheet_mappings(report: Mapping[str, Any]) -> dict[str, dict[str, int]]:
    """{sheet title: mapping} from a report whose "sheets" are ``Layout.report()``s."""
    return {s["title"]: s["mapping"] for s in report.get("sheets", [])}


def batch_new(
    model: type[B],
    *,
    user: Any,
    filename: str,
    content: bytes,
    mapping: Mapping[str, Any] | None = None,
    default_name: str = "import.xlsx",
    **fields: Any,
) -> B:
    """An unsaved batch for an upload (``fields``: the subclass's own, e.g. ``project=``)."""
    return model(
        user=user if user is not None and user.is_authenticated else None,
        filename=(filename or default_name)[:200],
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        content=content,
        mapping=dict(mapping or {}),
        **fields,
    )


def _run(analyse: Callable[[B], Analysis], batch: B) -> Analysis:
    try:
        return analyse(batch)
    except ValidationFailed as exc:
        return Analysis(error_report(exc.message))


def batch_preview(
    batch: B,
    analyse: Callable[[B], Analysis],
    *,
    same_file: Mapping[str, Any] | None = None,
) -> B:
    """Analyses the batch and saves it with its report, status 待确认. Writes nothing else.

    ``same_file`` (filters such as ``{"project_id": …}``) asks whether the same bytes were committed
    before in that scope; the answer is ``report["same_file_committed"]`` ({id, at} or None).
    """
    analysis = _run(analyse, batch)
    report = analysis.report
    if same_file is not None:
        earlier = (
            type(batch)
            .objects.filter(**same_file, sha256=batch.sha256, status=ImportStatus.COMMITTED)
            .exclude(pk=batch.pk)
            .order_by("-committed_at")
            .values("id", "committed_at")
            .first()
        )
        report["same_file_committed"] = (
            {"id": earlier["id"], "at": earlier["committed_at"].isoformat()} if earlier else None
        )
    for name, value in analysis.fields.items():
        setattr(batch, name, value)
    batch.mapping = sheet_mappings(report)
    batch.report = report
    batch.status = ImportStatus.PREVIEWED
    batch.save()
    return batch


def batch_remap(
    batch: B,
    mapping: Mapping[str, Any],
    analyse: Callable[[B], Analysis],
    *,
    same_file: Mapping[str, Any] | None = None,
) -> B:
    """Previews the batch again with the columns the user chose ({sheet title: {key: column}})."""
    if batch.status == ImportStatus.COMMITTED:
        raise ValidationFailed("该批次已经导入，不能再修改列对应", code="import.already_committed")
    batch.mapping = {**batch.mapping, **mapping}
    return batch_preview(batch, analyse, same_file=same_file)


def check_committable(batch: ImportBatchBase) -> None:
    if batch.status == ImportStatus.COMMITTED:
        raise ValidationFailed("该批次已经导入，不能重复导入", code="import.already_committed")
    if batch.report.get("error_count"):
        raise ValidationFailed("文件还有错误，请修改后重新上传", code="import.has_errors")


def batch_commit(
    batch: B,
    *,
    analyse: Callable[[B], Analysis],
    apply: Callable[[B, Any], None],
    related: Sequence[str] = (),
) -> B:
    """Writes the batch all-or-nothing, reading its file again against the data as it is now.

    Refused (``ValidationFailed``) when already committed or while the preview shows errors; when the
    data changed since the preview and a row no longer fits, or the database refuses a write, nothing
    is written and the batch is marked 导入失败 with the reasons.
    """
    model = type(batch)
    try:
        with transaction.atomic():
            # Only the batch row is locked: a related row may be absent (an outer join PostgreSQL cannot lock).
            batch = (
                model.objects.select_for_update(of=("self",))
                .select_related(*related)
                .get(pk=batch.pk)
            )
            check_committable(batch)
            analysis = _run(analyse, batch)
            report = analysis.report
            if "same_file_committed" in batch.report:
                report["same_file_committed"] = batch.report["same_file_committed"]
            if report.get("error_count") or analysis.plan is None:
                return batch_finish(batch, ImportStatus.FAILED, report)
            apply(batch, analysis.plan)
            return batch_finish(batch, ImportStatus.COMMITTED, report)
    except IntegrityError as exc:
        # Someone changed the same rows between our read and our write; nothing of ours was kept.
        batch.refresh_from_db()
        message = (
            f"写入时数据库拒绝（可能有人同时修改了这些数据），未写入任何数据，请重新预览：{exc}"
        )
        return batch_finish(batch, ImportStatus.FAILED, {**batch.report, **error_report(message)})


def batch_finish(batch: B, status: str, report: dict[str, Any]) -> B:
    batch.status = status
    batch.report = report
    if status == ImportStatus.COMMITTED:
        batch.committed_at = timezone.now()
    batch.save(update_fields=["status", "report", "committed_at"])
    return batch
