"""What the dunning pages share: the current project and the viewer's role, a case in the viewer's
scope (a case of another project is a 404, and so is another steward's case for a steward), the cards
the apps above dunning show on its pages, the staff member a form chose, and the contact form with its
refusal box (on today's cards and on the case page).

The pages themselves are named for their screen: ``today_views`` (今日催缴, 登记结果), ``case_views``
(案件页面), ``supervisor_views`` (催缴案件列表, 每日检查, 催缴日报), ``limitation_views`` (诉讼时效,
证据包), ``assignment_views`` (均衡分案, 清欠任务单). Views check access and render; every write goes
through the services (``casework``, ``contacts``, ``legal_stage``, ``assignment``, ``limitation``).
"""

from __future__ import annotations

from django.http import Http404

from wuye.core import hooks, roles
from wuye.core.errors import WuyeError
from wuye.core.models import User
from wuye.core.scope import access_role, project_ids_for
from wuye.dunning import hours, selectors
from wuye.dunning.enums import VOICE_CHANNELS, Channel
from wuye.dunning.forms import OUTCOMES, REACHED_BUTTONS, UNREACHED_BUTTONS, ContactForm
from wuye.dunning.models import ArrearsCase
from wuye.registry.models import LegacyIssue


def role_for(request, project_id: int, allowed: frozenset, doing: str):
    return access_role(request.user, project_id, allowed, doing)


def current_project(request):
    if not request.project:
        raise Http404("没有可用的项目")
    return request.project


def case_in_scope(request, case_id: int, related: tuple[str, ...] = ()) -> ArrearsCase:
    case = (
        selectors.cases_in(project_ids_for(request.user))
        .filter(pk=case_id)
        .select_related("account__payer", "room", *related)
        .first()
    )
    if case is None:
        raise Http404("案件不存在或不在您的项目范围内")
    role = role_for(request, case.project_id, roles.CASE_WORKER_ROLES, "查看催缴案件")
    if role in roles.OWN_CASES_ONLY_ROLES and case.assignee_id != request.user.pk:
        raise Http404("案件不存在或不由您负责")
    return case


# The cards apps above dunning show on its pages, by position (settings, decision 0016): dunning's
# templates name none of them.
PANELS = {
    "case_header_panels": "WUYE_CASE_HEADER_PANELS",
    "case_panels": "WUYE_CASE_PANELS",
    "case_footer_panels": "WUYE_CASE_FOOTER_PANELS",
    "contact_panels": "WUYE_CONTACT_PANELS",
    "task_panels": "WUYE_TASK_PANELS",
}


def panels() -> dict[str, list[str]]:
    return {name: hooks.panels(setting) for name, setting in PANELS.items()}


def chosen_worker(project_id: int, user_id: int | None) -> User | None:
    if not user_id:
        return None
    found = next((u for u in selectors.workers_of(project_id) if u.pk == user_id), None)
    if found is None:
        raise WuyeError("请选择本项目的员工", field="assignee")
    return found


def contact_form_context(case: ArrearsCase, form: ContactForm | None = None, error=None) -> dict:
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
        "refusal": contact_refusal(case, form, error, today_hours) if error else None,
        "unreached_buttons": [(k, OUTCOMES[k][0]) for k in UNREACHED_BUTTONS],
        "reached_buttons": [(k, OUTCOMES[k][0]) for k in REACHED_BUTTONS],
    }


def contact_refusal(
    case, form: ContactForm, error, today_hours, *, files_lost: bool = False
) -> dict:
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
