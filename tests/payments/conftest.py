"""Online payment tests run against the local fake platforms, started in a thread with key pairs
made for the test session; callbacks go through the real view (Django's test client)."""

from __future__ import annotations

import datetime

import pytest

from tests.ledger.factories import account, fee_item, monthly_bills
from wuye.core.roles import Role
from wuye.payments.fake.server import FakePlatforms

D = datetime.date


@pytest.fixture(scope="session")
def _fake_platforms():
    fake = FakePlatforms(auto_notify=False).start()
    yield fake
    fake.stop()


@pytest.fixture
def payments_fake(_fake_platforms, settings, tmp_path):
    """The fake platforms, with the channels pointed at them (a fresh set of trades per test)."""
    fake = _fake_platforms
    fake.wechat.trades.clear()
    fake.wechat.refunds.clear()
    fake.alipay.trades.clear()
    fake.wechat.mode = "public_key"  # test_verify_modes switches it for its own tests
    fake.notify_log.clear()
    fake.auto_notify = False
    config = fake.config()
    settings.WUYE_PAYMENTS = {
        **settings.WUYE_PAYMENTS,
        "notify_base_url": "http://testserver",
        "fake_config_file": str(tmp_path / "none.json"),
        "wechat": config["wechat"],
        "alipay": config["alipay"],
    }
    return fake


@pytest.fixture
def finance(make_user, project):
    return make_user("finance", Role.FINANCE, project)


@pytest.fixture
def supervisor(make_user, project):
    return make_user("supervisor", Role.SUPERVISOR, project)


@pytest.fixture
def item(project):
    return fee_item(project, late_fee_applies=False)


@pytest.fixture
def household(project, item):
    """An account with three monthly bills of 100 yuan (Jan–Mar of last year)."""
    acc = account(project)
    year = datetime.date.today().year - 1
    acc.test_bills = monthly_bills(acc, item, D(year, 1, 1), 3)
    return acc
