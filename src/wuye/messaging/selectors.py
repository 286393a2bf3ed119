"""Reads: the talking points of a case, the template of a kind, the outbox."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from wuye.dunning.enums import CaseClass
from wuye.dunning.models import ArrearsCase, ContactRecord
from wuye.messaging import defaults
from wuye.messaging.models import MessageTemplate, OutboxMessage, TalkingPoint


@dataclass(frozen=True)
class Point:
    key: str  # a class ("A") or a refusal reason ("leak")
    title: str
    body: str


def _rows(model, company_id: int, project_id: int) -> QuerySet:
    # Company rows first, project rows last: iterating into a dict lets the project's win.
    return model.objects.filter(
        Q(project__isnull=True, company_id=company_id) | Q(project_id=project_id)
    ).order_by("project_id", "id")


def talking_point_table(company_id: int, project_id: int) -> dict[str, Point]:
    """Every talking point of a project keyed by class or refusal reason: defaults, overridden by the
    company's rows, overridden by the project's. One query."""
    table = {k: Point(k, t, b) for k, (t, b) in defaults.CLASS_POINTS.items()}
    table |= {k: Point(k, t, b) for k, (t, b) in defaults.REASON_POINTS.items()}
    company_rows, project_rows = [], []
    for row in _rows(TalkingPoint, company_id, project_id):
        (project_rows if row.project_id else company_rows).append(row)
    for row in company_rows + project_rows:
        key = row.case_class or row.refusal_reason
        table[key] = Point(key, row.title, row.body)
    return table


def last_refusal(case: ArrearsCase) -> str:
    if case.case_class != CaseClass.E:
        return ""
    # Today's cards come with their latest contact loaded: usually the refusal itself, no query.
    latest = getattr(case, "last_contact", None)
    if latest is not None and latest.refusal_reason:
        return latest.refusal_reason
    return (
        ContactRecord.objects.filter(case=case)
        .exclude(refusal_reason="")
        .order_by("-at", "-id")
        .values_list("refusal_reason", flat=True)
        .first()
        or ""
    )


def talking_points_for(case: ArrearsCase, table: dict[str, Point] | None = None) -> list[Point]:
    """What to say to this household: the point of its class (B's opener while unclassified), the
    point of its latest refusal reason for class E, and how to pay from afar."""
    if table is None:
        table = talking_point_table(case.project.company_id, case.project_id)
    points = [table[case.case_class or CaseClass.B]]
    if reason := last_refusal(case):
        points.append(table[reason])
    if case.case_class != CaseClass.D:
        points.append(Point("remote", "远程缴费方式", defaults.REMOTE_PAYMENT))
    return points


def template_for(company_id: int, project_id: int, kind: str) -> tuple[str, str]:
    """(title, body) of the template of ``kind``: the project's row, else the company's, else the
    default."""
    found = defaults.TEMPLATES[kind]
    for row in _rows(MessageTemplate, company_id, project_id).filter(kind=kind):
        found = (row.title, row.body)
    return found


def outbox(project_ids, status: str = "") -> QuerySet[OutboxMessage]:
    rows = OutboxMessage.objects.filter(project_id__in=project_ids).select_related(
        "case__room", "by"
    )
    return rows.filter(status=status) if status else rows
