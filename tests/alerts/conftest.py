import pytest

from tests.dunning import factories
from tests.dunning.conftest import debtor, item, supervisor, today  # noqa: F401
from wuye.dunning.contacts import contact_record
from wuye.dunning.enums import Channel, RefusalReason


@pytest.fixture
def case(project, debtor):  # noqa: F811
    factories.run(project)
    return factories.case_of(debtor)


@pytest.fixture
def morning(today):  # noqa: F811
    return factories.at(today, 10)


@pytest.fixture
def refused_then_paid(case, debtor, steward, cashier, morning, django_capture_on_commit_callbacks):  # noqa: F811
    """The household refused over a leak, then paid everything: the case is closed."""
    contact_record(
        user=steward,
        case=case,
        channel=Channel.PHONE,
        reached=True,
        refusal_reason=RefusalReason.LEAK,
        at=morning,
        now=morning,
    )
    with django_capture_on_commit_callbacks(execute=True):
        factories.pay(cashier, debtor, "200.00", include_late_fees=False)
    case.refresh_from_db()
    return case
