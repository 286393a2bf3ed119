"""The case page (催缴案件): the case file, its class, assignee and stage, the linked legacy issues
and the evidence attached to contacts; and the 催缴记录 card on the household page (一户一档).
See docs/user/催缴案件.md."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from wuye.core import roles, uploads
from wuye.core.errors import WuyeError
from wuye.core.scope import can_see_phones, project_ids_for, role_in
from wuye.dunning import assignment, casework, contacts, holds, legal_stage, limitation, selectors
from wuye.dunning.access import sees_case_phones
from wuye.dunning.enums import CaseClass, Stage
from wuye.dunning.forms import ClassForm, ReassignForm, StageForm, first_error
from wuye.dunning.models import ContactAttachment, InterruptionKind
from wuye.dunning.page_parts import case_in_scope, chosen_worker, contact_form_context, panels
from wuye.dunning.rules import DEFENCE_REFUSALS
from wuye.registry.models import LegacyIssue, Room


@login_required
@require_GET
def case(request, case_id: int):
    return case_page(request, case_in_scope(request, case_id))


def case_page(request, found, *, form=None, error=None, files_lost=False, status=200):
    data = selectors.case_file(found.pk, project_ids_for(request.user))
    role = role_in(request.user, found.project_id)
    on = timezone.localdate()
    case = data.case
    context = contact_form_context(case, form, error)
    if context["refusal"] is not None:
        context["refusal"]["files_lost"] = files_lost
    return render(
        request,
        "dunning/case.html",
        {
            "f": data,
            "case": case,
            "on": on,
            "show_phones": sees_case_phones(request.user, case),
            "is_supervisor": role in roles.CASE_SUPERVISOR_ROLES,
            "workers": selectors.workers_of(case.project_id)
            if role in roles.CASE_SUPERVISOR_ROLES
            else [],
            "class_choices": CaseClass.choices,
            "stage_choices": [
                s
                for s in Stage.choices
                if list(Stage.values).index(s[0]) > list(Stage.values).index(case.stage)
            ],
            "defence": any(c.refusal_reason in DEFENCE_REFUSALS for c in data.contacts),
            "task_overdue": case.next_action_due is not None and case.next_action_due < on,
            "clock": limitation.case_clock(case, on),
            "payment_order": limitation.payment_order_allowed(case),
            "interruption_kinds": InterruptionKind.choices,
            "recovery": assignment.recovery_box(case, on)
            if role in roles.CASE_SUPERVISOR_ROLES
            else None,
            "bank_hold": holds.hold_of(case) if case.is_open else "",
            **panels(),
            **context,
        },
        status=status,
    )


def _case_post(request, case_id: int, form_class, action, success: str):
    case = case_in_scope(request, case_id, ("assignee",))
    form = form_class(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form)[1])
    else:
        try:
            action(case, form.cleaned_data)
            messages.success(request, success)
        except WuyeError as exc:
            messages.error(request, exc.message)
    return redirect(reverse("dunning:case", args=[case.pk]))


@login_required
@require_POST
def set_class(request, case_id: int):
    return _case_post(
        request,
        case_id,
        ClassForm,
        lambda case, d: casework.case_set_class(
            user=request.user, case=case, case_class=d["case_class"], reason=d["reason"]
        ),
        "已调整分类",
    )


@login_required
@require_POST
def reassign(request, case_id: int):
    return _case_post(
        request,
        case_id,
        ReassignForm,
        lambda case, d: assignment.case_reassign(
            user=request.user,
            case=case,
            assignee=chosen_worker(case.project_id, d["assignee"]),
            reason=d["reason"],
        ),
        "已重新分配",
    )


@login_required
@require_POST
def set_stage(request, case_id: int):
    return _case_post(
        request,
        case_id,
        StageForm,
        lambda case, d: legal_stage.case_set_stage(
            user=request.user,
            case=case,
            stage=d["stage"],
            reason=d["reason"],
            deadline=d["deadline"],
        ),
        "已推进阶段",
    )


@login_required
@require_GET
def attachment(request, attachment_id: int):
    """Evidence is personal information: served only to staff who may see the case."""
    found = ContactAttachment.objects.filter(pk=attachment_id).select_related("contact").first()
    if found is None:
        raise Http404("附件不存在")
    case_in_scope(request, found.contact.case_id)
    return uploads.file_response(found.file, filename=found.original_name)


@login_required
@require_POST
def link_issue(request, case_id: int):
    """The steward links a legacy issue of the room to the case (kept for good)."""
    case = case_in_scope(request, case_id)
    issue = LegacyIssue.objects.filter(
        pk=request.POST.get("legacy_issue") or 0, room_id=case.room_id
    ).first()
    try:
        if issue is None:
            raise WuyeError("请选择本户的历史遗留问题", field="legacy_issue")
        contacts.case_link_issue(
            user=request.user, case=case, issue=issue, note=request.POST.get("note", "")
        )
    except WuyeError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已关联历史遗留问题")
    return redirect(reverse("dunning:case", args=[case.pk]) + "#linked-issues")


# --- the household file's card --------------------------------------------------------------------


@login_required
@require_GET
def household_panel(request, room_id: int):
    """催缴记录 on the household page (loaded by htmx; listed in ``WUYE_HOUSEHOLD_PANELS``): the
    room's cases and contact records, as far as the viewer may open them."""
    project_ids = project_ids_for(request.user)
    room = Room.objects.filter(pk=room_id, project_id__in=project_ids).first()
    if room is None:
        raise Http404("房屋不存在或不在您的项目范围内")
    role = role_in(request.user, room.project_id)
    if role not in roles.CASE_WORKER_ROLES:
        return render(request, "dunning/_household_panel.html", {"room": room, "allowed": False})
    data = selectors.household_dunning(
        room.pk,
        project_ids,
        only_assignee=request.user.pk if role in roles.OWN_CASES_ONLY_ROLES else None,
    )
    return render(
        request,
        "dunning/_household_panel.html",
        {
            "room": room,
            "allowed": True,
            "d": data,
            "show_phones": can_see_phones(request.user, room.project_id),
            "shown_max": selectors.HOUSEHOLD_CONTACTS,
        },
    )
