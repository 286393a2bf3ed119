"""The invariants find every kind of broken ledger row, and ``check_ledger`` reports them."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import DatabaseError, transaction
from django.utils import timezone

from tests.ledger.factories import D, account, bill, pay
from wuye.ledger import invariants
from wuye.ledger.models import Allocation, CashierClosing, Payment, PaymentLine, PrepaidMovement
from wuye.ledger.services.prepaid import prepaid_consume
from wuye.ledger.services.reversals import payment_reverse, prepaid_refund

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger(cashier, supervisor, acct, item):
    """A small, sound ledger: payments, a reversal, prepaid consumed and refunded."""
    january = bill(acct, item, "100.00", D(2025, 1, 1))
    bill(acct, item, "100.00", D(2025, 2, 1))
    first = pay(cashier, acct, "150.00", business_date=D(2025, 2, 20))
    second = pay(cashier, acct, "300.00", business_date=D(2025, 2, 21))
    payment_reverse(user=cashier, payment=first, reason="收错", approved_by=supervisor)
    prepaid_consume(account=acct, business_date=D(2025, 2, 22))
    prepaid_refund(
        user=cashier, account=acct, amount="50", method="cash", reason="退", approved_by=supervisor
    )
    return {"bill": january, "payment": second}


def codes(problems):
    return sorted({p.code for p in problems})


def test_sound_ledger_has_no_problems(ledger):
    assert invariants.check_all() == []


def test_overpaid_bill_is_found(ledger):
    Allocation.objects.create(
        bill=ledger["bill"],
        amount=Decimal("5.00"),
        effective_date=D(2025, 3, 1),
        payment=ledger["payment"],
    )
    problems = invariants.check_all()
    assert "ledger.bill_overpaid" in codes(problems)
    assert "ledger.payment_unbalanced" in codes(problems)
    [overpaid] = [p for p in problems if p.code == "ledger.bill_overpaid"]
    assert overpaid.object_id == ledger["bill"].pk and "核销" in overpaid.message


def test_negative_prepaid_balance_is_found(ledger, acct):
    PrepaidMovement.objects.create(
        account=acct, kind="refund", amount=Decimal("-500"), effective_date=D(2025, 3, 1)
    )
    problems = invariants.prepaid_never_negative()
    assert codes(problems) == ["ledger.prepaid_negative"] and problems[0].object_id == acct.pk


def test_receipt_gap_is_found(ledger, acct, cashier, project):
    Payment.objects.create(
        project=project,
        account=acct,
        receipt_no=7,
        amount=Decimal("1"),
        business_date=D(2025, 3, 1),
        received_at=timezone.now(),
        cashier=cashier,
    )
    problems = invariants.receipts_gap_free()
    assert codes(problems) == ["ledger.receipt_gap", "ledger.receipt_sequence"]
    assert "缺号 [3, 4, 5, 6]" in problems[0].message


def test_payment_lines_not_matching_are_found(ledger):
    PaymentLine.objects.create(payment=ledger["payment"], method="cash", amount=Decimal("1.00"))
    assert codes(invariants.payments_balanced()) == ["ledger.payment_unbalanced"]


def test_reversal_not_mirroring_is_found(ledger):
    original = Allocation.objects.filter(payment=ledger["payment"], amount__gt=0).first()
    Allocation.objects.create(
        bill=original.bill,
        amount=-original.amount + Decimal("1"),
        effective_date=D(2025, 3, 1),
        payment=ledger["payment"],
        reverses=original,
    )
    assert "ledger.reversal_mismatch" in codes(invariants.reversals_mirror())


def test_allocation_to_another_account_is_found(ledger, project, item):
    theirs = bill(account(project, "8-8-808", owner="周九"), item, "100.00", D(2025, 1, 1))
    Allocation.objects.create(
        bill=theirs, amount=Decimal("1"), effective_date=D(2025, 3, 1), payment=ledger["payment"]
    )
    assert codes(invariants.allocations_same_account()) == ["ledger.allocation_other_account"]


def test_entry_after_closing_is_found(ledger, cashier, project, acct):
    CashierClosing.objects.create(
        project=project,
        cashier=cashier,
        business_date=D(2025, 3, 1),
        totals={},
        total_amount=0,
        payment_count=0,
        reversal_count=0,
    )
    Payment.objects.create(
        project=project,
        account=acct,
        receipt_no=3,
        amount=Decimal("1"),
        business_date=D(2025, 3, 1),
        received_at=timezone.now(),
        cashier=cashier,
    )
    assert codes(invariants.entries_after_closing()) == ["ledger.entry_after_closing"]


def test_check_ledger_command(ledger, project, acct):
    out = io.StringIO()
    call_command("check_ledger", stdout=out)
    assert "没有发现问题" in out.getvalue()
    call_command("check_ledger", "--project", project.code, stdout=out)
    PrepaidMovement.objects.create(
        account=acct, kind="refund", amount=Decimal("-500"), effective_date=D(2025, 3, 1)
    )
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command("check_ledger", "--project", project.code, stdout=out, stderr=err)
    assert exc.value.code == 1
    assert "[ledger.prepaid_negative]" in out.getvalue() and "发现 1 个问题" in err.getvalue()


def test_database_refuses_to_rewrite_a_ledger_row(ledger):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Allocation.objects.filter(payment=ledger["payment"]).update(amount=Decimal("1.00"))
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Payment.objects.filter(pk=ledger["payment"].pk).update(note="改过")
