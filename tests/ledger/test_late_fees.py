"""Late fees at the window (LAW.md §6): shown capped, billed and paid when a late payment settles a bill."""

from decimal import Decimal

import pytest

from tests.ledger.factories import D, bill, fee_item, late_fee_rule, pay
from wuye.billing import adjustments
from wuye.billing import services as billing
from wuye.billing.models import Bill
from wuye.ledger.models import Allocation
from wuye.ledger.selectors.prepaid import prepaid_balance
from wuye.ledger.selectors.window import account_position, unpaid_bills
from wuye.ledger.services.reversals import payment_reverse

pytestmark = pytest.mark.django_db


def test_unpaid_bills_show_the_capped_late_fee_beside_the_contract_figure(acct, item, project):
    late_fee_rule(project)
    b = bill(acct, item, "1000.00", D(2025, 1, 1), due_date=D(2025, 1, 1))
    [row] = unpaid_bills(acct, D(2025, 1, 11))
    # 1000 unpaid Jan 2–11 (10 days) × 0.00015 = 1.50; the contract's 0.3% a day would be 30.00.
    assert row.pk == b.pk
    assert row.late_fee.days == 10
    assert row.late_fee.capped == Decimal("1.50") == row.late_fee.due
    assert row.late_fee.contract == Decimal("30.00") and row.late_fee.contract_exceeds_cap


def test_no_late_fee_without_a_contract_rule(acct, item):
    bill(acct, item, "1000.00", D(2024, 1, 1))
    [row] = unpaid_bills(acct, D(2025, 1, 1))
    assert row.late_fee.due == 0


def test_no_late_fee_for_items_that_carry_none(acct, project):
    late_fee_rule(project)
    exempt = fee_item(project, "LJF", "生活垃圾处理费", late_fee_applies=False)
    bill(acct, exempt, "1000.00", D(2024, 1, 1))
    [row] = unpaid_bills(acct, D(2025, 1, 1))
    assert row.late_fee.due == 0


def test_late_payment_bills_the_late_fee_and_pays_it_principal_first(cashier, acct, item, project):
    late_fee_rule(project)
    b = bill(acct, item, "1000.00", D(2025, 1, 1), due_date=D(2025, 1, 1))
    # Paid on Jan 11: the day of payment accrues, so Jan 2–11 (10 days) × 0.15 = 1.50.
    payment = pay(cashier, acct, "1001.50", business_date=D(2025, 1, 11))
    late = Bill.objects.get(kind="late_fee")
    assert late.late_fee_for_id == b.pk and late.amount == Decimal("1.50")
    assert late.fee_item_id == b.fee_item_id and late.due_date == D(2025, 1, 11)
    shares = dict(Allocation.objects.filter(payment=payment).values_list("bill_id", "amount"))
    assert shares == {b.pk: Decimal("1000.00"), late.pk: Decimal("1.50")}
    assert unpaid_bills(acct, D(2025, 2, 1)) == []
    assert account_position(acct, D(2025, 2, 1)).outstanding == 0


def test_late_fee_is_capped_at_the_principal(cashier, acct, item, project):
    # A fantastic contract rate and a high LPR: years of interest would exceed the bill.
    late_fee_rule(project, daily_rate="0.5")
    billing.lpr_rate_set(
        user=None, company=project.company, effective_from=D(2021, 1, 1), annual_rate="0.9"
    )
    b = bill(acct, item, "100.00", D(2021, 1, 1), due_date=D(2021, 1, 1))
    [row] = unpaid_bills(acct, D(2025, 1, 1))
    assert row.late_fee.capped == Decimal("100.00")
    pay(cashier, acct, "200.00", business_date=D(2025, 1, 1))
    late = Bill.objects.get(kind="late_fee")
    assert late.amount == Decimal("100.00") and late.late_fee_for_id == b.pk


def test_money_short_of_the_late_fee_leaves_the_late_fee_bill_open(cashier, acct, item, project):
    late_fee_rule(project)
    bill(acct, item, "1000.00", D(2025, 1, 1), due_date=D(2025, 1, 1))
    pay(cashier, acct, "1000.00", business_date=D(2025, 1, 11))
    [late] = unpaid_bills(acct, D(2025, 2, 1))
    assert late.kind == "late_fee" and late.outstanding == Decimal("1.50")
    assert late.late_fee.due == 0  # a late-fee bill carries no late fee of its own


