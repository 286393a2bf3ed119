"""Reads: what a household owed on any date, statements, the cashier's day — fixed query counts."""

from decimal import Decimal

import pytest

from tests.ledger.factories import D, bill, monthly_bills, pay
from wuye.billing import adjustments
from wuye.billing.selectors import accounts_of_room
from wuye.ledger.selectors.closing import cashier_day
from wuye.ledger.selectors.payments import payment_detail, payment_is_reversed, payments_of_account
from wuye.ledger.selectors.receipts import receipt_data
from wuye.ledger.selectors.statement import statement
from wuye.ledger.selectors.window import account_of_room, account_position, unpaid_bills
from wuye.ledger.services.payments import payment_record
from wuye.ledger.services.prepaid import prepaid_consume
from wuye.ledger.services.reversals import payment_reverse, prepaid_refund

pytestmark = pytest.mark.django_db


def test_position_as_of_before_and_after_a_payment(cashier, acct, item):
    january, february, march = monthly_bills(acct, item, D(2025, 1, 1), 3)  # due on the 15th
    pay(cashier, acct, "150.00", business_date=D(2025, 3, 10))
    before = account_position(acct, D(2025, 3, 9))
    assert (before.billed, before.paid, before.outstanding) == (
        Decimal("300.00"),
        0,
        Decimal("300.00"),
    )
    assert before.overdue == Decimal("200.00") and before.overdue_bills == 2
    assert before.oldest_overdue_due_date == D(2025, 1, 15)
    after = account_position(acct, D(2025, 3, 10))
    assert after.paid == Decimal("150.00") and after.outstanding == Decimal("150.00")
    assert after.overdue == Decimal("50.00") and after.overdue_bills == 1
    assert after.oldest_overdue_due_date == D(2025, 2, 15)
    later = account_position(acct, D(2025, 3, 16))
    assert later.overdue == Decimal("150.00") and later.overdue_bills == 2
    # Before February existed, only January was owed.
    early = account_position(acct, D(2025, 1, 31))
    assert early.billed == Decimal("100.00") and early.overdue == Decimal("100.00")


def test_back_dated_payment_changes_the_past_from_its_date(cashier, acct, item):
    monthly_bills(acct, item, D(2025, 1, 1), 2)
    pay(cashier, acct, "100.00", business_date=D(2025, 5, 1))
    pay(cashier, acct, "100.00", business_date=D(2025, 2, 1))  # a transfer found late
    assert account_position(acct, D(2025, 1, 31)).outstanding == Decimal("100.00")
    assert account_position(acct, D(2025, 2, 1)).outstanding == Decimal("100.00")
    assert account_position(acct, D(2025, 2, 28)).outstanding == Decimal("100.00")
    assert account_position(acct, D(2025, 5, 1)).outstanding == 0


def test_adjustments_count_from_their_date(manager, acct, item, approver):
    b = bill(acct, item, "100.00", D(2025, 1, 1))
    adjustments.bill_adjust(
        user=manager,
        bill=b,
        kind="discount",
        amount="30",
        reason="预交优惠",
        approved_by=approver,
        effective_date=D(2025, 1, 10),
    )
    assert account_position(acct, D(2025, 1, 9)).outstanding == Decimal("100.00")
    position = account_position(acct, D(2025, 1, 10))
    assert position.reduced == Decimal("30.00") and position.outstanding == Decimal("70.00")


def test_position_and_unpaid_bills_use_fixed_queries(
    cashier, acct, item, django_assert_num_queries
):
    monthly_bills(acct, item, D(2016, 1, 1), 120)
    pay(cashier, acct, "6000.00", business_date=D(2025, 1, 1), include_late_fees=False)
    with django_assert_num_queries(2):
        position = account_position(acct, D(2026, 1, 1))
    assert position.outstanding == Decimal("6000.00")
    with django_assert_num_queries(3):  # project, bills, late-fee rule (none)
        rows = unpaid_bills(acct, D(2026, 1, 1))
    assert len(rows) == 60


def test_statement_running_balance(cashier, supervisor, manager, acct, item, approver):
    january, february, march = monthly_bills(acct, item, D(2025, 1, 1), 3)
    pay(cashier, acct, "50.00", business_date=D(2025, 1, 20))
    adjustments.bill_adjust(
        user=manager,
        bill=february,
        kind="waiver",
        amount="20",
        reason="漏水减免",
        approved_by=approver,
        effective_date=D(2025, 2, 3),
    )
    payment = payment_record(
        user=cashier,
        account=acct,
        lines=[("wechat", "200.00", ""), ("cash", "30.00", "")],
        business_date=D(2025, 2, 10),
    )
    payment_reverse(
        user=cashier,
        payment=payment,
        reason="重复收款",
        approved_by=supervisor,
        business_date=D(2025, 2, 11),
    )
    pay(cashier, acct, "300.00", business_date=D(2025, 2, 12))
    prepaid_consume(account=acct, business_date=D(2025, 3, 2))

    st = statement(acct, D(2025, 2, 1), D(2025, 3, 31))
    assert st.opening_balance == Decimal("50.00")  # January, half paid
    kinds = [
        (line.date, line.kind, line.charge, line.credit, line.prepaid_change) for line in st.lines
    ]
    assert kinds == [
        (D(2025, 2, 1), "bill", Decimal("100.00"), 0, 0),
        (D(2025, 2, 3), "adjustment", 0, Decimal("20.00"), 0),
        (D(2025, 2, 10), "payment", 0, Decimal("130.00"), Decimal("100.00")),
        (D(2025, 2, 11), "reversal", Decimal("130.00"), 0, Decimal("-100.00")),
        (D(2025, 2, 12), "payment", 0, Decimal("130.00"), Decimal("170.00")),
        (D(2025, 3, 1), "bill", Decimal("100.00"), 0, 0),
        (D(2025, 3, 2), "prepaid", 0, Decimal("100.00"), Decimal("-100.00")),
    ]
    assert [line.balance for line in st.lines] == [
        Decimal(x) for x in ("150.00", "130.00", "0.00", "130.00", "0.00", "100.00", "0.00")
    ]
    assert [line.prepaid_balance for line in st.lines][-1] == Decimal("70.00")
    assert st.closing_balance == 0 and st.closing_prepaid == Decimal("70.00")
    assert st.opening_balance + st.total_charged - st.total_credited == st.closing_balance
    assert "微信 200.00" in st.lines[2].text


