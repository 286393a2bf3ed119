import pytest

from tests.ledger import factories
from wuye.core.roles import Role


@pytest.fixture
def supervisor(make_user, project):
    return make_user("supervisor", Role.SUPERVISOR, project)


@pytest.fixture
def item(project):
    return factories.fee_item(project)


@pytest.fixture
def acct(project):
    return factories.account(project, "3-2-1502")