def test_partial_payment_does_not_bill_the_late_fee_yet(cashier, acct, item, project):
    late_fee_rule(project)
    bill(acct, item, "1000.00", D(2025, 1, 1), due_date=D(2025, 1, 1))
    pay(cashier, acct, "600.00", business_date=D(2025, 1, 6))
    assert not Bill.objects.filter(kind="late_fee").exists()
    [row] = unpaid_bills(acct, D(2025, 1, 11))
    # 1000 for Jan 2–6 (5 days, the day of payment accrues) then 400 for Jan 7–11 (5 days):
    # (5000 + 2000) × 0.00015 = 1.05
    assert row.outstanding == Decimal("400.00") and row.late_fee.due == Decimal("1.05")


def test_without_late_fees_only_the_principal_is_taken(cashier, acct, item, project):
    late_fee_rule(project)
    bill(acct, item, "1000.00", D(2025, 1, 1), due_date=D(2025, 1, 1))
    pay(cashier, acct, "1001.35", business_date=D(2025, 1, 11), include_late_fees=False)
    assert not Bill.objects.filter(kind="late_fee").exists()
    assert prepaid_balance(acct) == Decimal("1.35")


def test_waived_and_billed_late_fees_are_not_asked_for_twice(
    cashier, supervisor, manager, acct, item, project, approver
):
    late_fee_rule(project)
    b = bill(acct, item, "1000.00", D(2025, 1, 1), due_date=D(2025, 1, 1))
    billing.late_fee_waive(
        user=manager,
        bill=b,
        amount="0.50",
        reason="业主配合维修",
        approved_by=approver,
        as_of=D(2025, 1, 11),
    )
    [row] = unpaid_bills(acct, D(2025, 1, 11))
    assert row.late_fee.capped == Decimal("1.50") and row.late_fee.waived == Decimal("0.50")
    assert row.late_fee.due == Decimal("1.00")
    # Paid Jan 11 (1.50 accrued − 0.50 waived = 1.00 billed, as quoted); reversed; paid again.
    payment = pay(cashier, acct, "1001.00", business_date=D(2025, 1, 11))
    assert Bill.objects.get(kind="late_fee").amount == Decimal("1.00")

    payment_reverse(
        user=cashier,
        payment=payment,
        reason="收错户",
        approved_by=supervisor,
        business_date=D(2025, 1, 12),
    )
    rows = {r.kind: r for r in unpaid_bills(acct, D(2025, 1, 20))}
    # Unpaid again: the accrued fee is counted once, less the waiver and the billed 1.00.
    assert rows["charge"].late_fee.billed == Decimal("1.00")
    assert rows["late_fee"].outstanding == Decimal("1.00")
    charge_due = rows["charge"].late_fee.due
    assert charge_due == rows["charge"].late_fee.capped - Decimal("0.50") - Decimal("1.00")


def test_late_fee_history_uses_reductions_on_their_dates(manager, acct, item, project, approver):
    late_fee_rule(project)
    b = bill(acct, item, "1000.00", D(2025, 1, 1), due_date=D(2025, 1, 1))
    adjustments.bill_adjust(
        user=manager,
        bill=b,
        kind="waiver",
        amount="600",
        reason="漏水补偿",
        approved_by=approver,
        effective_date=D(2025, 1, 6),
    )
    [row] = unpaid_bills(acct, D(2025, 1, 11))
    assert row.outstanding == Decimal("400.00") and row.late_fee.capped == Decimal("1.05")


def test_unpaid_bills_query_count_does_not_grow_with_bills(
    acct, item, project, django_assert_num_queries
):
    late_fee_rule(project)
    for n in range(1, 13):
        bill(acct, item, "100.00", D(2024, n, 1))
    acct.refresh_from_db()
    with django_assert_num_queries(8):
        rows = unpaid_bills(acct, D(2025, 1, 1))
    assert len(rows) == 12 and all(r.late_fee.due > 0 for r in rows)
