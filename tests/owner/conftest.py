import re

import pytest

from tests.ledger import factories as lf
from wuye.messaging.models import OutboxMessage
from wuye.owner import links

D = lf.D


@pytest.fixture
def item(project):
    return lf.fee_item(project)


@pytest.fixture
def acct(project, item):
    """3-2-1502, 张三, phone 13812345678, six monthly bills of 100.00 from January 2025."""
    from tests.factories import household
    from wuye.billing import accounts

    room, _ = household(project, code="3-2-1502", owner="张三", phones=("13812345678",))
    account = accounts.account_for(room, D(2024, 1, 1))
    lf.monthly_bills(account, item, D(2025, 1, 1), 6, "100.00")
    return account


@pytest.fixture
def other_acct(project, item):
    """Another household of the same project: 3-2-1503, 李四, its own bills."""
    from tests.factories import household
    from wuye.billing import accounts

    room, _ = household(project, code="3-2-1503", owner="李四", phones=("13900001111",))
    account = accounts.account_for(room, D(2024, 1, 1))
    lf.monthly_bills(account, item, D(2025, 1, 1), 3, "333.00")
    return account


@pytest.fixture
def link(acct):
    return links.link_for(acct)


@pytest.fixture
def token(link):
    return links.token_for(link)


def last_code(account) -> str:
    body = OutboxMessage.objects.filter(account_id_snapshot=account.pk).latest("id").body
    return re.search(r"(\d{6})", body).group(1)


@pytest.fixture
def verified_client(client, acct, token):
    """A browser that opened the link and verified with the SMS code from the outbox."""
    phone = acct.payer.phones.get()
    client.post(f"/o/{token}/code/", {"phone": phone.pk})
    client.post(f"/o/{token}/verify/", {"code": last_code(acct)})
    return client


@pytest.fixture(scope="session")
def _fake_platforms():
    from wuye.payments.fake.server import FakePlatforms

    fake = FakePlatforms(auto_notify=False).start()
    yield fake
    fake.stop()


@pytest.fixture
def payments_fake(_fake_platforms, settings, tmp_path):
    """The payment platforms' local fakes (wuye.payments), a fresh set of trades per test."""
    fake = _fake_platforms
    fake.wechat.trades.clear()
    fake.alipay.trades.clear()
    fake.wechat.mode = "public_key"  # test_verify_modes switches it for its own tests
    config = fake.config()
    settings.WUYE_PAYMENTS = {
        **settings.WUYE_PAYMENTS,
        "notify_base_url": "http://testserver",
        "fake_config_file": str(tmp_path / "none.json"),
        "wechat": config["wechat"],
        "alipay": config["alipay"],
    }
    return fake
