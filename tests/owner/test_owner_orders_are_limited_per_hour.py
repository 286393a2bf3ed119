"""Orders from the owner page and API are limited per household an hour (WUYE_OWNER_ORDERS_PER_HOUR):
anyone holding a link (a notice's QR code) may order everything owed without a code, and each order
asks the payment platform for one; a script must not make thousands (the platform limits the
merchant, and every household's payments with it)."""

import pytest

from wuye.payments.models import PaymentOrder

pytestmark = pytest.mark.django_db


def test_a_household_makes_at_most_the_hours_limit_of_orders(
    client, token, payments_fake, settings
):
    settings.WUYE_OWNER_ORDERS_PER_HOUR = 3
    answers = [
        client.post(
            "/api/owner/orders",
            {"channel": "wechat", "scene": "native"},
            content_type="application/json",
            headers={"X-Owner-Link": token},
        )
        for _ in range(5)
    ]
    assert [a.status_code for a in answers] == [201, 201, 201, 400, 400]
    assert "每小时最多 3 次" in answers[-1].json()["message"]
    assert answers[-1].json()["field"] == "channel"
    assert PaymentOrder.objects.count() == 3
