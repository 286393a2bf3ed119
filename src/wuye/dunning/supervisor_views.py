"""The supervisors' pages: 催缴案件列表 (filter, reassign in bulk, run now), 每日检查 and the
催缴日报表 / 周报 / 月报 (docs/user/催缴案件.md, 催缴日报.md)."""

from __future__ import annotations

from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from wuye.core import roles
from wuye.core.dates import date_param
from wuye.core.errors import ValidationFailed, WuyeError
from wuye.dunning import assignment, reports, selectors
from wuye.dunning.enums import CaseClass, Stage
from wuye.dunning.forms import CaseFilterForm, ReassignForm, first_error
from wuye.dunning.models import ArrearsCase, DunningRun
from wuye.dunning.page_parts import chosen_worker, current_project, role_for


@login_required
def cases(request):
    project = current_project(request)
    role = role_for(request, project.pk, roles.CASE_OVERSEER_ROLES, "查看催缴案件列表")
    on = timezone.localdate()
    workers = selectors.workers_of(project.pk)
    if request.method == "POST":
        if role not in roles.CASE_SUPERVISOR_ROLES:
            raise PermissionDenied("只有客服主管、项目经理可以分配案件。")
        form = ReassignForm(request.POST)
        ids = [int(x) for x in request.POST.getlist("case") if x.isdigit()]
        chosen = list(ArrearsCase.objects.filter(project=project, pk__in=ids))
        if not form.is_valid():
            messages.error(request, first_error(form)[1])
        else:
            try:
                changed = assignment.cases_reassign(
                    user=request.user,
                    cases=chosen,
                    assignee=chosen_worker(project.pk, form.cleaned_data["assignee"]),
                    reason=form.cleaned_data["reason"],
                )
                messages.success(request, f"已重新分配 {changed} 件")
            except WuyeError as exc:
                messages.error(request, exc.message)
        return redirect(request.get_full_path())
    filters = CaseFilterForm(request.GET or {"state": "open"})
    data = filters.cleaned_data if filters.is_valid() else {"state": "open"}
    rows = selectors.case_list(
        project_id=project.pk,
        on=on,
        case_class=data.get("case_class") or "",
        stage=data.get("stage") or "",
        assignee_id=data.get("assignee"),
        overdue_only=bool(data.get("overdue")),
        state=data.get("state") or "",
    )
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "dunning/cases.html",
        {
            "page": page,
            "filters": filters,
            "workers": workers,
            "on": on,
            "can_assign": role in roles.CASE_SUPERVISOR_ROLES,
            "query": query.urlencode(),
            "class_choices": CaseClass.choices,
            "stage_choices": Stage.choices,
            "last_run": DunningRun.objects.filter(project=project).first(),
        },
    )


@login_required
@require_POST
def run_now(request):
    """Queues today's run of the current project (it also runs every morning by itself)."""
    project = current_project(request)
    role_for(request, project.pk, roles.CASE_SUPERVISOR_ROLES, "启动催缴跑批")
    from wuye.dunning.tasks import dunning_run_project

    dunning_run_project.enqueue(project.pk)
    messages.success(request, "已提交催缴跑批，完成后刷新本页即可看到结果")
    return redirect("dunning:cases")


@login_required
@require_GET
def check(request):
    project = current_project(request)
    role_for(request, project.pk, roles.CASE_OVERSEER_ROLES, "查看每日检查")
    on = timezone.localdate()
    try:
        on = date_param(request.GET.get("date"), label="日期", default=on)
    except ValidationFailed as exc:
        messages.error(request, exc.message)
    return render(
        request,
        "dunning/check.html",
        {"days": selectors.daily_check(project_id=project.pk, on=on), "on": on},
    )


@login_required
@require_GET
def report(request):
    """催缴日报表 / 周报 / 月报 of the current project, for supervisors and managers; ``?format=xlsx``
    downloads the same figures."""
    project = current_project(request)
    role_for(request, project.pk, roles.CASE_OVERSEER_ROLES, "查看催缴日报")
    kind = request.GET.get("period", "day")
    if kind not in reports.PERIODS:
        kind = "day"
    on = timezone.localdate()
    try:
        on = date_param(request.GET.get("date"), label="日期", default=on)
    except ValidationFailed as exc:
        messages.error(request, exc.message)
    result = reports.steward_report(project_ids=[project.pk], period=reports.period_of(kind, on))
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(
            reports.report_xlsx(result, project_names=project.name),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        name = quote(f"催缴{reports.PERIODS[kind]}-{result.period.start:%Y%m%d}.xlsx")
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{name}"
        return response
    return render(
        request,
        "dunning/report.html",
        {
            "report": result,
            "total": result.total,
            "on": on,
            "kind": kind,
            "periods": reports.PERIODS.items(),
            "title": f"催缴{reports.PERIODS[kind]}表",
        },
    )
