"""预交 online: the amount is the window's own pay-ahead figure (``billing.pay_ahead``) on top of every
open bill, stored on the order; the callback bills the months ahead and posts once; refunds follow
the usual rules; refused without a pay-ahead rule or beyond the project's prepayment cap."""

import datetime
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from tests.payments.helpers import (
    AHEAD_EXAMPLES,
    AHEAD_OFFERS,
    ahead_offer,
    ahead_rule,
    post_wechat,
    wechat_paid,
)
from wuye.billing import fee_settings, pay_ahead
from wuye.billing.enums import AdjustmentKind
from wuye.billing.models import Bill, BillAdjustment
from wuye.core.errors import ValidationFailed
from wuye.core.money import ZERO
from wuye.core.roles import Role
from wuye.ledger import invariants
from wuye.ledger.models import Payment, PaymentReversal
from wuye.ledger.selectors.prepaid import prepaid_balance
from wuye.ledger.selectors.window import unpaid_bills
from wuye.payments import refunds, services
from wuye.payments.enums import IssueKind, OrderStatus
from wuye.payments.models import OrderIssue

D = datetime.date


@pytest.fixture
def manager(make_user, project):
    return make_user("manager", Role.PROJECT_MANAGER, project)


@pytest.fixture
def priced(item):
    """The fee item at 100.00 a month (what the planner bills ahead)."""
    fee_settings.fee_standard_add(
        user=None, fee_item=item, unit_price="100.00", valid_from=D(2020, 1, 1)
    )
    return item


rule = ahead_rule


@pytest.fixture
def five_percent(priced, manager):
    return rule(priced, manager)


def ahead_order(account, months=12, bill_ids=None, channel="wechat", scene="native"):
    ids = [b.pk for b in unpaid_bills(account)] if bill_ids is None else bill_ids
    return services.order_create(
        account=account, bill_ids=ids, channel=channel, scene=scene, pay_ahead_months=months
    )


def window_figure(account, item, months):
    """What the window's service bills for the same choice, computed for real and rolled back."""
    with transaction.atomic():
        result = pay_ahead.pay_ahead(user=None, account=account, fee_item=item, months=months)
        figure = result.amount_due
        transaction.set_rollback(True)
    return figure


def test_order_amount_is_open_bills_plus_the_windows_pay_ahead_figure(
    payments_fake, household, five_percent
):
    order = ahead_order(household)
    assert order.pay_ahead_months == 12
    assert order.pay_ahead_amount == Decimal("1140.00")  # 12 × 100 less 5 %
    assert order.pay_ahead_amount == window_figure(household, five_percent.fee_item, 12)
    assert order.principal == Decimal("300.00")
    assert order.amount == Decimal("1440.00")
    assert order.bills.count() == 3
    assert not Bill.objects.filter(period_start__gte=timezone.localdate().replace(day=1)).exists()


@AHEAD_EXAMPLES
@given(months=st.integers(min_value=1, max_value=12), **AHEAD_OFFERS)
def test_order_figure_equals_the_window_for_the_same_choice(
    payments_fake, household, item, manager, months, min_months, rate, free, price
):
    with transaction.atomic():
        ahead_offer(item, manager, min_months=min_months, rate=rate, free=free, price=price)
        order = ahead_order(household, months=months)
        figure = window_figure(household, item, months)
        assert order.pay_ahead_amount == figure
        assert order.amount == Decimal("300.00") + figure
        transaction.set_rollback(True)


def test_callback_bills_the_months_ahead_and_posts_once(payments_fake, household, five_percent):
    order = ahead_order(household)
    headers, body = wechat_paid(payments_fake, order)
    for _ in range(3):  # replayed callback
        assert post_wechat(headers, body).status_code == 204
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert Payment.objects.count() == 1
    payment = order.payment
    assert payment.amount == Decimal("1440.00")
    assert payment.idempotency_key == f"wechat-{order.transaction_id}"
    ahead_bills = Bill.objects.filter(period_start__gte=timezone.localdate().replace(day=1))
    assert ahead_bills.count() == 12
    assert (
        BillAdjustment.objects.filter(bill__in=ahead_bills, kind=AdjustmentKind.DISCOUNT).count()
        == 12
    )
    assert unpaid_bills(household) == []
    assert prepaid_balance(household) == ZERO  # exactly the figure: nothing left over
    assert invariants.check_all() == []
    assert order.issues.count() == 0


def test_a_second_order_after_paying_ahead_bills_the_following_months(
    payments_fake, household, five_percent, project
):
    # The cap binds the months already paid ahead too (test_prepayment_cap_counts_months_already_
    # ahead): a project allowing 24 months takes a second year.
    fee_settings.billing_settings_update(user=None, project=project, max_prepay_months=24)
    first = ahead_order(household)
    post_wechat(*wechat_paid(payments_fake, first))
    second = ahead_order(household, bill_ids=[])
    assert (second.principal, second.pay_ahead_amount) == (ZERO, Decimal("1140.00"))
    post_wechat(*wechat_paid(payments_fake, second))
    assert Bill.objects.filter(period_start__gte=timezone.localdate().replace(day=1)).count() == 24
    assert unpaid_bills(household) == []
    with pytest.raises(ValidationFailed) as err:  # 24 months ahead: the cap is reached
        ahead_order(household, bill_ids=[])
    assert err.value.field == "pay_ahead_months" and "预收上限 24 个月" in err.value.message


