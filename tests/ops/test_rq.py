"""RQ on Redis (WUYE_TASKS_BACKEND=rq): the schedule's steps are queued on Redis, on the queue of their
kind, and a worker (here one burst of an in-process worker) runs the whole chain in order."""

import socket

import pytest

from tests.conftest import TEST_REDIS_URL
from tests.ops.conftest import D, at
from wuye.ops.models import JobRun, RunStatus
from wuye.ops.tasks import tick

pytestmark = pytest.mark.django_db
TUESDAY = D(2026, 3, 10)


def _redis_answers() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), 1).close()
    except OSError:
        return False
    return True


@pytest.fixture
def rq(settings):
    if not _redis_answers():
        pytest.skip("Redis is not answering on 127.0.0.1:6379 (.ci/run starts it)")
    import django_rq

    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": settings.WUYE_TASK_QUEUES}
    }
    settings.RQ_QUEUES = {name: {"URL": TEST_REDIS_URL} for name in settings.WUYE_TASK_QUEUES}
    queues = [django_rq.get_queue(name) for name in settings.WUYE_TASK_QUEUES]
    for queue in queues:
        queue.empty()
    yield {q.name: q for q in queues}
    for queue in queues:
        queue.empty()


def burst(*names):
    import django_rq
    from rq import SimpleWorker

    worker = django_rq.get_worker(
        *names, job_class="django_tasks_rq.Job", worker_class=SimpleWorker
    )
    return worker.work(burst=True)


def test_a_step_queued_on_rq_waits_in_redis_until_a_worker_takes_it(rq, chain, project):
    tick(at(TUESDAY, 10))
    assert chain == []
    assert rq["default"].count == 1
    assert JobRun.objects.get(step="first", day=TUESDAY).status == RunStatus.QUEUED


def test_a_worker_burst_runs_the_chain_in_order_across_the_queues(rq, chain, project):
    tick(at(TUESDAY, 10))
    burst("long", "quick", "default")
    assert [k for k, _, _ in chain] == ["first", "broken", "texts", "last"]
    assert set(JobRun.objects.filter(day=TUESDAY).values_list("status", flat=True)) == {
        "ok",
        "skipped",
    }


def test_message_steps_go_on_the_quick_queue_and_long_ones_on_the_long_queue(rq, chain, project):
    tick(at(TUESDAY, 10))
    burst("default")  # first and broken; texts is now waiting on the quick queue
    assert [k for k, _, _ in chain] == ["first", "broken"]
    assert (rq["quick"].count, rq["long"].count) == (1, 0)
    burst("quick")
    assert (rq["quick"].count, rq["long"].count) == (0, 1)
    burst("long")
    assert [k for k, _, _ in chain] == ["first", "broken", "texts", "last"]


def test_a_failing_step_on_rq_is_recorded_and_the_worker_goes_on(rq, chain, project):
    from tests.ops import steps as fake

    fake.FAIL.add("broken")
    tick(at(TUESDAY, 10))
    burst("long", "quick", "default")
    assert JobRun.objects.get(step="broken", day=TUESDAY).status == RunStatus.FAILED
    assert JobRun.objects.get(step="last", day=TUESDAY).status == RunStatus.OK


def test_the_health_check_sees_the_rq_queue_depth(rq, chain, project):
    from wuye.ops.health import queue_ages, queue_depths

    tick(at(TUESDAY, 10))
    assert queue_depths()["default"] == 1
    assert queue_ages()["default"] >= 0
