"""The model page (/scoring/): the active model's quality, its coefficients in Chinese, the history of
models and a retrain button, for supervisors and managers of the current project."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from wuye.core import roles
from wuye.core.scope import role_in
from wuye.scoring import selectors
from wuye.scoring.features import FEATURES
from wuye.scoring.models import CaseScore
from wuye.scoring.pipeline import COLD_START_REASON


def _project(request, doing: str):
    if not request.project:
        raise Http404("没有可用的项目")
    if role_in(request.user, request.project.pk) not in roles.CASE_SUPERVISOR_ROLES:
        raise PermissionDenied(f"您的角色不能{doing}。")
    return request.project


@login_required
@require_GET
def model(request):
    project = _project(request, "查看催缴优先级模型")
    active = selectors.active_model(project.pk)
    history = selectors.model_history(project.pk)
    latest = history[0] if history else None
    shown = active or latest
    return render(
        request,
        "scoring/model.html",
        {
            "active": active,
            "shown": shown,
            "history": history,
            "coefficients": selectors.coefficient_rows(shown) if shown else [],
            "uplift": selectors.uplift(shown.baseline) if shown else None,
            "scored": CaseScore.objects.filter(project_id=project.pk).count(),
            "features": FEATURES,
            "cold_start_reason": COLD_START_REASON,
        },
    )


@login_required
@require_POST
def retrain(request):
    project = _project(request, "重新训练模型")
    from wuye.scoring.tasks import scoring_train_project

    scoring_train_project.enqueue(project.pk, request.user.pk)
    messages.success(request, "已提交重新训练（后台进行，几分钟内完成），完成后刷新本页查看结果")
    return redirect("scoring:model")
