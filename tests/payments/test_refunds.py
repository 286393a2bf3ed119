"""Refunds go back through the platform with a reason and a supervisor's approval; the ledger entry is
written once, when the platform says the money went back (the refund callback)."""

from decimal import Decimal

import pytest

from tests.payments.helpers import alipay_paid, order_for, post_alipay, post_wechat, wechat_paid
from wuye.core.errors import ValidationFailed
from wuye.ledger.models import PaymentReversal, Refund
from wuye.ledger.selectors.prepaid import prepaid_balance
from wuye.ledger.selectors.window import unpaid_bills
from wuye.payments import refunds
from wuye.payments.enums import RefundStatus


@pytest.fixture
def paid_order(payments_fake, household):
    order = order_for(household)
    headers, body = wechat_paid(payments_fake, order)
    post_wechat(headers, body)
    order.refresh_from_db()
    return order


def test_full_refund_reverses_the_payment_once_the_callback_arrives(
    payments_fake, paid_order, cashier, supervisor
):
    refund = refunds.refund_request(
        user=cashier, order=paid_order, amount="300.00", reason="重复缴费", approved_by=supervisor
    )
    assert refund.status == RefundStatus.PROCESSING
    assert not PaymentReversal.objects.exists()  # the platform has not refunded yet
    headers, body = payments_fake.wechat.refund_notification(refund.out_refund_no)
    for _ in range(2):  # the callback repeated: reversed once
        assert post_wechat(headers, body).status_code == 204
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCESS
    assert PaymentReversal.objects.filter(payment=paid_order.payment).count() == 1
    assert len(unpaid_bills(paid_order.account)) == 3


def test_partial_refund_comes_out_of_the_prepaid_balance(
    payments_fake, household, cashier, supervisor
):
    from tests.ledger.factories import pay

    order = order_for(household)
    pay(cashier, household, "300.00", bill_ids=[b.pk for b in household.test_bills])
    headers, body = wechat_paid(payments_fake, order)
    post_wechat(headers, body)  # bills taken at the window: 300 to prepaid
    order.refresh_from_db()
    refund = refunds.refund_request(
        user=cashier, order=order, amount="120.00", reason="多缴退回", approved_by=supervisor
    )
    headers, body = payments_fake.wechat.refund_notification(refund.out_refund_no)
    post_wechat(headers, body)
    ledger_refund = Refund.objects.get()
    assert (ledger_refund.amount, ledger_refund.method) == (Decimal("120.00"), "wechat")
    assert prepaid_balance(household) == Decimal("180.00")


def test_refund_needs_an_approver_other_than_the_requester(paid_order, supervisor):
    with pytest.raises(ValidationFailed):
        refunds.refund_request(
            user=supervisor,
            order=paid_order,
            amount="300.00",
            reason="重复",
            approved_by=supervisor,
        )


def test_refund_needs_a_reason(paid_order, cashier, supervisor):
    with pytest.raises(ValidationFailed) as caught:
        refunds.refund_request(
            user=cashier, order=paid_order, amount="300.00", reason=" ", approved_by=supervisor
        )
    assert caught.value.field == "reason"


def test_refund_beyond_what_was_paid_is_refused(paid_order, cashier, supervisor):
    with pytest.raises(ValidationFailed) as caught:
        refunds.refund_request(
            user=cashier, order=paid_order, amount="300.01", reason="错", approved_by=supervisor
        )
    assert caught.value.field == "amount"


def test_partial_refund_of_money_already_on_bills_is_refused(paid_order, cashier, supervisor):
    with pytest.raises(ValidationFailed) as caught:
        refunds.refund_request(
            user=cashier, order=paid_order, amount="50.00", reason="错", approved_by=supervisor
        )
    assert "预存款" in caught.value.message


def test_alipay_refund_is_entered_when_the_platform_answers(
    payments_fake, household, cashier, supervisor
):
    order = order_for(household, channel="alipay", scene="qr")
    post_alipay(alipay_paid(payments_fake, order))
    order.refresh_from_db()
    refund = refunds.refund_request(
        user=cashier, order=order, amount="300.00", reason="重复缴费", approved_by=supervisor
    )
    assert refund.status == RefundStatus.SUCCESS
    assert PaymentReversal.objects.filter(payment=order.payment).count() == 1
