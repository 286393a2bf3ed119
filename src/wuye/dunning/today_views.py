"""我的今日催缴 (the steward's phone-sized list of today's cases) and 登记结果: the contact form of a
card and the recording of a contact, from today's list or the case page (docs/user/今日催缴.md)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from wuye.core import roles
from wuye.core.errors import WuyeError
from wuye.dunning import contacts, hours, selectors
from wuye.dunning.access import sees_case_phones
from wuye.dunning.case_views import case_page
from wuye.dunning.forms import ContactForm, first_error
from wuye.dunning.models import ArrearsCase, ContactRecord
from wuye.dunning.page_parts import (
    case_in_scope,
    contact_form_context,
    contact_refusal,
    current_project,
    panels,
    role_for,
)
from wuye.registry.models import LegacyIssue, Phone

TODAY_PAGE = 50


@login_required
@require_GET
def today(request):
    project = current_project(request)
    role_for(request, project.pk, roles.CASE_WORKER_ROLES, "使用今日催缴")
    on = timezone.localdate()
    try:
        number = max(int(request.GET.get("page", "1")), 1)
    except ValueError:
        number = 1
    # A steward works a few dozen cases a day: cards come a page at a time ("再显示"), in order.
    page = selectors.today_page(
        user=request.user, project_id=project.pk, on=on, number=number, size=TODAY_PAGE
    )
    prefix = reverse("dunning:cases")
    for case in page.tasks:
        case.url = f"{prefix}{case.pk}/"
        case.show_phones = sees_case_phones(request.user, case)
    context = {
        "tasks": page.tasks,
        "total": page.total,
        "next_page": page.next_page,
        "on": on,
        "overdue_count": page.overdue_count,
        "hours": hours.contact_hours(project.pk),
        **panels(),
    }
    if request.htmx and number > 1:
        return render(request, "dunning/_task_list.html", context)
    return render(request, "dunning/today.html", context)


def _task_card(request, case: ArrearsCase, *, done=None):
    """Today's card after a recorded contact (a refusal never replaces the card: see ``contact``)."""
    on = timezone.localdate()
    case = selectors.today_card(case.pk, on)
    case.url = reverse("dunning:case", args=[case.pk])
    return render(
        request,
        "dunning/_task.html",
        {
            "case": case,
            "on": on,
            "done": done,
            "show_phones": sees_case_phones(request.user, case),
            **contact_form_context(case),
            **panels(),
        },
    )


@login_required
@require_GET
def contact_form(request, case_id: int):
    """The contact form of one card, fetched when the steward taps 登记结果 (today's list stays light:
    hundreds of cards, one form)."""
    case = case_in_scope(request, case_id)
    case = selectors.today_card(case.pk, timezone.localdate())
    return render(
        request,
        "dunning/_contact_form.html",
        {
            "case": case,
            "from_today": True,
            "show_phones": sees_case_phones(request.user, case),
            **contact_form_context(case),
        },
    )


@login_required
@require_POST
def contact(request, case_id: int):
    """Records a contact from today's list or the case page.

    With the page's script (htmx) a refusal comes back alone, into the form's refusal box beside the
    buttons: the form stays as the steward left it — number, text, chosen photo — and today's card
    stays on the list. A recorded contact returns the card (today's list) or reloads the case page.
    Without the script the case page is rendered again with what was entered."""
    case = case_in_scope(request, case_id)
    form = ContactForm(request.POST)
    error = None
    record = None
    if not form.is_valid():
        error = first_error(form)
    else:
        kwargs = form.service_kwargs()
        try:
            phone = None
            if form.cleaned_data["phone"]:
                phone = Phone.objects.filter(pk=form.cleaned_data["phone"]).first()
                if phone is None:
                    raise WuyeError("号码不存在", field="phone")
            corrects = None
            if form.cleaned_data["corrects"]:
                corrects = ContactRecord.objects.filter(
                    pk=form.cleaned_data["corrects"], case=case
                ).first()
            issue = None
            if form.cleaned_data["legacy_issue"]:
                issue = LegacyIssue.objects.filter(
                    pk=form.cleaned_data["legacy_issue"], room_id=case.room_id
                ).first()
                if issue is None:
                    raise WuyeError("该问题不属于本户", field="legacy_issue")
            record = contacts.contact_record(
                user=request.user,
                case=case,
                phone=phone,
                corrects=corrects,
                legacy_issue=issue,
                attachments=request.FILES.getlist("photos"),
                **kwargs,
            )
        except WuyeError as exc:
            error = (exc.field, exc.message, exc.code)
    if error:
        if request.htmx:
            refusal = contact_refusal(case, form, error, hours.contact_hours(case.project_id))
            response = render(request, "dunning/_refusal.html", {"refusal": refusal, "case": case})
            response["HX-Retarget"] = f"#refusal-{case.pk}"
            response["HX-Reswap"] = "innerHTML"
            return response
        return case_page(
            request, case, form=form, error=error, files_lost=bool(request.FILES), status=400
        )
    if request.htmx and request.POST.get("from") == "today":
        return _task_card(request, case, done=record)
    messages.success(request, "已登记催缴记录")
    target = reverse("dunning:case", args=[case.pk]) + "#contacts"
    if request.htmx:
        response = HttpResponse()
        response["HX-Redirect"] = target
        return response
    return redirect(target)
