import pytest

from tests.scoring.synthetic import build_history
from wuye.core.roles import Role


@pytest.fixture
def supervisor(make_user, project):
    return make_user("supervisor", Role.SUPERVISOR, project)


@pytest.fixture
def history(project, cashier, steward):
    """18 months of a synthetic project: 40 reliable payers, 40 late payers, 40 chronic debtors."""
    return build_history(project, cashier=cashier, steward=steward)


@pytest.fixture
def item(project):
    from tests.dunning.factories import fee_item

    return fee_item(project)


@pytest.fixture
def today():
    from tests.dunning.factories import today

    return today()
