"""Reads of the alerts app: success stories by refusal reason, warnings, courtesy messages."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import QuerySet

from wuye.alerts.models import CourtesyMessage, SuccessStory, Warning

STORIES_PER_REASON = 5


def stories_by_reason(
    project_id: int, limit: int = STORIES_PER_REASON
) -> dict[str, list[SuccessStory]]:
    """The newest stories of a project per refusal reason ("" = no particular reason). One query:
    a project keeps tens of stories, not thousands."""
    found: dict[str, list[SuccessStory]] = defaultdict(list)
    rows = SuccessStory.objects.filter(project_id=project_id).select_related("by")
    for story in rows.order_by("-created_at", "-id"):
        if len(found[story.refusal_reason]) < limit:
            found[story.refusal_reason].append(story)
    return dict(found)


def warnings_in(
    project_ids: list[int], *, kind: str = "", state: str = "open"
) -> QuerySet[Warning]:
    """The warnings page: newest first, everything a row shows loaded with it (no query per row)."""
    rows = Warning.objects.filter(project_id__in=project_ids).select_related(
        "room", "account__payer", "case__assignee", "acknowledged_by"
    )
    if kind:
        rows = rows.filter(kind=kind)
    if state == "open":
        rows = rows.filter(acknowledged_at__isnull=True)
    elif state == "acknowledged":
        rows = rows.filter(acknowledged_at__isnull=False)
    return rows.order_by("-raised_on", "-amount", "-id")


def warning_in(project_ids: list[int], warning_id: int) -> Warning | None:
    return warnings_in(project_ids, state="all").filter(pk=warning_id).first()


def courtesy_of_room(room_id: int, limit: int) -> list[CourtesyMessage]:
    """The newest reminders and thanks of a room, with the bills each reminded. Two queries."""
    return list(
        CourtesyMessage.objects.filter(room_id=room_id)
        .select_related("payment")
        .prefetch_related("bills__bill__fee_item")
        .order_by("-created_at", "-id")[:limit]
    )
