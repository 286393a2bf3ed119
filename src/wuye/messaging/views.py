"""Messaging pages: the demand PDF and SMS of a case, the supervisors' outbox, the receipt webhook."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseForbidden, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from wuye.core import roles
from wuye.core.dates import OUT_OF_RANGE, date_param
from wuye.core.errors import ValidationFailed, WuyeError
from wuye.core.scope import project_ids_for
from wuye.dunning.page_parts import case_in_scope, current_project, role_for
from wuye.messaging import pdf, selectors, services
from wuye.messaging.models import OutboxStatus, TemplateKind

DEMAND_KINDS = (TemplateKind.WRITTEN_DEMAND, TemplateKind.LAWYER_LETTER)


@login_required
@require_GET
def demand_pdf(request, case_id: int):
    case = case_in_scope(request, case_id, ("project__company",))
    on = timezone.localdate()
    kind = request.GET.get("kind") or TemplateKind.WRITTEN_DEMAND
    if kind not in DEMAND_KINDS:
        kind = TemplateKind.WRITTEN_DEMAND
    back = redirect(reverse("dunning:case", args=[case.pk]) + "#messaging-actions")
    raw = (request.GET.get("deadline") or "").strip()
    if not raw:
        # Never a silent default: the letter states a deadline the owner is held to.
        messages.error(request, "请填写付款期限（催告函、律师函都要写明业主的付款期限）")
        return back
    try:
        deadline = date_param(raw, label="付款期限")
    except ValidationFailed:
        messages.error(
            request, f"付款期限“{raw[:20]}”不是有效日期，请按 年-月-日 填写（{OUT_OF_RANGE}）"
        )
        return back
    if deadline <= on:
        messages.error(request, "付款期限应晚于今天")
        return back
    try:
        content = pdf.demand_pdf(case, kind, deadline, on)
    except ValidationFailed as exc:
        messages.error(request, exc.message)
        return back
    services.demand_produced(user=request.user, case=case, kind=kind, deadline=deadline)
    name = "lawyer-letter" if kind == TemplateKind.LAWYER_LETTER else "demand"
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}-{case.room.code}.pdf"'
    return response


@login_required
@require_GET
def talking_points(request, case_id: int):
    """The talking points of a case on today's list, fetched when the steward opens them."""
    case = case_in_scope(request, case_id, ("project",))
    return render(request, "messaging/_talking_points_body.html", selectors.points_context(case))


@login_required
@require_POST
def send_sms(request, case_id: int):
    case = case_in_scope(request, case_id, ("project__company",))
    try:
        message = services.send_sms(case, TemplateKind.SMS, request.user)
    except WuyeError as exc:
        messages.error(request, f"短信未发送：{exc}")
    else:
        if message.status == OutboxStatus.FAILED:
            messages.error(request, f"短信已记入发件箱，但发送失败：{message.error}")
        else:
            messages.success(request, f"短信已发送至 {message.to[:3]}****{message.to[-4:]}")
    return redirect(reverse("dunning:case", args=[case.pk]) + "#contacts")


@login_required
@require_GET
def outbox(request):
    project = current_project(request)
    role_for(request, project.pk, roles.CASE_SUPERVISOR_ROLES, "查看短信发件箱")
    status = request.GET.get("status", "")
    if status not in OutboxStatus.values:
        status = ""
    rows = selectors.outbox([project.pk], status).filter(
        project_id__in=project_ids_for(request.user)
    )
    page = Paginator(rows, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "messaging/outbox.html",
        {"page": page, "status": status, "statuses": OutboxStatus.choices},
    )


@csrf_exempt
@require_POST
def sms_receipt(request):
    """The provider's delivery receipt: the raw body signed with HMAC-SHA256 of the shared secret in
    ``X-Wuye-Signature``."""
    body = request.body
    if not services.receipt_verified(body, request.headers.get("X-Wuye-Signature", "")):
        return HttpResponseForbidden("bad signature")
    try:
        message = services.receipt_store(body)
    except ValidationFailed as exc:
        return JsonResponse({"ok": False, "error": str(exc)}, status=400)
    return JsonResponse({"ok": True, "status": message.status})
