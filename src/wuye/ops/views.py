"""The 系统任务 page (/ops/jobs/) for the company administrator: today's chain of the current project,
recent runs and failures of every project they administer, and 立即运行 per step. The health
endpoint (/health/) for a load balancer lives in ``health``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from wuye.core.errors import ValidationFailed
from wuye.ops import selectors, services


def _project(request):
    if not request.project:
        raise Http404("没有可用的项目")
    if not selectors.can_operate(request.user, request.project.pk):
        raise PermissionDenied("只有公司管理员可以查看系统任务。")
    return request.project


@login_required
@require_GET
def jobs(request):
    project = _project(request)
    ids = selectors.operated_project_ids(request.user)
    failed_only = request.GET.get("failed") == "1"
    today = timezone.localdate()
    found = selectors.beat()
    return render(
        request,
        "ops/jobs.html",
        {
            "today": today,
            "chain": selectors.chain(project, today),
            "runs": selectors.recent_runs(ids, failed_only=failed_only),
            "problems": selectors.problems(ids),
            "failed_only": failed_only,
            "beat": found,
            "beat_stale": selectors.beat_is_stale(found),
        },
    )


@login_required
@require_POST
def run_now(request):
    project = _project(request)
    try:
        run = services.run_now(
            user=request.user, project=project, step_key=request.POST.get("step", "")
        )
    except ValidationFailed as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已提交「{run.label}」，当前状态：{run.get_status_display()}")
    return redirect("ops:jobs")
