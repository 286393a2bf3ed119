"""冲红 of payments: restores what the bills ask for, mirrors the payment, needs a supervisor."""

from decimal import Decimal

import pytest

from tests.ledger.factories import D, bill, monthly_bills, pay
from wuye.core.errors import ValidationFailed
from wuye.core.models import AuditEntry
from wuye.core.roles import Role
from wuye.ledger import invariants
from wuye.ledger.models import Allocation, PaymentReversal, PrepaidMovement
from wuye.ledger.selectors.prepaid import prepaid_balance
from wuye.ledger.selectors.window import account_position, unpaid_bills
from wuye.ledger.services.prepaid import prepaid_consume
from wuye.ledger.services.reversals import payment_reverse

pytestmark = pytest.mark.django_db


def reverse(payment, user, approver, **kwargs):
    return payment_reverse(
        user=user,
        payment=payment,
        reason=kwargs.pop("reason", "收错户"),
        approved_by=approver,
        **kwargs,
    )


def test_reversal_restores_outstanding_and_mirrors_the_payment(cashier, supervisor, acct, item):
    january, february = monthly_bills(acct, item, D(2025, 1, 1), 2)
    payment = pay(cashier, acct, "250.00", business_date=D(2025, 2, 20))
    assert account_position(acct, D(2025, 2, 20)).outstanding == 0
    reversal = reverse(payment, cashier, supervisor, business_date=D(2025, 2, 21))
    assert reversal.approved_by == supervisor and reversal.requested_by == cashier
    negatives = Allocation.objects.filter(payment=payment, amount__lt=0)
    assert sorted((a.bill_id, a.amount) for a in negatives) == [
        (january.pk, Decimal("-100.00")),
        (february.pk, Decimal("-100.00")),
    ]
    assert all(a.reverses.amount == -a.amount for a in negatives)
    assert PrepaidMovement.objects.get(payment=payment, kind="reversal").amount == Decimal("-50.00")
    # As of the payment day it was paid; from the reversal day on it is owed again.
    assert account_position(acct, D(2025, 2, 20)).outstanding == 0
    after = account_position(acct, D(2025, 2, 21))
    assert after.outstanding == Decimal("200.00") and after.prepaid_balance == 0
    assert invariants.check_all() == []
    assert AuditEntry.objects.filter(action="收款冲红").exists()


def test_reversal_refused_without_the_approvers_role(cashier, steward, acct):
    payment = pay(cashier, acct, "100.00")
    with pytest.raises(ValidationFailed) as exc:
        reverse(payment, cashier, steward)
    assert exc.value.field == "approved_by"
    assert "不能审批" in exc.value.message and "客服主管" in exc.value.message
    with pytest.raises(ValidationFailed, match="需要审批人"):
        reverse(payment, cashier, None)
    # A cashier cannot approve their own reversal either.
    with pytest.raises(ValidationFailed, match="不能审批"):
        reverse(payment, cashier, cashier)
    assert not PaymentReversal.objects.exists()


def test_manager_and_company_admin_may_approve(cashier, manager, admin_user, acct):
    first = pay(cashier, acct, "100.00")
    second = pay(cashier, acct, "100.00")
    reverse(first, cashier, manager)
    reverse(second, cashier, admin_user)
    assert PaymentReversal.objects.count() == 2


def test_approver_of_another_project_may_not(cashier, make_user, other_project, acct):
    foreign = make_user("foreign_sup", Role.SUPERVISOR, other_project)
    with pytest.raises(ValidationFailed, match="不是本项目的"):
        reverse(pay(cashier, acct, "10.00"), cashier, foreign)


def test_reversal_refused_twice_and_without_reason(cashier, supervisor, acct):
    payment = pay(cashier, acct, "100.00")
    with pytest.raises(ValidationFailed, match="请填写原因") as exc:
        reverse(payment, cashier, supervisor, reason="  ")
    assert exc.value.field == "reason"
    reverse(payment, cashier, supervisor)
    with pytest.raises(ValidationFailed, match="已冲红") as exc:
        reverse(payment, cashier, supervisor)
    assert exc.value.code == "ledger.already_reversed"
    assert Allocation.objects.filter(amount__lt=0).count() == 0  # a pure deposit: nothing allocated
    assert prepaid_balance(acct) == 0


def test_reversal_refused_when_its_prepaid_was_consumed(cashier, supervisor, acct, item):
    payment = pay(cashier, acct, "300.00", business_date=D(2025, 1, 5))
    bill(acct, item, "100.00", D(2025, 1, 1))
    prepaid_consume(account=acct, business_date=D(2025, 1, 20))
    with pytest.raises(ValidationFailed) as exc:
        reverse(payment, cashier, supervisor)
    assert exc.value.code == "ledger.prepaid_consumed"
    assert "已被抵扣或退款" in exc.value.message and "200.00" in exc.value.message
    assert prepaid_balance(acct) == Decimal("200.00")


def test_reversing_a_prepaid_draw_gives_the_balance_back(cashier, supervisor, acct, item):
    pay(cashier, acct, "100.00", business_date=D(2025, 1, 5))
    b = bill(acct, item, "100.00", D(2025, 1, 1))
    payment = pay(cashier, acct, "100.00", method="prepaid", business_date=D(2025, 1, 20))
    assert prepaid_balance(acct) == 0
    reverse(payment, cashier, supervisor)
    assert prepaid_balance(acct) == Decimal("100.00")
    [row] = unpaid_bills(acct)
    assert row.pk == b.pk and row.outstanding == Decimal("100.00")
    assert invariants.check_all() == []


def test_reversal_date_cannot_precede_the_payment(cashier, supervisor, acct):
    payment = pay(cashier, acct, "100.00", business_date=D(2025, 1, 20))
    with pytest.raises(ValidationFailed, match="不能早于收款日期"):
        reverse(payment, cashier, supervisor, business_date=D(2025, 1, 19))


def test_reversed_bill_can_be_paid_again(cashier, supervisor, acct, item):
    b = bill(acct, item, "100.00", D(2025, 1, 1))
    first = pay(cashier, acct, "100.00", bill_ids=[b.pk], business_date=D(2025, 1, 20))
    reverse(first, cashier, supervisor, business_date=D(2025, 1, 21))
    pay(cashier, acct, "100.00", bill_ids=[b.pk], business_date=D(2025, 1, 21))
    assert unpaid_bills(acct) == []
    assert invariants.check_all() == []
