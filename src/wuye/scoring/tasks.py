"""Background work of scoring (django-tasks): thin wrappers around ``services``. Schedule
``scoring_train_all`` once a week (Sunday night, after the daily dunning run) — see
docs/operations/scoring.md; the daily run rescores the open cases by itself (WUYE_AFTER_DUNNING_RUN)."""

from __future__ import annotations

from django_tasks import task


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
