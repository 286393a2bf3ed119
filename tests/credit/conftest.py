import datetime

import pytest

from tests.dunning import factories as dunning_factories
from tests.ledger import factories as ledger
from wuye.core.roles import Role

DAY = datetime.timedelta(days=1)


@pytest.fixture
def supervisor(make_user, project):
    return make_user("supervisor", Role.SUPERVISOR, project)


@pytest.fixture
def item(project):
    return ledger.fee_item(project)


@pytest.fixture
def today():
    return dunning_factories.today()


@pytest.fixture
def acct(project, steward):
    return dunning_factories.debtor(project, "3-2-1502", steward=steward)
