"""Alerts pages: the 经验库 (talking points per refusal reason with the project's success stories),
marking a closed case as a success story, the warnings page and the household's courtesy messages.
Views check access and render; writes go through ``services``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from wuye.alerts import selectors, services
from wuye.alerts.forms import AcknowledgeForm, SuccessStoryForm, WarningFilterForm
from wuye.core import roles
from wuye.core.errors import WuyeError
from wuye.core.scope import can_see_phones, project_ids_for
from wuye.dunning.enums import RefusalReason
from wuye.dunning.page_parts import case_in_scope, current_project, role_for
from wuye.messaging.selectors import talking_point_table
from wuye.registry.models import Room


@login_required
@require_GET
def stories(request):
    """话术与经验库: for each refusal reason, the talking point and the stories that worked."""
    project = current_project(request)
    role_for(request, project.pk, roles.CASE_WORKER_ROLES, "查看经验库")
    table = talking_point_table(project.company_id, project.pk)
    by_reason = selectors.stories_by_reason(project.pk, limit=20)
    sections = [
        {
            "key": reason,
            "label": label,
            "point": table[reason],
            "stories": by_reason.get(reason, []),
        }
        for reason, label in RefusalReason.choices
    ]
    return render(
        request,
        "alerts/stories.html",
        {"sections": sections, "general": by_reason.get("", [])},
    )


@login_required
@require_POST
def story_create(request, case_id: int):
    case = case_in_scope(request, case_id)
    form = SuccessStoryForm(request.POST)
    if not form.is_valid():
        messages.error(request, next(iter(form.errors.values()))[0])
    else:
        try:
            services.success_story_create(user=request.user, case=case, **form.cleaned_data)
            messages.success(request, "已保存为成功案例，其他管家会在相应话术旁看到")
        except WuyeError as exc:
            messages.error(request, exc.message)
    return redirect(reverse("dunning:case", args=[case.pk]) + "#success-story")


# --- warnings ------------------------------------------------------------------------------------

WARNINGS_PAGE = 50


@login_required
@require_GET
def warnings(request):
    """预警: the project's warnings with filters; each links to its case (or household)."""
    project = current_project(request)
    role_for(request, project.pk, roles.CASE_OVERSEER_ROLES, "查看预警")
    form = WarningFilterForm(request.GET or None)
    kind, state = "", "open"
    if form.is_valid():
        kind = form.cleaned_data["kind"]
        state = form.cleaned_data["state"] or "open"
    rows = selectors.warnings_in([project.pk], kind=kind, state=state)
    page = Paginator(rows, WARNINGS_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "alerts/warnings.html",
        {
            "page": page,
            "form": form if form.is_bound else WarningFilterForm(),
            "kind": kind,
            "state": state,
            "ack_form": AcknowledgeForm(),
        },
    )


@login_required
@require_POST
def acknowledge(request, warning_id: int):
    """Acknowledges one warning with a note; htmx swaps the row, a plain post goes back to the list."""
    warning = selectors.warning_in(project_ids_for(request.user), warning_id)
    if warning is None:
        raise Http404("预警不存在或不在您的项目范围内")
    role_for(request, warning.project_id, roles.CASE_OVERSEER_ROLES, "确认预警")
    form = AcknowledgeForm(request.POST)
    error = ""
    if not form.is_valid():
        error = next(iter(form.errors.values()))[0]
    else:
        try:
            warning = services.warning_acknowledge(
                user=request.user, warning=warning, note=form.cleaned_data["note"]
            )
        except WuyeError as exc:
            error = exc.message
    if request.htmx:
        warning = selectors.warning_in([warning.project_id], warning.pk)
        return render(
            request,
            "alerts/_warning_row.html",
            {"w": warning, "error": error, "ack_form": form if error else AcknowledgeForm()},
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, "已确认预警")
    return redirect(reverse("alerts:warnings"))


# --- the household's reminders and thanks ------------------------------------------------------------

HOUSEHOLD_MESSAGES = 30


@login_required
@require_GET
def household_messages(request, room_id: int):
    """The reminders and thank-you messages of a household (loaded by htmx on the household page)."""
    room = (
        Room.objects.filter(pk=room_id, project_id__in=project_ids_for(request.user))
        .select_related("project")
        .first()
    )
    if room is None:
        raise Http404("房屋不存在或不在您的项目范围内")
    return render(
        request,
        "alerts/_household_messages.html",
        {
            "room": room,
            "rows": selectors.courtesy_of_room(room.pk, HOUSEHOLD_MESSAGES),
            "show_phones": can_see_phones(request.user, room.project_id),
        },
    )
