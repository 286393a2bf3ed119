"""The early warnings block of the dunning daily report (``WUYE_DAILY_REPORT_SECTIONS``)."""

from __future__ import annotations

from django.db.models import Count, Q

from wuye.alerts import WarningKind
from wuye.alerts.models import Warning
from wuye.dunning.reports import Period, ReportSection

OPEN_SHOWN = 20


def daily_section(*, project_ids: list[int], period: Period) -> ReportSection:
    """Warnings raised in the period, by kind (raised / still open), and the open ones, newest first.
    Two queries."""
    rows = Warning.objects.filter(
        project_id__in=list(project_ids),
        raised_on__gte=period.start,
        raised_on__lte=period.end,
    )
    counts = {
        r["kind"]: r
        for r in rows.order_by()
        .values("kind")
        .annotate(n=Count("id"), open=Count("id", filter=Q(acknowledged_at__isnull=True)))
    }
    by_kind = [
        (label, counts.get(kind, {}).get("n", 0), counts.get(kind, {}).get("open", 0))
        for kind, label in WarningKind.choices
    ]
    still_open = list(
        rows.filter(acknowledged_at__isnull=True)
        .select_related("room", "case")
        .order_by("-raised_on", "-amount", "-id")[:OPEN_SHOWN]
    )
    return ReportSection(
        title="预警",
        template="alerts/_report_section.html",
        context={
            "by_kind": by_kind,
            "total": sum(n for _, n, _ in by_kind),
            "open": still_open,
            "shown": OPEN_SHOWN,
        },
    )
