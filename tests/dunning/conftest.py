import datetime

import pytest

from tests.dunning import factories
from wuye.core.roles import Role

DAY = datetime.timedelta(days=1)


@pytest.fixture
def supervisor(make_user, project):
    return make_user("supervisor", Role.SUPERVISOR, project)


@pytest.fixture
def item(project):
    return factories.fee_item(project)


@pytest.fixture
def today():
    return factories.today()


@pytest.fixture
def debtor(project, steward, item, today):
    """3-2-1502, stewarded by ``steward``, owing two months of 100.00: due 40 and 20 days ago (past
    the 15-day grace, before any escalation)."""
    acct = factories.debtor(project, "3-2-1502", steward=steward)
    factories.bill(acct, item, "100.00", today - 60 * DAY, today - 40 * DAY)
    factories.bill(acct, item, "100.00", today - 30 * DAY, today - 20 * DAY)
    return acct
