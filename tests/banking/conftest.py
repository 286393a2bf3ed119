import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.banking import factories
from tests.dunning import factories as dun
from wuye.banking import withholding_authorizations, withholding_batches
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


DAY = datetime.timedelta(days=1)
BANK = "工商银行"
CARD_A = "6222020200112233445"
CARD_B = "6217000011112222333"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


# Withholding (test_withholding*.py): these use the module's ``today`` (the local business date).


@pytest.fixture
def homes(project, steward, item, today):
    """Two households owing two months each (due 40 and 20 days ago), both with an authorisation."""
    homes = []
    for code, owner in (("3-2-1502", "张三"), ("3-2-1602", "李四")):
        acct = dun.debtor(project, code, steward=steward, owner=owner)
        dun.bill(acct, item, "100.00", today - 60 * DAY, today - 40 * DAY)
        dun.bill(acct, item, "100.00", today - 30 * DAY, today - 20 * DAY)
        homes.append(acct)
    return homes


@pytest.fixture
def authorised(homes, finance, today):
    a, b = homes
    withholding_authorizations.authorization_add(
        user=finance,
        account=a,
        bank=BANK,
        account_number=CARD_A,
        holder="张三",
        signed_on=today - 90 * DAY,
        agreement=SimpleUploadedFile("授权书.pdf", PDF),
    )
    withholding_authorizations.authorization_add(
        user=finance,
        account=b,
        bank=BANK,
        account_number=CARD_B,
        holder="李四",
        signed_on=today - 90 * DAY,
    )
    return homes


@pytest.fixture
def batch(project, finance, authorised, today):
    return withholding_batches.batch_create(user=finance, project=project, bank=BANK, month=today)
