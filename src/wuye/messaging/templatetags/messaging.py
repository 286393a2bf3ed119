from django import template
from django.utils import timezone

from wuye.core import hooks
from wuye.core.models import Project
from wuye.messaging.rendering import DEFAULT_DEADLINE_DAYS, default_deadline
from wuye.messaging.selectors import talking_point_table, talking_points_for

register = template.Library()


@register.inclusion_tag("messaging/_talking_points_list.html", takes_context=True)
def talking_points(context, case, open_=False, actions=False):
    """The talking points of ``case``. Today's list shows dozens of cards: the project's table is
    read once per request and kept on it."""
    request = context.get("request")
    tables = getattr(request, "_wuye_talking_points", None)
    if tables is None:
        tables = {}
        if request is not None:
            request._wuye_talking_points = tables
    if case.project_id not in tables:
        company_id = Project.objects.values_list("company_id", flat=True).get(pk=case.project_id)
        tables[case.project_id] = talking_point_table(company_id, case.project_id)
    return {
        "case": case,
        "points": talking_points_for(case, tables[case.project_id]),
        "open": open_,
        "actions": actions and case.state == "open",
        "request": request,
        "default_deadline": default_deadline(timezone.localdate()),
        "default_deadline_days": DEFAULT_DEADLINE_DAYS,
        "panels": hooks.panels("WUYE_TALKING_POINT_PANELS"),
    }
