"""Browser tests: Playwright drives Debian's /usr/bin/chromium against pytest-django's live server."""

import os
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("WUYE_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"

# The live server runs in a thread while Playwright's sync API runs an event loop in this one.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(
        reason=f"{CHROMIUM} not installed (apt-get install chromium fonts-wqy-microhei)"
    )
    for item in items:
        if "e2e" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture
def screenshot_dir():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def fake_platforms(settings, live_server, tmp_path):
    """The local fake WeChat Pay and Alipay in a thread, the channels pointed at them and their
    callbacks at the live server (owner payments, the window's payment codes)."""
    from wuye.payments.fake.server import FakePlatforms

    fake = FakePlatforms().start()
    config = fake.config()
    settings.WUYE_PAYMENTS = {
        **settings.WUYE_PAYMENTS,
        "notify_base_url": live_server.url,
        "fake_config_file": str(tmp_path / "none.json"),
        "wechat": config["wechat"],
        "alipay": config["alipay"],
    }
    yield fake
    fake.stop()
