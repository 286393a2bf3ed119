"""GET /health/ for a load balancer: 200 when every check passes, 503 with the failing check named."""

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from wuye.ops.models import SchedulerBeat

pytestmark = pytest.mark.django_db


@pytest.fixture
def beating():
    SchedulerBeat.objects.create(name="scheduler", last_tick=timezone.now())


def test_health_answers_200_when_every_check_passes(client, beating, settings):
    settings.WUYE_HEALTH_MIN_FREE_MB = 1
    response = client.get(reverse("health"))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "task_queue", "scheduler", "disk"}


def test_health_needs_no_login_and_shows_no_business_data(client, beating, settings):
    settings.WUYE_HEALTH_MIN_FREE_MB = 1
    text = client.get(reverse("health")).content.decode()
    assert "锦绣" not in text and "password" not in text.lower()


def test_health_answers_503_when_the_database_does_not_answer(client, beating, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("connection refused")

    monkeypatch.setattr(connection, "cursor", down)
    response = client.get(reverse("health"))
    assert response.status_code == 503
    assert response.json()["checks"]["database"]["ok"] is False


def test_health_answers_503_when_the_scheduler_never_ran(client, settings):
    settings.WUYE_HEALTH_MIN_FREE_MB = 1
    response = client.get(reverse("health"))
    assert response.status_code == 503
    assert response.json()["checks"]["scheduler"]["ok"] is False


def test_health_answers_503_when_the_scheduler_stopped(client, settings):
    settings.WUYE_HEALTH_MIN_FREE_MB = 1
    SchedulerBeat.objects.create(
        name="scheduler", last_tick=timezone.now() - timezone.timedelta(hours=2)
    )
    assert client.get(reverse("health")).status_code == 503


def test_health_answers_503_when_the_disk_is_nearly_full(client, beating, settings):
    settings.WUYE_HEALTH_MIN_FREE_MB = 10**12  # more than any disk has
    response = client.get(reverse("health"))
    assert response.status_code == 503
    assert response.json()["checks"]["disk"]["ok"] is False


def test_health_answers_503_when_a_task_waited_too_long(client, beating, settings):
    """On the ORM queue: a task enqueued an hour ago that no worker has taken."""
    from django_tasks_db.models import DBTaskResult

    settings.WUYE_HEALTH_MIN_FREE_MB = 1
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks_db.DatabaseBackend",
            "QUEUES": settings.WUYE_TASK_QUEUES,
        }
    }
    from wuye.ops.tasks import run_step

    result = run_step.enqueue(0)
    DBTaskResult.objects.filter(pk=result.id).update(
        enqueued_at=timezone.now() - timezone.timedelta(hours=1)
    )
    response = client.get(reverse("health"))
    assert response.status_code == 503
    assert response.json()["checks"]["task_queue"]["oldest_seconds"] >= 3600