def test_statement_uses_fixed_queries(cashier, acct, item, django_assert_num_queries):
    monthly_bills(acct, item, D(2024, 1, 1), 24)
    for month in range(1, 13):
        pay(cashier, acct, "100.00", business_date=D(2025, month, 20))
    with django_assert_num_queries(10):
        st = statement(acct, D(2024, 1, 1), D(2025, 12, 31))
    assert len(st.lines) == 36
    assert st.closing_balance == Decimal("1200.00")


def test_cashier_day_totals(cashier, supervisor, make_user, project, acct, item):
    from wuye.core.roles import Role

    other_cashier = make_user("cashier_b", Role.CASHIER, project)
    day = D(2025, 3, 1)
    payment_record(
        user=cashier,
        account=acct,
        lines=[("wechat", "200.00", ""), ("cash", "100.00", "")],
        business_date=day,
    )
    second = pay(cashier, acct, "50.00", method="cash", business_date=day)
    pay(cashier, acct, "60.00", method="alipay", business_date=D(2025, 3, 2))  # another day
    pay(other_cashier, acct, "70.00", method="cash", business_date=day)  # another cashier
    payment_reverse(
        user=cashier, payment=second, reason="收错", approved_by=supervisor, business_date=day
    )
    prepaid_refund(
        user=cashier,
        account=acct,
        amount="20",
        method="cash",
        reason="退预存",
        approved_by=supervisor,
        business_date=day,
    )
    figures = cashier_day(project, cashier, day)
    totals = {t.method: (t.received, t.reversed, t.refunded, t.net) for t in figures.totals}
    assert totals == {
        "cash": (Decimal("150.00"), Decimal("50.00"), Decimal("20.00"), Decimal("80.00")),
        "wechat": (Decimal("200.00"), 0, 0, Decimal("200.00")),
    }
    assert [p.receipt_no for p in figures.payments] == [1, 2]
    assert [p.is_reversed for p in figures.payments] == [False, True]
    assert len(figures.reversals) == 1 and len(figures.refunds) == 1
    assert figures.handed_over == Decimal("280.00")
    assert not figures.is_closed


def test_cashier_day_uses_fixed_queries(
    cashier, supervisor, project, acct, django_assert_num_queries
):
    payments = [pay(cashier, acct, f"{n + 1}.00", business_date=D(2025, 3, 1)) for n in range(10)]
    for payment in payments[:3]:
        payment_reverse(
            user=cashier,
            payment=payment,
            reason="收错",
            approved_by=supervisor,
            business_date=D(2025, 3, 1),
        )
    with django_assert_num_queries(6):
        figures = cashier_day(project, cashier, D(2025, 3, 1))
    assert figures.received == Decimal("55.00") and figures.handed_over == Decimal("49.00")


def test_receipt_data(cashier, supervisor, acct, item, project):
    b = bill(acct, item, "100.00", D(2025, 1, 1))
    payment = payment_record(
        user=cashier,
        account=acct,
        lines=[("wechat", "100.00", ""), ("cash", "50.00", "")],
        business_date=D(2025, 1, 20),
    )
    data = receipt_data(payment)
    assert data.receipt_no == 1 and data.room_code == "3-2-1502" and data.payer == "张三"
    assert [(x.item, x.period, x.amount) for x in data.lines] == [
        ("物业服务费", "2025-01", Decimal("100.00"))
    ]
    assert data.methods == [("微信", Decimal("100.00")), ("现金", Decimal("50.00"))]
    assert data.prepaid_deposit == Decimal("50.00") and data.prepaid_balance == Decimal("50.00")
    assert data.total == Decimal("150.00") and not data.is_reprint and data.reversed_note == ""
    pay(cashier, acct, "10.00", business_date=D(2025, 1, 21))
    assert receipt_data(payment).prepaid_balance == Decimal("50.00")  # as printed then
    payment_reverse(user=cashier, payment=payment, reason="收错户", approved_by=supervisor)
    assert "收错户" in receipt_data(payment, is_reprint=True).reversed_note
    assert b.pk


def test_payment_detail_and_account_lookups(cashier, other_project, acct, item, project):
    bill(acct, item, "100.00", D(2025, 1, 1))
    payment = pay(cashier, acct, "120.00", business_date=D(2025, 1, 20))
    found = payment_detail(payment.pk, [project.pk])
    assert found.receipt_no == 1 and [a.amount for a in found.allocations.all()] == [
        Decimal("100.00")
    ]
    assert [line.method for line in found.lines.all()] == ["cash"]
    assert payment_detail(payment.pk, [other_project.pk]) is None
    assert [p.pk for p in payments_of_account(acct)] == [payment.pk]
    assert not payment_is_reversed(payment)
    assert accounts_of_room(acct.room_id) == [acct]
    assert account_of_room(acct.room) == acct
