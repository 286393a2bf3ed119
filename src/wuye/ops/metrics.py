"""Prometheus metrics of the tasks and the schedule, beside django-prometheus' request metrics
(``WUYE_METRICS=1``; docs/operations/monitoring.md).

- ``wuye_task_duration_seconds{task,queue}`` (histogram) and ``wuye_task_failures_total{task,queue}``:
  recorded by the process that runs the task (the worker), from django-tasks' signals; a worker
  exposes them on a port of ``WUYE_METRICS_PORTS``.
- ``wuye_task_queue_depth{queue}``, ``wuye_task_queue_oldest_seconds{queue}``,
  ``wuye_schedule_failed_steps`` and ``wuye_scheduler_last_tick_age_seconds``: read from the database
  (or Redis) when scraped, so every process answers the same.
"""

from __future__ import annotations

import logging

from django.utils import timezone
from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily

log = logging.getLogger(__name__)

TASK_SECONDS = Histogram(
    "wuye_task_duration_seconds",
    "Seconds a background task ran",
    ["task", "queue"],
    buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600),
)
TASK_FAILURES = Counter(
    "wuye_task_failures_total", "Background tasks that ended in an error", ["task", "queue"]
)


def _labels(task_result) -> tuple[str, str]:
    task = task_result.task
    return task.module_path, task.queue_name


def on_task_finished(sender, task_result, **kwargs) -> None:
    try:
        name, queue = _labels(task_result)
        started, finished = task_result.started_at, task_result.finished_at
        if started and finished:
            TASK_SECONDS.labels(name, queue).observe((finished - started).total_seconds())
        if str(task_result.status).upper().endswith("FAILED"):
            TASK_FAILURES.labels(name, queue).inc()
    except Exception:  # metrics never break a task
        log.exception("metrics: recording a task failed")


class StateCollector:
    """Figures read at scrape time."""

    def describe(self):
        """The names, without values: registering must not query the database at start-up."""
        yield GaugeMetricFamily("wuye_task_queue_depth", "Tasks waiting", labels=["queue"])
        yield GaugeMetricFamily(
            "wuye_task_queue_oldest_seconds", "Age of the oldest waiting task", labels=["queue"]
        )
        yield GaugeMetricFamily("wuye_schedule_failed_steps", "Failed schedule steps")
        yield GaugeMetricFamily("wuye_scheduler_last_tick_age_seconds", "Seconds since a tick")

    def collect(self):
        from wuye.ops.health import queue_ages, queue_depths
        from wuye.ops.models import JobRun, RunStatus
        from wuye.ops.selectors import beat

        try:
            depths, ages = queue_depths(), queue_ages()
            since = timezone.localdate() - timezone.timedelta(days=1)
            failed = JobRun.objects.filter(status=RunStatus.FAILED, day__gte=since).count()
            found = beat()
        except Exception:  # no database (yet): say nothing rather than fail the scrape
            log.warning("metrics: reading the queue and schedule state failed", exc_info=True)
            return
        depth = GaugeMetricFamily("wuye_task_queue_depth", "Tasks waiting", labels=["queue"])
        oldest = GaugeMetricFamily(
            "wuye_task_queue_oldest_seconds", "Age of the oldest waiting task", labels=["queue"]
        )
        for name, n in sorted(depths.items()):
            depth.add_metric([name], n)
        for name, age in sorted(ages.items()):
            oldest.add_metric([name], age)
        yield depth
        yield oldest
        yield GaugeMetricFamily(
            "wuye_schedule_failed_steps",
            "Failed schedule steps of yesterday and today",
            value=failed,
        )
        if found is not None:
            yield GaugeMetricFamily(
                "wuye_scheduler_last_tick_age_seconds",
                "Seconds since the scheduler last looked",
                value=(timezone.now() - found.last_tick).total_seconds(),
            )


_installed = False


def install() -> None:
    """Connects the task signals and registers the collector (once per process)."""
    global _installed
    if _installed:
        return
    from django_tasks.signals import task_finished

    task_finished.connect(on_task_finished, dispatch_uid="wuye.ops.metrics.task_finished")
    REGISTRY.register(StateCollector())
    _installed = True


def metrics_view(request):
    """/metrics for the monitoring host only: the client address must be in WUYE_METRICS_ALLOW."""
    from django.conf import settings
    from django.http import HttpResponseForbidden
    from django_prometheus.exports import ExportToDjangoView

    if request.META.get("REMOTE_ADDR", "") not in settings.WUYE_METRICS_ALLOW:
        return HttpResponseForbidden("metrics are for the monitoring host")
    return ExportToDjangoView(request)
