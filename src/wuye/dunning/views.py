"""Dunning pages: 我的今日催缴 (phone-sized), the case file, the supervisor's case list and daily check.

Views check access and render; every write goes through ``services``. A case of another project is a
404, and so is another steward's case for a steward (stewards see only their own cases).
"""

from __future__ import annotations

import datetime
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from wuye.core import hooks, uploads
from wuye.core.dates import date_param
from wuye.core.errors import ValidationFailed, WuyeError
from wuye.core.models import User
from wuye.core.scope import access_role, can_see_phones, project_ids_for, role_in
from wuye.dunning import (
    assignment,
    casework,
    contacts,
    holds,
    hours,
    legal_stage,
    limitation,
    reports,
    selectors,
)
from wuye.dunning.access import (
    OVERSEER_ROLES,
    OWN_CASES_ONLY,
    SUPERVISOR_ROLES,
    WORKER_ROLES,
    sees_case_phones,
)
from wuye.dunning.enums import VOICE_CHANNELS, CaseClass, Channel, Stage
from wuye.dunning.forms import (
    OUTCOMES,
    REACHED_BUTTONS,
    UNREACHED_BUTTONS,
    CaseFilterForm,
    ClassForm,
    ContactForm,
    ReassignForm,
    StageForm,
    first_error,
)
from wuye.dunning.models import (
    ArrearsCase,
    ContactAttachment,
    ContactRecord,
    DunningRun,
    InterruptionKind,
)
from wuye.dunning.rules import DEFENCE_REFUSALS
from wuye.registry.models import LegacyIssue, Phone, Room

TODAY_PAGE = 50


def _role(request, project_id: int, allowed: frozenset, doing: str):
    return access_role(request.user, project_id, allowed, doing)


def _project(request):
    if not request.project:
        raise Http404("没有可用的项目")
    return request.project


def _case_in_scope(request, case_id: int, related: tuple[str, ...] = ()) -> ArrearsCase:
    case = (
        selectors.cases_in(project_ids_for(request.user))
        .filter(pk=case_id)
        .select_related("account__payer", "room", *related)
        .first()
    )
    if case is None:
        raise Http404("案件不存在或不在您的项目范围内")
    role = _role(request, case.project_id, WORKER_ROLES, "查看催缴案件")
    if role in OWN_CASES_ONLY and case.assignee_id != request.user.pk:
        raise Http404("案件不存在或不由您负责")
    return case


def _form_context(case: ArrearsCase, form: ContactForm | None = None, error=None) -> dict:
    """The contact form and what it needs: the channels the owner allows, today's contact hours, and
    a refusal (``error``: field, message[, code]) shown next to the buttons with what to do next."""
    # An owner who asked for written contact only is never offered a call or a visit (LAW.md §8).
    written_only = case.account.payer.written_contact_only
    form = form or ContactForm(initial={"channel": Channel.SMS if written_only else Channel.PHONE})
    if written_only:
        form.fields["channel"].choices = [
            (value, label)
            for value, label in form.fields["channel"].choices
            if value not in VOICE_CHANNELS
        ]
    today_hours = hours.contact_hours(case.project_id)
    return {
        "room_issues": list(
            LegacyIssue.objects.filter(room_id=case.room_id).order_by("-reported_on", "-id")
        ),
        "form": form,
        "hours": today_hours,
        "error_field": error[0] if error else None,
        "error": error[1] if error else "",
        "refusal": _refusal(case, form, error, today_hours) if error else None,
        "unreached_buttons": [(k, OUTCOMES[k][0]) for k in UNREACHED_BUTTONS],
        "reached_buttons": [(k, OUTCOMES[k][0]) for k in REACHED_BUTTONS],
    }


def _refusal(case, form: ContactForm, error, today_hours, *, files_lost: bool = False) -> dict:
    """A refused contact as the form shows it beside the buttons: the field at fault, the message
    and the steps the steward can take instead (issue 17 item 1)."""
    field, message, code = (*error, "")[:3]
    channel = form.data.get("channel", "") if form.is_bound else ""
    backdated = form.is_bound and bool(form.data.get("at"))
    if code == "dunning.outside_hours" and not backdated:
        field = "channel"  # a contact now, at the wrong hour: the way out is another channel
    return {
        "field": field or "",
        "message": message,
        # What to do instead is said of a contact now; a backdated one is fixed in its own field.
        "steps": []
        if backdated
        else hours.next_steps(
            code, channel, today_hours, written_only=case.account.payer.written_contact_only
        ),
        "files_lost": files_lost,
    }


# The cards apps above dunning show on its pages, by position (settings, decision 0016): dunning's
# templates name none of them.
PANELS = {
    "case_header_panels": "WUYE_CASE_HEADER_PANELS",
    "case_panels": "WUYE_CASE_PANELS",
    "case_footer_panels": "WUYE_CASE_FOOTER_PANELS",
    "contact_panels": "WUYE_CONTACT_PANELS",
    "task_panels": "WUYE_TASK_PANELS",
}


def _panels() -> dict[str, list[str]]:
    return {name: hooks.panels(setting) for name, setting in PANELS.items()}


# --- today ---------------------------------------------------------------------------------------


@login_required
@require_GET
def today(request):
    project = _project(request)
    _role(request, project.pk, WORKER_ROLES, "使用今日催缴")
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
        **_panels(),
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
            **_form_context(case),
            **_panels(),
        },
    )


