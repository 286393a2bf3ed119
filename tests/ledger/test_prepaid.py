"""预存款: consumption by new bills (and by billing runs), refunds."""

from decimal import Decimal

import pytest

from tests.ledger.factories import D, account, bill, monthly_bills, pay
from wuye.billing import fee_settings, runs
from wuye.billing.models import Bill
from wuye.core.errors import ValidationFailed
from wuye.core.models import AuditEntry
from wuye.ledger.models import Allocation, PrepaidMovement, Refund
from wuye.ledger.selectors.outstanding import bill_outstanding
from wuye.ledger.selectors.prepaid import prepaid_balance
from wuye.ledger.selectors.window import account_position, unpaid_bills
from wuye.ledger.services.prepaid import prepaid_consume, prepaid_consume_for_run
from wuye.ledger.services.reversals import prepaid_refund

pytestmark = pytest.mark.django_db


def test_prepaid_consume_pays_open_bills_oldest_first(cashier, acct, item):
    pay(cashier, acct, "250.00", business_date=D(2025, 1, 5))
    january, february, march = monthly_bills(acct, item, D(2025, 1, 1), 3)
    allocations = prepaid_consume(account=acct, business_date=D(2025, 3, 5))
    assert [(a.bill_id, a.amount) for a in allocations] == [
        (january.pk, Decimal("100.00")),
        (february.pk, Decimal("100.00")),
        (march.pk, Decimal("50.00")),
    ]
    assert prepaid_balance(acct) == 0
    movement = PrepaidMovement.objects.get(kind="consume")
    assert movement.amount == Decimal("-250.00") and movement.payment_id is None
    assert {a.prepaid_id for a in allocations} == {movement.pk}


def test_prepaid_consume_chosen_bills_and_nothing_without_balance(cashier, acct, item):
    january, february = monthly_bills(acct, item, D(2025, 1, 1), 2)
    assert prepaid_consume(account=acct, business_date=D(2025, 3, 5)) == []
    pay(cashier, acct, "100.00", bill_ids=[january.pk], business_date=D(2025, 3, 5))
    pay(cashier, acct, "300.00", bill_ids=[february.pk], business_date=D(2025, 3, 5))
    assert prepaid_balance(acct) == Decimal("200.00")
    march = bill(acct, item, "100.00", D(2025, 3, 1))
    [allocation] = prepaid_consume(account=acct, business_date=D(2025, 3, 6), bills=[march])
    assert allocation.bill_id == march.pk and allocation.amount == Decimal("100.00")
    assert prepaid_balance(acct) == Decimal("100.00")


def test_prepaid_consume_refuses_another_accounts_bill(project, acct, item, cashier):
    pay(cashier, acct, "100.00", business_date=D(2025, 1, 5))
    other = account(project, "5-5-505", owner="钱七")
    theirs = bill(other, item, "100.00", D(2025, 1, 1))
    with pytest.raises(ValidationFailed, match="不属于该缴费账户"):
        prepaid_consume(account=acct, business_date=D(2025, 1, 6), bills=[theirs])


def _area_item(project):
    item = fee_settings.fee_item_create(
        user=None, project=project, code="WYF2", name="物业服务费", method="area"
    )
    fee_settings.fee_standard_add(
        user=None, fee_item=item, unit_price="2.50", valid_from=D(2020, 1, 1)
    )
    return item


def _commit_run(project, manager, month):
    run = runs.run_preview(project=project, period_start=month, user=manager)
    run = runs.run_commit(run=run, user=manager)
    run.refresh_from_db()
    assert run.status == "committed", run.error
    return run


def test_billing_run_consumes_prepaid_balances(cashier, manager, project, acct):
    _area_item(project)  # 89.50 m² × 2.50 = 223.75 a month
    poor = account(project, "3-2-1503", owner="孙八")
    pay(cashier, acct, "500.00", business_date=D(2026, 10, 20))
    pay(cashier, poor, "100.00", business_date=D(2026, 10, 20))
    run = _commit_run(project, manager, D(2026, 11, 1))
    made = prepaid_consume_for_run(run.pk)
    assert made == 2
    assert prepaid_balance(acct) == Decimal("276.25")
    assert prepaid_balance(poor) == 0
    [poor_bill] = unpaid_bills(poor)
    assert poor_bill.outstanding == Decimal("123.75")
    assert AuditEntry.objects.filter(action="预存款自动抵扣").count() == 1
    # Idempotent: a rerun finds acct's bill paid and poor without balance.
    assert prepaid_consume_for_run(run.pk) == 0


