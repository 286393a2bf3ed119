"""A partial refund comes out of the prepaid balance when the platform confirms it; a refund still
in flight (处理中) already holds that money: a second partial refund may not count it again (the
platform would send back money the ledger can no longer record)."""

from decimal import Decimal

import pytest

from tests.ledger.factories import pay
from tests.payments.helpers import order_for, post_wechat, wechat_paid
from wuye.core.errors import ValidationFailed
from wuye.ledger.selectors.prepaid import prepaid_balance
from wuye.payments import refunds
from wuye.payments.enums import RefundStatus

pytestmark = pytest.mark.django_db


def test_a_refund_in_flight_holds_its_share_of_the_prepaid_balance(
    payments_fake, household, cashier, supervisor
):
    order = order_for(household)
    headers, body = wechat_paid(payments_fake, order)
    post_wechat(headers, body)  # 300 to the three bills
    order.refresh_from_db()
    pay(cashier, household, "150.00")  # 150 in the prepaid balance
    assert prepaid_balance(household) == Decimal("150.00")
    first = refunds.refund_request(
        user=cashier, order=order, amount="100.00", reason="多缴退回", approved_by=supervisor
    )
    assert first.status == RefundStatus.PROCESSING
    with pytest.raises(ValidationFailed) as caught:
        refunds.refund_request(
            user=cashier, order=order, amount="100.00", reason="多缴退回", approved_by=supervisor
        )
    assert caught.value.field == "amount" and "50.00" in caught.value.message
    assert order.refunds.count() == 1
