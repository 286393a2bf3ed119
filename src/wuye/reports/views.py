"""Report pages: 经营看板 (dashboard), 收缴率 / 账龄 / 欠费大户 / 欠费分类 / 承诺兑现 reports, the
households behind any figure, background exports, and the collection plans (收费计划).

Views parse the filters, check access and render; figures come from ``selectors`` (SQL), page-ready
shapes from ``figures``, workbooks from ``exporting`` and plan writes from ``services``.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from wuye.core import roles
from wuye.core.dates import date_param
from wuye.core.db_router import replica_reads
from wuye.core.errors import ValidationFailed, WuyeError
from wuye.core.hooks import hooks
from wuye.core.privacy import NAMED_LIST_MARK, named_list_audit
from wuye.core.scope import role_in
from wuye.reports import exporting, figures, forms, services
from wuye.reports.access import plan_projects, report_access
from wuye.reports.export_tasks import report_export
from wuye.reports.models import CollectionPlan

logger = logging.getLogger(__name__)

HOUSEHOLDS_PAGE = 100
POLL_SECONDS = 1


def _filters(request, form_class=forms.ReportFilterForm):
    """(access, form): the form bound to the query string, validated against the user's projects.
    Once valid, its inputs show the dates actually used (today, the month's bounds, …)."""
    access = report_access(request.user)
    today = timezone.localdate()
    data = request.GET.copy()
    form = form_class(data, projects=access.projects, today=today)
    if form.is_valid():
        f = form.cleaned_data
        data["as_of"] = f["as_of"].isoformat()
        data["window"] = f["window"]
        data["start"], data["end"] = f["start"].isoformat(), f["end"].isoformat()
    return access, form


def _invalid(request, template: str, form, context: dict | None = None):
    """A bad filter: the page again with the message naming the field, and no figures."""
    return render(
        request,
        template,
        {"form": form, "error": forms.first_error(form), **(context or {})},
        status=400,
    )


def _xlsx(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=exporting.XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


# Reports that list named debtors: marked internal on page, print and workbook, and audited.
NAMED_KINDS = ("debtors", "households")


def _audit_named(request, kind: str, f: dict, how: str, rows: int | None) -> None:
    what = exporting.TITLES[kind]
    if kind == "households":
        what += "：" + forms.FIGURES[f["figure"]]
    params = {k: v for k, v in request.GET.items() if k != "format"}
    named_list_audit(
        user=request.user, what=what, how=how, rows=rows, params=params, project=f.get("project")
    )


def _export(request, kind: str, form, access) -> HttpResponse:
    """``?format=xlsx``: small exports download at once; large ones become a background task and the
    user lands on its progress page."""
    f = form.cleaned_data
    rows = None
    count = exporting.estimated_rows(kind, f)
    if kind == "households":
        rows = exporting.households_rows(request.user, access, f)
        count = len(rows)
    if count > forms.EXPORT_ASYNC_ROWS:
        if kind in NAMED_KINDS:  # rows: at most this many (the task counts them)
            _audit_named(request, kind, f, "Excel（后台）", count)
        query = {k: v for k, v in request.GET.items() if k != "format"}
        job_id = exporting.job_create(
            user_id=request.user.pk,
            kind=kind,
            params=query,
            title=exporting.TITLES[kind],
            rows=count,
        )
        report_export.enqueue(job_id)
        return redirect("reports:export_status", job_id=job_id)
    sheet = exporting.build_sheet(kind, request.user, access, f, rows=rows)
    if kind in NAMED_KINDS:
        _audit_named(request, kind, f, "Excel", sheet.row_count)
    return _xlsx(exporting.workbook_bytes(sheet), exporting.filename(sheet))


def _report_page(request, kind: str, template: str, form_class=forms.ReportFilterForm):
    access, form = _filters(request, form_class)
    context = {"form": form, "access": access, "kind": kind, "title": exporting.TITLES[kind]}
    if not form.is_valid():
        return _invalid(request, template, form, context)
    if request.GET.get("format") == "xlsx":
        return _export(request, kind, form, access)
    f = form.cleaned_data
    data = exporting.report_data(kind, request.user, access, f)
    if kind in NAMED_KINDS:
        _audit_named(request, kind, f, "页面", len(data["rows"]))
        context["named_mark"] = NAMED_LIST_MARK
    subtitle = exporting.filter_labels(access, f, window=kind in ("rates", "promises"))
    return render(
        request,
        template,
        {**context, "data": data, "f": f, "subtitle": subtitle, "query": _query(request)},
    )


def _query(request, *drop: str) -> str:
    """The current filters as a query string (for the export link and click-throughs)."""
    q = request.GET.copy()
    for key in ("format", "page", *drop):
        q.pop(key, None)
    return q.urlencode()


def _notices(request, access) -> list[dict]:
    """Warnings apps above reports put on the dashboard (``WUYE_DASHBOARD_NOTICES``: the schedule's
    failed or missed steps); a hook that fails never takes the dashboard down."""
    ids = [p.pk for p in access.projects]
    found: list[dict] = []
    for hook in hooks("WUYE_DASHBOARD_NOTICES"):
        try:
            found.extend(hook(user=request.user, project_ids=ids))
        except Exception:
            logger.exception("dashboard notice %s failed", hook)
    return found


@login_required
@require_GET
@replica_reads
def dashboard(request):
    access, form = _filters(request)
    context = {"form": form, "access": access, "notices": _notices(request, access)}
    if not form.is_valid():
        return _invalid(request, "reports/dashboard.html", form, context)
    board = figures.dashboard(access, form.cleaned_data)
    return render(
        request,
        "reports/dashboard.html",
        {
            **context,
            "b": board,
            "chart_data": board.chart_data(),
            "f": form.cleaned_data,
            "subtitle": exporting.filter_labels(access, form.cleaned_data),
            "query": _query(request),
        },
    )


@login_required
@require_GET
@replica_reads
def rates(request):
    return _report_page(request, "rates", "reports/rates.html", forms.RatesForm)


@login_required
@require_GET
@replica_reads
def aging_report(request):
    return _report_page(request, "aging", "reports/aging.html")


@login_required
@require_GET
@replica_reads
def debtors(request):
    return _report_page(request, "debtors", "reports/debtors.html", forms.DebtorsForm)


@login_required
@require_GET
@replica_reads
def breakdown(request):
    return _report_page(request, "breakdown", "reports/breakdown.html")


@login_required
@require_GET
@replica_reads
def promises(request):
    return _report_page(request, "promises", "reports/promises.html")


@login_required
@require_GET
@replica_reads
def households(request):
    """The households behind one figure of the dashboard or a report (click-through)."""
    access, form = _filters(request, forms.HouseholdsForm)
    context = {"form": form, "access": access, "title": "数字背后的住户"}
    if not form.is_valid():
        return _invalid(request, "reports/households.html", form, context)
    if request.GET.get("format") == "xlsx":
        return _export(request, "households", form, access)
    f = form.cleaned_data
    if f["figure"] == "top":
        rows = exporting.households_rows(request.user, access, f)
        total = sum((r.amount for r in rows), Decimal("0.00"))
    else:
        rows = exporting.HouseholdPages(request.user, access, f)
        total = rows.total
    page = Paginator(rows, HOUSEHOLDS_PAGE).get_page(request.GET.get("page"))
    _audit_named(request, "households", f, "页面", page.paginator.count)
    return render(
        request,
        "reports/households.html",
        {
            **context,
            "named_mark": NAMED_LIST_MARK,
            "page": page,
            "f": f,
            "total": total,
            "bucket_label": figures.AGING_LABELS[f["bucket"]]
            if f.get("bucket") is not None
            else "",
            "figure_label": forms.FIGURES[f["figure"]],
            "query": _query(request),
            "back": reverse("reports:dashboard")
            + "?"
            + _query(request, "figure", "key", "bucket", "group", "developer", "limit"),
        },
    )


# --- background exports --------------------------------------------------------------------------


def _job(request, job_id: str) -> dict:
    job = exporting.job_read(job_id)
    if job is None or job.get("user_id") != request.user.pk:
        raise Http404("导出任务不存在或已过期")
    return job


@login_required
@require_GET
def export_status(request, job_id: str):
    """The export's progress page; htmx polls the same URL for the bar alone until it is done."""
    job = _job(request, job_id)
    working = job["status"] in ("queued", "running")
    context = {
        "job": job,
        "percent": exporting.job_percent(job),
        "working": working,
        "poll": POLL_SECONDS,
    }
    if request.htmx:
        return render(request, "reports/_export_progress.html", context)
    return render(request, "reports/export.html", context)


@login_required
@require_GET
def export_download(request, job_id: str):
    job = _job(request, job_id)
    if job["status"] != "done":
        raise Http404("文件尚未生成")
    return FileResponse(
        exporting.job_open_file(job_id),
        as_attachment=True,
        filename=job.get("filename") or f"{job['title']}.xlsx",
        content_type=exporting.XLSX,
    )


# --- collection plans ----------------------------------------------------------------------------


def _can_edit(request, project_id: int) -> bool:
    return role_in(request.user, project_id) in roles.PLAN_EDITOR_ROLES


def _plan_or_404(request, plan_id: int) -> CollectionPlan:
    ids = [p.pk for p in plan_projects(request.user)]
    plan = (
        CollectionPlan.objects.filter(pk=plan_id, project_id__in=ids)
        .select_related("project")
        .first()
    )
    if plan is None:
        raise Http404("收费计划不存在或不在您的项目范围内")
    return plan


@login_required
def plans(request):
    projects = plan_projects(request.user)
    editable = [p for p in projects if _can_edit(request, p.pk)]
    form = forms.PlanForm(
        request.POST or None,
        initial={"year": timezone.localdate().year, "split": "month"},
    )
    project_id = request.POST.get("project") if request.method == "POST" else None
    if request.method == "POST":
        project = next((p for p in editable if str(p.pk) == project_id), None)
        if project is None:
            raise PermissionDenied("只有项目经理或公司管理员可以制定该项目的收费计划。")
        if form.is_valid():
            try:
                plan = services.plan_save(user=request.user, project=project, **form.cleaned_data)
            except WuyeError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, f"已建立 {project.name} {plan.year} 年收费计划。")
                return redirect("reports:plan", plan_id=plan.pk)
    return render(
        request,
        "reports/plans.html",
        {
            "plans": figures.plan_list([p.pk for p in projects]),
            "form": form,
            "editable": editable,
            "error": forms.first_error(form) if form.errors else "",
            "chosen_project": project_id,
        },
        status=400 if form.errors else 200,
    )


@login_required
def plan(request, plan_id: int):
    plan = _plan_or_404(request, plan_id)
    can_edit = _can_edit(request, plan.project_id)
    header = forms.PlanForm(
        initial={
            "year": plan.year,
            "split": plan.split,
            "target_amount": plan.target_amount,
            "target_rate": plan.target_rate,
            "note": plan.note,
        }
    )
    sheet_error = ""
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("只有项目经理或公司管理员可以修改收费计划。")
        action = request.POST.get("action")
        try:
            if action == "header":
                header = forms.PlanForm(request.POST)
                if header.is_valid():
                    services.plan_save(
                        user=request.user, project=plan.project, plan=plan, **header.cleaned_data
                    )
                    messages.success(request, "计划已保存。")
                    return redirect("reports:plan", plan_id=plan.pk)
                sheet_error = forms.first_error(header)
            elif action == "sheet":
                lines = figures.sheet_lines(plan, request.POST)
                warnings = services.targets_save(user=request.user, plan=plan, lines=lines)
                messages.success(request, "分解指标已保存。")
                for w in warnings:
                    messages.warning(request, w)
                return redirect("reports:plan", plan_id=plan.pk)
            elif action == "even":
                owner = figures.owner_from_post(plan, request.POST)
                warnings = services.targets_even_split(user=request.user, plan=plan, **owner)
                messages.success(request, "已按期平均分配（最大余数法，合计分毫不差）。")
                for w in warnings:
                    messages.warning(request, w)
                return redirect("reports:plan", plan_id=plan.pk)
            else:
                sheet_error = "未知的操作"
        except (WuyeError, ValueError) as exc:
            sheet_error = getattr(exc, "message", None) or str(exc)
    sheet = figures.plan_sheet(plan)
    return render(
        request,
        "reports/plan.html",
        {
            "plan": plan,
            "sheet": sheet,
            "header": header,
            "can_edit": can_edit,
            "error": sheet_error,
            "warnings": services.plan_warnings(plan),
            "owners": figures.owner_choices(plan),
        },
        status=400 if sheet_error else 200,
    )


@login_required
@require_GET
def plan_progress(request, plan_id: int):
    plan = _plan_or_404(request, plan_id)
    today = timezone.localdate()
    try:
        as_of = date_param(request.GET.get("as_of"), label="截至日期", default=today)
    except ValidationFailed as exc:
        return render(
            request, "reports/plan_progress.html", {"plan": plan, "error": exc.message}, status=400
        )
    progress = figures.plan_progress(plan, as_of)
    return render(
        request,
        "reports/plan_progress.html",
        {"plan": plan, "progress": progress, "as_of": as_of},
    )