def test_billing_run_consumes_only_its_own_bills(cashier, manager, project, acct, item):
    _area_item(project)
    old = bill(acct, item, "100.00", D(2025, 1, 1))  # old arrears: left for the window
    pay(cashier, acct, "300.00", bill_ids=[old.pk], business_date=D(2025, 1, 5))
    # 200.00 prepaid after paying the old bill in full; add another old, unpaid bill.
    older = bill(acct, item, "100.00", D(2024, 1, 1))
    run = _commit_run(project, manager, D(2026, 11, 1))
    prepaid_consume_for_run(run.pk)
    assert bill_outstanding(Bill.objects.filter(pk=older.pk)).get().outstanding == Decimal("100.00")
    new_bill = Bill.objects.get(run=run)
    assert bill_outstanding(Bill.objects.filter(pk=new_bill.pk)).get().outstanding == Decimal(
        "23.75"
    )


def test_billing_run_leaves_balances_when_the_setting_is_off(cashier, manager, project, acct):
    _area_item(project)
    fee_settings.billing_settings_update(user=manager, project=project, auto_consume_prepaid=False)
    pay(cashier, acct, "500.00", business_date=D(2026, 10, 20))
    run = _commit_run(project, manager, D(2026, 11, 1))
    assert prepaid_consume_for_run(run.pk) == 0
    assert prepaid_balance(acct) == Decimal("500.00")


def test_after_billing_run_hook(
    cashier, manager, project, acct, settings, django_capture_on_commit_callbacks
):
    settings.WUYE_AFTER_BILLING_RUN = ["wuye.ledger.tasks.after_billing_run"]
    _area_item(project)
    pay(cashier, acct, "500.00", business_date=D(2026, 10, 20))
    with django_capture_on_commit_callbacks(execute=True):
        _commit_run(project, manager, D(2026, 11, 1))
    assert prepaid_balance(acct) == Decimal("276.25")


def test_refund_up_to_the_balance(cashier, supervisor, acct):
    pay(cashier, acct, "300.00", business_date=D(2025, 1, 5))
    with pytest.raises(ValidationFailed) as exc:
        prepaid_refund(
            user=cashier,
            account=acct,
            amount="300.01",
            method="cash",
            reason="合同到期退预存",
            approved_by=supervisor,
        )
    assert exc.value.code == "ledger.prepaid_insufficient" and exc.value.field == "amount"
    assert "300.00" in exc.value.message
    refund = prepaid_refund(
        user=cashier,
        account=acct,
        amount="300.00",
        method="transfer",
        reason="合同到期退预存",
        approved_by=supervisor,
    )
    assert prepaid_balance(acct) == 0
    assert PrepaidMovement.objects.get(refund=refund).amount == Decimal("-300.00")
    with pytest.raises(ValidationFailed):
        prepaid_refund(
            user=cashier,
            account=acct,
            amount="0.01",
            method="cash",
            reason="再退",
            approved_by=supervisor,
        )


def test_refund_needs_an_approver_a_reason_and_a_money_method(cashier, steward, supervisor, acct):
    pay(cashier, acct, "300.00", business_date=D(2025, 1, 5))
    with pytest.raises(ValidationFailed, match="不能审批") as exc:
        prepaid_refund(
            user=cashier, account=acct, amount="10", method="cash", reason="退", approved_by=steward
        )
    assert exc.value.field == "approved_by"
    with pytest.raises(ValidationFailed, match="请填写原因"):
        prepaid_refund(
            user=cashier,
            account=acct,
            amount="10",
            method="cash",
            reason=" ",
            approved_by=supervisor,
        )
    with pytest.raises(ValidationFailed, match="支付方式“prepaid”无效") as exc:
        prepaid_refund(
            user=cashier,
            account=acct,
            amount="10",
            method="prepaid",
            reason="退",
            approved_by=supervisor,
        )
    assert exc.value.field == "method"
    assert not Refund.objects.exists()


def test_consumption_allocations_count_as_paid(cashier, acct, item):
    pay(cashier, acct, "100.00", business_date=D(2025, 1, 5))
    b = bill(acct, item, "100.00", D(2025, 1, 1))
    prepaid_consume(account=acct, business_date=D(2025, 1, 20))
    assert Allocation.objects.get(bill=b).prepaid_id is not None
    position = account_position(acct, D(2025, 1, 20))
    assert position.outstanding == 0 and position.paid == Decimal("100.00")
    assert position.prepaid_balance == 0
    before = account_position(acct, D(2025, 1, 19))
    assert before.outstanding == Decimal("100.00") and before.prepaid_balance == Decimal("100.00")
