"""Pages for the Excel import and export of the registry: upload → preview (with column mapping) →
commit → result, the empty template, and the export.

Views check access and shape what the templates show; reading, matching and writing live in
``importing`` and ``exporting``.
"""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from wuye.core.errors import ValidationFailed
from wuye.core.importing import mapping_choices, posted_choices
from wuye.core.models import Project
from wuye.core.scope import can_edit_registry
from wuye.registry.exporting import export_registry, import_template_workbook
from wuye.registry.importing import import_commit, import_preview, import_remap
from wuye.registry.models import ImportBatch, ImportKind, ImportStatus

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ERRORS_SHOWN = 500
COUNT_LABELS = (
    ("rooms", "房屋"),
    ("people", "客户"),
    ("phones", "电话"),
    ("occupancies", "房屋关系"),
)


class UploadForm(forms.Form):
    file = forms.FileField(
        label="Excel 文件（.xlsx）",
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.xlsm"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".xlsx", ".xlsm")):
            raise forms.ValidationError(
                "请上传 .xlsx 文件；旧的 .xls 请先在 Excel 中另存为 .xlsx。"
            )
        if upload.size > settings.FILE_UPLOAD_MAX_MEMORY_SIZE:
            limit = settings.FILE_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024)
            raise forms.ValidationError(f"文件超过 {limit} MB，请拆分后分批导入。")
        return upload


def _project(request: HttpRequest) -> Project:
    if not request.project:
        raise Http404("没有可用的项目")
    return request.project


def _editable_project(request: HttpRequest) -> Project:
    project = _project(request)
    if not can_edit_registry(request.user, project):
        raise PermissionDenied("您没有修改本项目房屋与客户资料的权限")
    return project


def _batch(request: HttpRequest, batch_id: int) -> ImportBatch:
    project = _editable_project(request)
    return get_object_or_404(
        ImportBatch.objects.defer("content").select_related("user"), pk=batch_id, project=project
    )


def _xlsx_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=filename
    )
    return response


# --- pages ---------------------------------------------------------------------------------------


@login_required
def upload(request: HttpRequest) -> HttpResponse:
    """The import form for those who may edit the registry; the export for everyone in the project."""
    project = _project(request)
    can_import = can_edit_registry(request.user, project)
    if request.method == "POST" and not can_import:
        raise PermissionDenied("您没有修改本项目房屋与客户资料的权限")
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        file = form.cleaned_data["file"]
        try:
            batch = import_preview(
                user=request.user, project=project, filename=file.name, content=file.read()
            )
        except ValidationFailed as exc:
            form.add_error("file", exc.message)
        else:
            return redirect("registry:import_preview", batch_id=batch.pk)
    recent = (
        ImportBatch.objects.filter(project=project)
        .select_related("user")
        .only(
            "id",
            "filename",
            "kind",
            "status",
            "created_at",
            "committed_at",
            "user__username",
            "user__display_name",
        )  # fmt: skip
        .order_by("-created_at", "-id")[:20]
    )
    return render(
        request,
        "registry/import_upload.html",
        {"form": form, "recent": recent if can_import else [], "can_import": can_import},
    )


@login_required
def preview(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = _batch(request, batch_id)
    if request.method == "POST":
        try:
            import_remap(user=request.user, batch=batch, mapping=_posted_mapping(request, batch))
        except ValidationFailed as exc:
            messages.error(request, exc.message)
        return redirect("registry:import_preview", batch_id=batch.pk)
    page = (
        "registry/import_result.html"
        if batch.status == ImportStatus.COMMITTED
        else "registry/import_preview.html"
    )
    return render(request, page, _report_context(batch))


@login_required
@require_POST
def commit(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = _batch(request, batch_id)
    try:
        batch = import_commit(
            user=request.user,
            batch=batch,
            record_developer=request.POST.get("record_developer") == "1",
        )
    except ValidationFailed as exc:
        messages.error(request, exc.message)
    else:
        if batch.status == ImportStatus.COMMITTED:
            messages.success(request, "导入完成。")
        else:
            messages.error(request, "导入失败，未写入任何数据，原因见下方。")
    return redirect("registry:import_preview", batch_id=batch.pk)


@login_required
def template(request: HttpRequest) -> HttpResponse:
    _project(request)
    return _xlsx_response(import_template_workbook(), "一户一档导入模板.xlsx")


@login_required
def export(request: HttpRequest) -> HttpResponse:
    project = _project(request)
    content = export_registry(user=request.user, project=project)
    stamp = timezone.localdate().strftime("%Y%m%d")
    return _xlsx_response(content, f"{project.name}-一户一档-{stamp}.xlsx")


# --- shaping the report for the templates --------------------------------------------------------


def _posted_mapping(request: HttpRequest, batch: ImportBatch) -> dict[str, dict[str, int | None]]:
    """Selects named ``map-<sheet index>-<field>``, each a column number or blank (not imported)."""
    return {
        sheet["title"]: posted_choices(request.POST, sheet, f"map-{index}-")
        for index, sheet in enumerate(batch.report.get("sheets", []))
    }


def _report_context(batch: ImportBatch) -> dict[str, Any]:
    report = batch.report or {}
    counts = report.get("counts") or {}
    errors = report.get("errors", [])
    return {
        "batch": batch,
        "report": report,
        "layout_label": ImportKind(batch.kind).label if batch.kind else "未识别",
        "errors": errors[:ERRORS_SHOWN],
        "errors_hidden": max(0, len(errors) - ERRORS_SHOWN),
        "error_count": report.get("error_count", 0),
        "counts": [
            (label, counts[key]["created"], counts[key]["updated"], counts[key]["unchanged"])
            for key, label in COUNT_LABELS
            if key in counts
        ],
        "sheets": [
            {**sheet, "index": i, "rows": mapping_choices(sheet)}
            for i, sheet in enumerate(report.get("sheets", []))
        ],
        "previews": report.get("preview", []),
        "warnings": report.get("warnings", [])[:ERRORS_SHOWN],
        "warnings_hidden": max(0, len(report.get("warnings", [])) - ERRORS_SHOWN),
        "rooms_without_area": report.get("rooms_without_area", []),
        "developer_offer": report.get("developer_offer"),
        "can_commit": batch.status != ImportStatus.COMMITTED and not report.get("error_count"),
        "same_file_at": _committed_at(report.get("same_file_committed")),
    }


def _committed_at(earlier: dict[str, Any] | None) -> datetime.datetime | None:
    return datetime.datetime.fromisoformat(earlier["at"]) if earlier else None


import_urlpatterns = [
    path("import/", upload, name="import_upload"),
    path("import/template.xlsx", template, name="import_template"),
    path("import/<int:batch_id>/", preview, name="import_preview"),
    path("import/<int:batch_id>/commit/", commit, name="import_commit"),
    path("export.xlsx", export, name="export"),
]
