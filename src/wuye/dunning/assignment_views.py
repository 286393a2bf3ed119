"""均衡分案 (preview and apply a balanced assignment) and 清欠任务单 (list, change state, issue one
from the case page) (docs/user/分案与清欠.md)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from wuye.core import roles
from wuye.core.errors import WuyeError
from wuye.dunning import assignment
from wuye.dunning.page_parts import case_in_scope, current_project, role_for


@login_required
def rebalance(request):
    """均衡分案: GET previews the moves, POST applies exactly the previewed plan with a reason."""
    project = current_project(request)
    role_for(request, project.pk, roles.CASE_SUPERVISOR_ROLES, "均衡分案")
    error = None
    if request.method == "POST":
        try:
            changed = assignment.rebalance_apply(
                user=request.user,
                project_id=project.pk,
                reason=request.POST.get("reason", ""),
                fingerprint=request.POST.get("fingerprint", ""),
            )
            messages.success(request, f"已重新分配 {changed} 件案件")
            return redirect(reverse("dunning:rebalance"))
        except WuyeError as exc:
            error = (exc.field, exc.message)
    try:
        plan = assignment.rebalance_plan(project.pk)
    except WuyeError as exc:
        plan, error = None, (exc.field, exc.message)
    return render(
        request,
        "dunning/rebalance.html",
        {
            "plan": plan,
            "error_field": error[0] if error else None,
            "error": error[1] if error else "",
            "reason": request.POST.get("reason", "均衡工作量"),
            "tolerance": assignment.TOLERANCE,
        },
    )


@login_required
def recovery(request):
    """清欠任务单 list for the task force; POST changes one order's state."""
    from wuye.dunning.models import RecoveryOrder, RecoveryState

    project = current_project(request)
    role_for(request, project.pk, roles.CASE_OVERSEER_ROLES, "查看清欠任务单")
    if request.method == "POST":
        order = RecoveryOrder.objects.filter(
            project_id=project.pk, pk=request.POST.get("order") or 0
        ).first()
        if order is None:
            raise Http404("清欠任务单不存在")
        try:
            assignment.recovery_order_set_state(
                user=request.user,
                order=order,
                state=request.POST.get("state", ""),
                note=request.POST.get("note", ""),
            )
            messages.success(request, "已更新清欠任务单")
        except WuyeError as exc:
            messages.error(request, exc.message)
        return redirect(reverse("dunning:recovery"))
    state = request.GET.get("state", "")
    if state not in RecoveryState.values:
        state = ""
    return render(
        request,
        "dunning/recovery.html",
        {
            "orders": assignment.recovery_orders([project.pk], state),
            "state": state,
            "states": RecoveryState.choices,
        },
    )


@login_required
@require_POST
def recovery_create(request, case_id: int):
    def create(case, d):
        assignee = next(
            (
                u
                for u in assignment.task_force_of(case.project_id)
                if str(u.pk) == request.POST.get("assignee")
            ),
            None,
        )
        assignment.recovery_order_create(
            user=request.user, case=case, assignee=assignee, notes=request.POST.get("notes", "")
        )

    case = case_in_scope(request, case_id)
    try:
        create(case, None)
        messages.success(request, "已下达清欠任务单")
    except WuyeError as exc:
        messages.error(request, exc.message)
    return redirect(reverse("dunning:case", args=[case.pk]) + "#recovery")