def test_bills_paid_at_the_window_meanwhile_still_bill_ahead_and_rest_goes_to_prepaid(
    payments_fake, household, five_percent, cashier
):
    from tests.ledger.factories import pay

    order = ahead_order(household)
    pay(cashier, household, "300.00", bill_ids=[b.pk for b in household.test_bills])
    post_wechat(*wechat_paid(payments_fake, order))
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert Bill.objects.filter(period_start__gte=timezone.localdate().replace(day=1)).count() == 12
    assert prepaid_balance(household) == Decimal("300.00")
    assert OrderIssue.objects.filter(order=order, kind=IssueKind.BILLS_TAKEN).exists()
    assert invariants.check_all() == []


def test_a_changed_figure_bills_nothing_ahead_and_goes_to_prepaid(
    payments_fake, household, five_percent
):
    order = ahead_order(household)
    five_percent.valid_to = timezone.localdate() - datetime.timedelta(days=1)  # rule withdrawn
    five_percent.save()
    post_wechat(*wechat_paid(payments_fake, order))
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert not Bill.objects.filter(period_start__gte=timezone.localdate().replace(day=1)).exists()
    assert unpaid_bills(household) == []
    assert prepaid_balance(household) == Decimal("1140.00")
    issue = OrderIssue.objects.get(order=order, kind=IssueKind.AHEAD_CHANGED)
    assert "预存款" in issue.message


def test_wrong_amount_bills_nothing_ahead(payments_fake, household, five_percent):
    order = ahead_order(household)
    post_wechat(*wechat_paid(payments_fake, order, paid=30000))
    order.refresh_from_db()
    assert order.status == OrderStatus.FAILED
    assert not Payment.objects.exists()
    assert not Bill.objects.filter(period_start__gte=timezone.localdate().replace(day=1)).exists()


def _refund_in_full(fake, order, cashier, approver):
    refund = refunds.refund_request(
        user=cashier, order=order, amount="1440.00", reason="业主取消预交", approved_by=approver
    )
    post_wechat(*fake.wechat.refund_notification(refund.out_refund_no))
    return refund


def test_full_refund_reverses_the_payment_and_the_months_billed_ahead(
    payments_fake, household, five_percent, cashier, manager
):
    order = ahead_order(household)
    post_wechat(*wechat_paid(payments_fake, order))
    order.refresh_from_db()
    _refund_in_full(payments_fake, order, cashier, manager)
    assert PaymentReversal.objects.filter(payment=order.payment).count() == 1
    ahead_bills = Bill.objects.filter(period_start__gte=timezone.localdate().replace(day=1))
    assert (
        BillAdjustment.objects.filter(bill__in=ahead_bills, kind=AdjustmentKind.REVERSAL).count()
        == 12
    )
    assert [b.pk for b in unpaid_bills(household)] == [b.pk for b in household.test_bills]
    assert invariants.check_all() == []


def test_full_refund_approved_by_a_supervisor_tells_finance_about_the_bills_ahead(
    payments_fake, household, five_percent, cashier, supervisor
):
    order = ahead_order(household)
    post_wechat(*wechat_paid(payments_fake, order))
    order.refresh_from_db()
    _refund_in_full(payments_fake, order, cashier, supervisor)
    assert PaymentReversal.objects.filter(payment=order.payment).count() == 1
    issue = OrderIssue.objects.get(order=order, kind=IssueKind.REFUND_FAILED)
    assert "12 笔账单" in issue.message and "冲红" in issue.message
    assert invariants.check_all() == []


def test_partial_refund_of_a_pay_ahead_payment_is_refused_beyond_the_prepaid_balance(
    payments_fake, household, five_percent, cashier, supervisor
):
    order = ahead_order(household)
    post_wechat(*wechat_paid(payments_fake, order))
    order.refresh_from_db()
    with pytest.raises(ValidationFailed) as err:
        refunds.refund_request(
            user=cashier,
            order=order,
            amount="100.00",
            reason="少预交一个月",
            approved_by=supervisor,
        )
    assert err.value.field == "amount"


def test_refused_without_a_pay_ahead_rule(payments_fake, household, priced):
    with pytest.raises(ValidationFailed) as err:
        ahead_order(household)
    assert err.value.field == "pay_ahead_months"
    assert "预交优惠" in err.value.message


def test_refused_beyond_the_projects_cap(payments_fake, household, five_percent, project):
    fee_settings.billing_settings_update(user=None, project=project, max_prepay_months=6)
    with pytest.raises(ValidationFailed) as err:
        ahead_order(household, months=12)
    assert err.value.field == "pay_ahead_months"
    assert "超过本项目预收上限 6 个月" in err.value.message


def test_refused_when_an_open_bill_is_left_out(payments_fake, household, five_percent):
    with pytest.raises(ValidationFailed) as err:
        ahead_order(household, bill_ids=[household.test_bills[0].pk])
    assert err.value.field == "bill_ids"
    assert not services.PaymentOrder.objects.exists()
