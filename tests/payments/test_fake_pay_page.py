"""The demo path: the fake's pay page ("确认支付") marks the trade paid and posts the signed callback to
the site over HTTP; the order is posted once and the page returns to the owner's page."""

import urllib.request
from urllib.parse import urlencode

import pytest

from tests.payments.helpers import order_for
from wuye.payments.enums import OrderStatus

pytestmark = pytest.mark.django_db(transaction=True)


def _confirm(fake, channel: str, no: str, back: str = "") -> str:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(  # noqa: S310 - the local fake
        f"{fake.base_url}/pay/{channel}/{no}",
        data=urlencode({"return": back}).encode(),
        method="POST",
    )
    try:
        with opener.open(request, timeout=30) as response:
            return response.read().decode()
    except urllib.error.HTTPError as exc:  # the 303 back to the owner's page
        return exc.headers.get("Location", "")


@pytest.mark.parametrize(("channel", "scene"), [("wechat", "h5"), ("alipay", "wap")])
def test_confirm_on_the_fake_pay_page_posts_the_order_through_the_callback(
    live_server, settings, payments_fake, household, channel, scene
):
    settings.WUYE_PAYMENTS = {**settings.WUYE_PAYMENTS, "notify_base_url": live_server.url}
    order = order_for(household, channel=channel, scene=scene)
    page = (
        urllib.request.urlopen(  # noqa: S310 - the local fake
            order.pay_params.get("h5_url") or order.pay_params["pay_url"], timeout=30
        )
        .read()
        .decode()
    )
    assert "确认支付" in page and "300.00" in page
    location = _confirm(payments_fake, channel, order.out_trade_no, back=f"{live_server.url}/done")
    assert location == f"{live_server.url}/done"
    assert payments_fake.notify_log[-1] == (
        f"{live_server.url}/payments/notify/{channel}/",
        204 if channel == "wechat" else 200,
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_fake_refuses_a_request_signed_with_another_merchant_key(
    payments_fake, household, settings
):
    from wuye.core.errors import ValidationFailed
    from wuye.payments.fake.keys import KeyPair

    settings.WUYE_PAYMENTS = {
        **settings.WUYE_PAYMENTS,
        "wechat": {**settings.WUYE_PAYMENTS["wechat"], "private_key": KeyPair().private_pem},
    }
    with pytest.raises(ValidationFailed) as caught:
        order_for(household)
    assert "SIGN_ERROR" in caught.value.message
