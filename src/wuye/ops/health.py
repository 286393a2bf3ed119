"""The health endpoint for a load balancer (/health/): JSON, HTTP 200 when every check passes, 503
otherwise. No login (a load balancer has none) and no business data: only yes/no, ages and sizes.

Checks (``WUYE_HEALTH_CHECKS``, dotted paths of functions returning ``(ok, detail)``):
database (a query answers), task queue (the oldest waiting task is younger than
``WUYE_HEALTH_QUEUE_MAX_SECONDS``), scheduler (it ticked within three ticks), disk (at least
``WUYE_HEALTH_MIN_FREE_MB`` free where evidence files and the SQLite database live).
"""

from __future__ import annotations

import datetime
import logging
import shutil
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from wuye.core.hooks import hooks
from wuye.ops.selectors import beat, beat_is_stale

log = logging.getLogger(__name__)
Check = tuple[bool, dict[str, Any]]


def database() -> Check:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return True, {"vendor": connection.vendor}


def queue_ages() -> dict[str, float]:
    """Seconds the oldest waiting task of each queue has waited (queues with none are left out)."""
    backend = settings.TASKS["default"]["BACKEND"]
    now = timezone.now()
    ages: dict[str, float] = {}
    if backend.startswith("django_tasks_db"):
        from django.db.models import Min
        from django_tasks_db.models import DBTaskResult

        rows = (
            DBTaskResult.objects.filter(status="READY")
            .values("queue_name")
            .annotate(oldest=Min("enqueued_at"))
        )
        for row in rows:
            ages[row["queue_name"]] = (now - row["oldest"]).total_seconds()
    elif backend.startswith("django_tasks_rq"):
        import django_rq

        for name in settings.WUYE_TASK_QUEUES:
            queue = django_rq.get_queue(name)
            ids = queue.get_job_ids(0, 1)
            job = queue.fetch_job(ids[0]) if ids else None
            if job is not None and job.enqueued_at:
                enqueued = job.enqueued_at
                if timezone.is_naive(enqueued):
                    enqueued = enqueued.replace(tzinfo=datetime.UTC)
                ages[name] = (now - enqueued).total_seconds()
    return ages


def queue_depths() -> dict[str, int]:
    """Tasks waiting per queue (the metrics' gauge)."""
    backend = settings.TASKS["default"]["BACKEND"]
    if backend.startswith("django_tasks_db"):
        from django.db.models import Count
        from django_tasks_db.models import DBTaskResult

        rows = (
            DBTaskResult.objects.filter(status="READY").values("queue_name").annotate(n=Count("id"))
        )
        return {r["queue_name"]: r["n"] for r in rows}
    if backend.startswith("django_tasks_rq"):
        import django_rq

        return {name: django_rq.get_queue(name).count for name in settings.WUYE_TASK_QUEUES}
    return {}


def task_queue() -> Check:
    ages = queue_ages()
    oldest = max(ages.values(), default=0.0)
    limit = settings.WUYE_HEALTH_QUEUE_MAX_SECONDS
    return oldest <= limit, {"oldest_seconds": round(oldest), "limit_seconds": limit}


def scheduler() -> Check:
    found = beat()
    if found is None:
        return False, {"last_tick": None, "message": "scheduler never ran"}
    return not beat_is_stale(found), {"last_tick": found.last_tick.isoformat()}


def disk() -> Check:
    limit = settings.WUYE_HEALTH_MIN_FREE_MB
    free = {}
    for name, path in (("media", settings.MEDIA_ROOT), ("var", settings.VAR_DIR)):
        target = path
        while not target.exists() and target != target.parent:
            target = target.parent
        free[name] = shutil.disk_usage(target).free // (1024 * 1024)
    return min(free.values()) >= limit, {"free_mb": free, "limit_mb": limit}


def run_checks() -> tuple[bool, dict[str, dict[str, Any]]]:
    results: dict[str, dict[str, Any]] = {}
    for check in hooks("WUYE_HEALTH_CHECKS"):
        name = check.__name__
        try:
            ok, detail = check()
        except Exception as exc:
            log.warning("health check %s failed: %s", name, exc)
            ok, detail = False, {"error": type(exc).__name__}
        results[name] = {"ok": ok, **detail}
    return all(r["ok"] for r in results.values()), results


@never_cache
@require_GET
def health(request):
    ok, results = run_checks()
    return JsonResponse(
        {"status": "ok" if ok else "fail", "checks": results}, status=200 if ok else 503
    )
