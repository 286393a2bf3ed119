import pytest

from tests.dunning import factories
from tests.dunning.conftest import debtor, item, supervisor, today  # noqa: F401


@pytest.fixture
def case(project, debtor):  # noqa: F811
    factories.run(project)
    return factories.case_of(debtor)


@pytest.fixture
def morning(today):  # noqa: F811
    return factories.at(today, 10)
