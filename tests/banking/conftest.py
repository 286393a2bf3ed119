import datetime

import pytest

from tests.banking import factories
from wuye.core.roles import Role


@pytest.fixture
def finance(make_user, project):
    return make_user("finance", Role.FINANCE, project)


@pytest.fixture
def supervisor(make_user, project):
    return make_user("supervisor", Role.SUPERVISOR, project)


@pytest.fixture
def item(project):
    return factories.fee_item(project)


@pytest.fixture
def bank(project):
    return factories.bank(project)


@pytest.fixture
def today():
    return datetime.date.today()
