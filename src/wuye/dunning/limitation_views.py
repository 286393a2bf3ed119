"""诉讼时效: the deadline alerts, recording an interruption of the limitation period, and the evidence
package for the lawyer (docs/user/诉讼时效.md)."""

from __future__ import annotations

import datetime
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from wuye.core import roles, uploads
from wuye.core.errors import WuyeError
from wuye.dunning import limitation
from wuye.dunning.page_parts import case_in_scope, current_project, role_for


@login_required
@require_GET
def limitation_alerts(request):
    project = current_project(request)
    role_for(request, project.pk, roles.CASE_OVERSEER_ROLES, "查看诉讼时效预警")
    within = max(limitation.ALERT_DAYS)
    rows = limitation.cases_near_deadline([project.pk], timezone.localdate(), within)
    return render(request, "dunning/limitation.html", {"rows": rows, "within": within})


@login_required
@require_GET
def evidence_zip(request, case_id: int):
    """Personal information for the lawyer: scoped like the case page, and every export audited."""
    from wuye.dunning.evidence import evidence_export

    found = case_in_scope(request, case_id)
    export = evidence_export(user=request.user, case=found)
    response = HttpResponse(export.content, content_type="application/zip")
    response["Content-Disposition"] = (
        f"attachment; filename=evidence-{found.pk}.zip; filename*=UTF-8''{quote(export.filename)}"
    )
    return uploads.protect(response)


@login_required
@require_POST
def limitation_record(request, case_id: int):
    case = case_in_scope(request, case_id)
    try:
        on_date = datetime.date.fromisoformat(request.POST.get("on_date", ""))
    except ValueError:
        on_date = None
    try:
        limitation.interruption_record(
            user=request.user,
            case=case,
            kind=request.POST.get("kind", ""),
            on_date=on_date,
            evidence=request.FILES.get("evidence"),
            note=request.POST.get("note", ""),
        )
        messages.success(request, "已登记诉讼时效中断")
    except WuyeError as exc:
        messages.error(request, exc.message)
    return redirect(reverse("dunning:case", args=[case.pk]) + "#limitation")
