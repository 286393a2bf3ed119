"""The address the platform sends the payer back to is on our own site (no open redirect: a
payer who paid on WeChat/Alipay must not land on a page of someone else's)."""

import pytest

from wuye.payments.models import PaymentOrder

pytestmark = pytest.mark.django_db


def _order(client, token, return_url, channel="wechat", scene="h5"):
    return client.post(
        "/api/owner/orders",
        {"channel": channel, "scene": scene, "return_url": return_url},
        content_type="application/json",
        headers={"X-Owner-Link": token},
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/pay-again",
        "//evil.example/x",
        "javascript:alert(1)",
        "http://testserver.evil.example/",
    ],
)
@pytest.mark.parametrize(("channel", "scene"), [("wechat", "h5"), ("alipay", "wap")])
def test_a_return_url_off_our_site_is_refused(client, token, payments_fake, url, channel, scene):
    response = _order(client, token, url, channel, scene)
    assert response.status_code == 400
    assert "return_url" in response.content.decode() or "跳回" in response.content.decode()
    assert not PaymentOrder.objects.exists()


def test_a_return_url_on_our_site_is_kept(client, token, payments_fake, settings):
    settings.WUYE_SITE_URL = "https://pay.wuye.example"
    settings.ALLOWED_HOSTS = ["testserver", "pay.wuye.example"]
    response = _order(client, token, "https://pay.wuye.example/o/x/orders/")
    assert response.status_code == 201, response.content
    assert "redirect_url=https%3A%2F%2Fpay.wuye.example" in response.json()["pay_params"]["h5_url"]
