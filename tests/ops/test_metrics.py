"""Prometheus metrics: off by default; when on, request latency per view, task durations and failures,
queue depth; /metrics only for the monitoring host."""

import os
import subprocess
import sys
import textwrap

import pytest
from django.urls import reverse
from prometheus_client import REGISTRY, generate_latest

from wuye.ops import metrics

pytestmark = pytest.mark.django_db


def test_metrics_are_off_by_default(client):
    assert client.get("/metrics").status_code == 404


def test_a_task_run_records_its_duration():
    from wuye.ops.tasks import run_step

    metrics.install()
    labels = {"task": "wuye.ops.tasks.run_step", "queue": "default"}
    before = REGISTRY.get_sample_value("wuye_task_duration_seconds_count", labels) or 0
    run_step.enqueue(0)
    assert REGISTRY.get_sample_value("wuye_task_duration_seconds_count", labels) == before + 1


def test_a_failed_task_is_counted():
    from wuye.dunning.tasks import dunning_run_project

    metrics.install()
    labels = {"task": "wuye.dunning.tasks.dunning_run_project", "queue": "default"}
    before = REGISTRY.get_sample_value("wuye_task_failures_total", labels) or 0
    dunning_run_project.enqueue(999_999)  # no such project: the task fails
    assert REGISTRY.get_sample_value("wuye_task_failures_total", labels) == before + 1


def test_the_queue_depth_is_read_when_scraped(settings):
    from wuye.billing.tasks import billing_run_commit

    metrics.install()
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks_db.DatabaseBackend",
            "QUEUES": settings.WUYE_TASK_QUEUES,
        }
    }
    billing_run_commit.enqueue(1)  # waits: no worker runs in the test
    text = generate_latest(REGISTRY).decode()
    assert 'wuye_task_queue_depth{queue="long"} 1.0' in text


SCRIPT = textwrap.dedent(
    """
    import django
    django.setup()
    from django.test import Client
    ok = Client(REMOTE_ADDR="127.0.0.1").get("/metrics")
    other = Client(REMOTE_ADDR="10.1.2.3").get("/metrics")
    print(ok.status_code, other.status_code)
    print(ok.content.decode())
    """
)


def test_with_metrics_on_the_monitoring_host_reads_request_latency_per_view(tmp_path):
    env = {
        **os.environ,
        "WUYE_METRICS": "1",
        "WUYE_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "wuye.settings",
        "WUYE_ALLOWED_HOSTS": "testserver",
    }
    env.pop("DATABASE_URL", None)
    out = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    first, _, body = out.stdout.partition("\n")
    assert first == "200 403"
    assert "django_http_requests_latency_seconds_by_view_method" in body
    assert "wuye_task_duration_seconds" in body


def test_health_is_not_behind_the_login(client):
    assert client.get(reverse("health")).status_code in (200, 503)