@login_required
@require_GET
def contact_form(request, case_id: int):
    """The contact form of one card, fetched when the steward taps 登记结果 (today's list stays light:
    hundreds of cards, one form)."""
    case = _case_in_scope(request, case_id)
    case = selectors.today_card(case.pk, timezone.localdate())
    return render(
        request,
        "dunning/_contact_form.html",
        {
            "case": case,
            "from_today": True,
            "show_phones": sees_case_phones(request.user, case),
            **_form_context(case),
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
    case = _case_in_scope(request, case_id)
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
            refusal = _refusal(case, form, error, hours.contact_hours(case.project_id))
            response = render(request, "dunning/_refusal.html", {"refusal": refusal, "case": case})
            response["HX-Retarget"] = f"#refusal-{case.pk}"
            response["HX-Reswap"] = "innerHTML"
            return response
        return _case_page(
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


@login_required
@require_POST
def link_issue(request, case_id: int):
    """The steward links a legacy issue of the room to the case (kept for good)."""
    case = _case_in_scope(request, case_id)
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
    if role not in WORKER_ROLES:
        return render(request, "dunning/_household_panel.html", {"room": room, "allowed": False})
    data = selectors.household_dunning(
        room.pk,
        project_ids,
        only_assignee=request.user.pk if role in OWN_CASES_ONLY else None,
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


# --- the case file -------------------------------------------------------------------------------


@login_required
@require_GET
def case(request, case_id: int):
    return _case_page(request, _case_in_scope(request, case_id))


def _case_page(request, found, *, form=None, error=None, files_lost=False, status=200):
    data = selectors.case_file(found.pk, project_ids_for(request.user))
    role = role_in(request.user, found.project_id)
    on = timezone.localdate()
    case = data.case
    context = _form_context(case, form, error)
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
            "is_supervisor": role in SUPERVISOR_ROLES,
            "workers": selectors.workers_of(case.project_id) if role in SUPERVISOR_ROLES else [],
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
            "recovery": assignment.recovery_box(case, on) if role in SUPERVISOR_ROLES else None,
            "bank_hold": holds.hold_of(case) if case.is_open else "",
            **_panels(),
            **context,
        },
        status=status,
    )


def _case_post(request, case_id: int, form_class, action, success: str):
    case = _case_in_scope(request, case_id, ("assignee",))
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


def _assignee(project_id: int, user_id: int | None) -> User | None:
    if not user_id:
        return None
    found = next((u for u in selectors.workers_of(project_id) if u.pk == user_id), None)
    if found is None:
        raise WuyeError("请选择本项目的员工", field="assignee")
    return found


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
            assignee=_assignee(case.project_id, d["assignee"]),
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
    _case_in_scope(request, found.contact.case_id)
    return uploads.file_response(found.file, filename=found.original_name)


# --- the supervisor's pages ----------------------------------------------------------------------


@login_required
def cases(request):
    project = _project(request)
    role = _role(request, project.pk, OVERSEER_ROLES, "查看催缴案件列表")
    on = timezone.localdate()
    workers = selectors.workers_of(project.pk)
    if request.method == "POST":
        if role not in SUPERVISOR_ROLES:
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
                    assignee=_assignee(project.pk, form.cleaned_data["assignee"]),
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
            "can_assign": role in SUPERVISOR_ROLES,
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
    project = _project(request)
    _role(request, project.pk, SUPERVISOR_ROLES, "启动催缴跑批")
    from wuye.dunning.tasks import dunning_run_project

    dunning_run_project.enqueue(project.pk)
    messages.success(request, "已提交催缴跑批，完成后刷新本页即可看到结果")
    return redirect("dunning:cases")


@login_required
@require_GET
def check(request):
    project = _project(request)
    _role(request, project.pk, OVERSEER_ROLES, "查看每日检查")
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
    project = _project(request)
    _role(request, project.pk, OVERSEER_ROLES, "查看催缴日报")
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


# --- limitation, evidence, rebalancing, recovery orders ------------------------------------------


@login_required
@require_GET
def limitation_alerts(request):
    project = _project(request)
    _role(request, project.pk, OVERSEER_ROLES, "查看诉讼时效预警")
    within = max(limitation.ALERT_DAYS)
    rows = limitation.cases_near_deadline([project.pk], timezone.localdate(), within)
    return render(request, "dunning/limitation.html", {"rows": rows, "within": within})


@login_required
@require_GET
def evidence_zip(request, case_id: int):
    """Personal information for the lawyer: scoped like the case page, and every export audited."""
    from wuye.dunning.evidence import evidence_export

    found = _case_in_scope(request, case_id)
    export = evidence_export(user=request.user, case=found)
    response = HttpResponse(export.content, content_type="application/zip")
    response["Content-Disposition"] = (
        f"attachment; filename=evidence-{found.pk}.zip; filename*=UTF-8''{quote(export.filename)}"
    )
    return uploads.protect(response)


@login_required
def rebalance(request):
    """均衡分案: GET previews the moves, POST applies exactly the previewed plan with a reason."""
    project = _project(request)
    _role(request, project.pk, SUPERVISOR_ROLES, "均衡分案")
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

    project = _project(request)
    _role(request, project.pk, OVERSEER_ROLES, "查看清欠任务单")
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

    case = _case_in_scope(request, case_id)
    try:
        create(case, None)
        messages.success(request, "已下达清欠任务单")
    except WuyeError as exc:
        messages.error(request, exc.message)
    return redirect(reverse("dunning:case", args=[case.pk]) + "#recovery")


@login_required
@require_POST
def limitation_record(request, case_id: int):
    case = _case_in_scope(request, case_id)
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
