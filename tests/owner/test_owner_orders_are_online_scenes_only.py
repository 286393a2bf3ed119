"""An owner pays on the platform's own pages (JSAPI, H5, Native, wap, QR); 付款码 (micropay) is the
window's scene, taken by a cashier from the payer's code. The owner API refuses it, so an owner
cannot make window orders the platform never heard of, nor pass a project that has not opened
online payment."""

import pytest

from wuye.payments.models import PaymentOrder, PaymentSettings

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("channel", ["wechat", "alipay"])
def test_the_owner_api_refuses_the_payment_code_scene(client, token, payments_fake, channel):
    response = client.post(
        "/api/owner/orders",
        {"channel": channel, "scene": "micropay"},
        content_type="application/json",
        headers={"X-Owner-Link": token},
    )
    assert response.status_code == 400
    assert "scene" in response.content.decode() or "付款码" in response.content.decode()
    assert not PaymentOrder.objects.exists()


def test_a_project_without_online_payment_refuses_the_owner_whatever_the_scene(
    client, token, link, payments_fake
):
    PaymentSettings.objects.update_or_create(
        project_id=link.project_id, defaults={"enabled": False}
    )
    response = client.post(
        "/api/owner/orders",
        {"channel": "wechat", "scene": "micropay"},
        content_type="application/json",
        headers={"X-Owner-Link": token},
    )
    assert response.status_code == 400
    assert not PaymentOrder.objects.exists()
