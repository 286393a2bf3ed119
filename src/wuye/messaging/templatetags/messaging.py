from django import template
from django.urls import reverse
from django.utils import timezone

from wuye.messaging.rendering import DEFAULT_DEADLINE_DAYS, default_deadline
from wuye.messaging.selectors import points_context

register = template.Library()


@register.inclusion_tag("messaging/_talking_points_list.html", takes_context=True)
def talking_points(context, case, open_=False, actions=False):
    """The talking points of ``case``: open on the case page; on today's cards closed and fetched
    when the steward opens them (``views.talking_points``) — a list of dozens of cards carries none
    of their text, and reads none of it."""
    request = context.get("request")
    if not open_:
        return {"case": case, "lazy": True, "fetch": _points_url(request, case.pk)}
    return {
        "case": case,
        "open": True,
        "actions": actions and case.state == "open",
        "request": request,
        "default_deadline": default_deadline(timezone.localdate()),
        "default_deadline_days": DEFAULT_DEADLINE_DAYS,
        **points_context(case),
    }


def _points_url(request, case_id: int) -> str:
    """Where a card fetches its points. Reversed once per request: today's list has dozens of cards,
    and ``reverse`` costs more than the rest of the tag."""
    pattern = getattr(request, "_wuye_points_url", None)
    if pattern is None:
        pattern = reverse("messaging:talking_points", args=[0]).replace("/0/", "/{}/")
        if request is not None:
            request._wuye_points_url = pattern
    return pattern.format(case_id)
