"""Template tags that let lower apps' pages show alerts content (the same way the household page
includes the ledger): the success-story box on the case page and the stories beside the talking
points of a refusal reason."""

from __future__ import annotations

from django import template

from wuye.alerts.forms import SuccessStoryForm
from wuye.alerts.models import SuccessStory
from wuye.alerts.selectors import stories_by_reason
from wuye.core import roles
from wuye.core.scope import role_in
from wuye.dunning.enums import CaseState, RefusalReason
from wuye.dunning.models import ContactRecord

register = template.Library()


def _stories(request, project_id: int) -> dict[str, list[SuccessStory]]:
    # Today's list shows dozens of cards of one project: read its stories once per request.
    cache = getattr(request, "_wuye_stories", None)
    if cache is None:
        cache = {}
        if request is not None:
            request._wuye_stories = cache
    if project_id not in cache:
        cache[project_id] = stories_by_reason(project_id)
    return cache[project_id]


@register.inclusion_tag("alerts/_stories_for_points.html", takes_context=True)
def stories_for_points(context, points, project_id):
    """Success stories of the refusal reasons among ``points`` (talking points keyed by class or
    reason)."""
    reasons = [p.key for p in points if p.key in RefusalReason.values]
    if not reasons:  # most cards: no refusal, no query
        return {"groups": []}
    table = _stories(context.get("request"), project_id)
    return {"groups": [(RefusalReason(r).label, table[r]) for r in reasons if table.get(r)]}


@register.inclusion_tag("alerts/_success_story_box.html", takes_context=True)
def success_story_box(context, case):
    """The case page's box: the story if there is one, the form if this user may add it."""
    request = context.get("request")
    story = SuccessStory.objects.filter(case=case).select_related("by").first()
    can_mark = False
    if request is not None and story is None and case.state == CaseState.CLOSED:
        role = role_in(request.user, case.project_id)
        can_mark = role in roles.CASE_SUPERVISOR_ROLES or (
            role is not None and case.assignee_id == request.user.pk
        )
    form = None
    if can_mark:
        last_reason = (
            ContactRecord.objects.filter(case=case)
            .exclude(refusal_reason="")
            .order_by("-at", "-id")
            .values_list("refusal_reason", flat=True)
            .first()
        )
        form = SuccessStoryForm(initial={"refusal_reason": last_reason or ""})
    return {"case": case, "story": story, "form": form, "request": request}
