"""Background work of dunning: thin wrappers around ``services`` (django-tasks; the ORM queue by
default). Schedule ``dunning_run_all`` once a day (early morning, after the night's billing and
bank imports) — see docs/operations/dunning.md."""

from __future__ import annotations

import datetime

from django_tasks import task


@task()
def dunning_run_project(project_id: int, on: str | None = None) -> dict:
    """The daily dunning run of one project (``on`` as YYYY-MM-DD, default today)."""
    from wuye.core.models import Project
    from wuye.dunning.daily_run import dunning_run

    project = Project.objects.get(pk=project_id)
    day = datetime.date.fromisoformat(on) if on else None
    return dunning_run(project=project, on=day).as_dict()


@task()
def dunning_run_all(on: str | None = None) -> dict:
    """Queues the daily run of every active project."""
    from wuye.core.models import Project

    ids = list(Project.objects.filter(is_active=True).values_list("id", flat=True))
    for project_id in ids:
        dunning_run_project.enqueue(project_id, on)
    return {"projects": len(ids)}
