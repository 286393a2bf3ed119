"""Shared fixtures. Test data is made through the real services, as users of the system would."""

import os

import pytest

from wuye.core.models import Company, Membership, Project, User
from wuye.core.roles import Role

# Tasks run at once, in the test's process and transaction. WUYE_TEST_TASKS_BACKEND=rq (the second
# pass of .ci/run) puts them through RQ on Redis instead (database WUYE_TEST_REDIS_URL), still run at
# once in the process that queues them (RQ's synchronous mode); tests/ops/test_rq.py runs a real worker.
TEST_TASKS_BACKEND = {
    "rq": "django_tasks_rq.RQBackend",
    "": "django_tasks.backends.immediate.ImmediateBackend",
}[os.environ.get("WUYE_TEST_TASKS_BACKEND", "")]
TEST_REDIS_URL = os.environ.get("WUYE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(autouse=True)
def _immediate_tasks(settings):
    settings.TASKS = {
        "default": {"BACKEND": TEST_TASKS_BACKEND, "QUEUES": settings.WUYE_TASK_QUEUES}
    }
    if TEST_TASKS_BACKEND.startswith("django_tasks_rq"):
        settings.RQ_QUEUES = {
            name: {"URL": TEST_REDIS_URL, "ASYNC": False} for name in settings.WUYE_TASK_QUEUES
        }


@pytest.fixture
def company(db):
    return Company.objects.create(name="示范物业服务有限公司", short_name="示范物业")


@pytest.fixture
def project(company):
    return Project.objects.create(company=company, code="P001", name="锦绣花园")


@pytest.fixture
def other_project(company):
    return Project.objects.create(company=company, code="P002", name="翠湖苑")


@pytest.fixture
def make_user(db, company):
    def make(username: str, role: str, *projects: Project, company_role: str = "") -> User:
        user = User.objects.create_user(
            username=username,
            password="pw-" + username,
            display_name=username,
            company=company,
            company_role=company_role,
        )
        for p in projects:
            Membership.objects.create(user=user, project=p, role=role)
        return user

    return make


@pytest.fixture
def steward(make_user, project):
    return make_user("steward", Role.STEWARD, project)


@pytest.fixture
def cashier(make_user, project):
    return make_user("cashier", Role.CASHIER, project)


@pytest.fixture
def manager(make_user, project):
    return make_user("manager", Role.PROJECT_MANAGER, project)


@pytest.fixture
def approver(make_user, project):
    """A second project manager: reversals, refunds and waivers are approved by someone other than
    the one who asks (四眼原则, issue 13 item 12)."""
    return make_user("approver", Role.PROJECT_MANAGER, project)


@pytest.fixture
def admin_user(make_user):
    return make_user("boss", Role.COMPANY_ADMIN, company_role=Role.COMPANY_ADMIN)
