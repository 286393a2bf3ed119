import datetime

import pytest

from tests.dunning import factories
from wuye.core.roles import Role


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
    """3-2-1502, stewarded by ``steward``, owing two months of 100.00: due 75 and 45 days ago."""
    acct = factories.debtor(project, "3-2-1502", steward=steward)
    factories.bill(
        acct,
        item,
        "100.00",
        today - datetime.timedelta(days=90),
        today - datetime.timedelta(days=75),
    )
    factories.bill(
        acct,
        item,
        "100.00",
        today - datetime.timedelta(days=60),
        today - datetime.timedelta(days=45),
    )
    return acct
