"""Argument parsing shared by the alerts commands."""

from __future__ import annotations

import datetime

from django.core.management.base import CommandError

from wuye.core.models import Project


def parse_day(value: str | None) -> datetime.date | None:
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError("--on 格式应为 YYYY-MM-DD") from exc


def projects(wanted: str | None) -> list[Project]:
    """Every active project, or the one named by code or id."""
    if not wanted:
        return list(Project.objects.filter(is_active=True).order_by("code"))
    found = list(
        Project.objects.filter(code=wanted)
        or Project.objects.filter(pk=int(wanted) if wanted.isdigit() else -1)
    )
    if not found:
        raise CommandError(f"找不到项目：{wanted}")
    return found
