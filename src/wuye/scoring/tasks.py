"""Background work of scoring (django-tasks): thin wrappers around ``services``. Schedule
``scoring_train_all`` once a week (Sunday night, after the daily dunning run) — see
docs/operations/scoring.md; the daily run queues the rescoring of the open cases by itself
(``after_dunning_run``, listed in WUYE_AFTER_DUNNING_RUN)."""

from __future__ import annotations

import logging

from django_tasks import task

logger = logging.getLogger(__name__)


@task(queue_name="long")
def scoring_train_project(project_id: int, user_id: int | None = None) -> dict:
    """Retrains one project's model on its history and rescores its open cases."""
    from wuye.core.errors import ValidationFailed
    from wuye.core.models import Project, User
    from wuye.scoring.services import score_project, scoring_train

    project = Project.objects.get(pk=project_id)
    user = User.objects.filter(pk=user_id).first() if user_id else None
    try:
        model = scoring_train(project=project, user=user)
    except ValidationFailed as exc:
        # Too little history: the project stays on the cold-start order, its cases scored so.
        score_project(project_id=project_id)
        return {"project": project_id, "trained": False, "message": exc.message}
    return {
        "project": project_id,
        "trained": True,
        "model": model.pk,
        "active": model.is_active,
        "auc": model.auc,
        "brier": model.brier,
        "baseline": model.baseline,
    }


@task(queue_name="long")
def scoring_train_all() -> dict:
    """Queues the weekly retraining of every active project."""
    from wuye.core.models import Project

    ids = list(Project.objects.filter(is_active=True).values_list("id", flat=True))
    for project_id in ids:
        scoring_train_project.enqueue(project_id)
    return {"projects": len(ids)}


@task(queue_name="long")
def scoring_score_project(project_id: int, on: str | None = None) -> dict:
    """Scores the open cases of one project (after its daily dunning run)."""
    import datetime

    from wuye.scoring.services import score_project

    day = datetime.date.fromisoformat(on) if on else None
    return {"project": project_id, "scored": score_project(project_id=project_id, on=day)}


def after_dunning_run(*, project_id: int, on) -> None:
    """``WUYE_AFTER_DUNNING_RUN`` hook: queues the scoring of the project's open cases, so the run
    (and the daily chain after it) does not wait for it — 30 s for a company of 200,000 cases in
    arrears. Until it has run, today's list scores the cases it shows that have no score yet."""
    try:
        scoring_score_project.enqueue(project_id, on.isoformat() if on else None)
    except Exception:  # the run stands; the list scores unscored cases on the fly
        logger.exception("scoring: queueing the scoring of project %s failed", project_id)
