"""收款: allocation order, partial payments, prepaid balance, several methods, receipts and refusals."""

import datetime
from decimal import Decimal

import pytest

from tests.ledger.factories import D, account, bill, fee_item, monthly_bills, pay
from wuye.core.errors import NotInScope, ValidationFailed
from wuye.core.models import AuditEntry
from wuye.core.roles import Role
from wuye.ledger.models import Allocation, Payment, PaymentLine, PrepaidMovement, ReceiptSequence
from wuye.ledger.selectors.prepaid import prepaid_balance
from wuye.ledger.selectors.window import unpaid_bills
from wuye.ledger.services.closing import cashier_close
from wuye.ledger.services.payments import payment_record

pytestmark = pytest.mark.django_db


def allocated(b) -> Decimal:
    return sum((a.amount for a in Allocation.objects.filter(bill=b)), Decimal("0"))


def test_oldest_due_first_by_default(cashier, acct, item):
    # Created out of order: allocation follows the due date, not the id.
    march = bill(acct, item, "100.00", D(2025, 3, 1))
    january = bill(acct, item, "100.00", D(2025, 1, 1))
    february = bill(acct, item, "100.00", D(2025, 2, 1))
    payment = pay(cashier, acct, "200.00", business_date=D(2025, 4, 1), include_late_fees=False)
    assert allocated(january) == Decimal("100.00")
    assert allocated(february) == Decimal("100.00")
    assert allocated(march) == 0
    assert payment.receipt_no == 1 and payment.amount == Decimal("200.00")
    assert AuditEntry.objects.filter(action="收款", object_id=str(payment.pk)).exists()


def test_chosen_bills_only(cashier, acct, item):
    january, february, march = monthly_bills(acct, item, D(2025, 1, 1), 3)
    pay(cashier, acct, "100.00", bill_ids=[march.pk], business_date=D(2025, 4, 1))
    assert [allocated(b) for b in (january, february, march)] == [0, 0, Decimal("100.00")]


def test_bill_not_yet_issued_on_the_business_date_is_not_paid(cashier, acct, item):
    # February's bill was issued (created) today, so a payment dated in January cannot reach it.
    january, february = monthly_bills(acct, item, D(2025, 1, 1), 2)
    pay(cashier, acct, "200.00", business_date=D(2025, 1, 20))
    assert [allocated(b) for b in (january, february)] == [Decimal("100.00"), 0]
    assert prepaid_balance(acct) == Decimal("100.00")
    with pytest.raises(ValidationFailed, match="尚未出账"):
        pay(cashier, acct, "100.00", bill_ids=[february.pk], business_date=D(2025, 1, 20))


def test_partial_payment_leaves_the_last_bill_partly_paid(cashier, acct, item):
    january, february, march = monthly_bills(acct, item, D(2025, 1, 1), 3)
    pay(cashier, acct, "150.00", business_date=D(2025, 3, 20), include_late_fees=False)
    assert [allocated(b) for b in (january, february, march)] == [
        Decimal("100.00"),
        Decimal("50.00"),
        0,
    ]
    open_ = unpaid_bills(acct, D(2025, 4, 1))
    assert [(b.pk, b.outstanding) for b in open_] == [
        (february.pk, Decimal("50.00")),
        (march.pk, Decimal("100.00")),
    ]


def test_overpayment_goes_to_prepaid_balance(cashier, acct, item):
    january = bill(acct, item, "100.00", D(2025, 1, 1))
    payment = pay(cashier, acct, "250.00", business_date=D(2025, 1, 10))
    assert allocated(january) == Decimal("100.00")
    deposit = PrepaidMovement.objects.get(payment=payment)
    assert deposit.kind == "deposit" and deposit.amount == Decimal("150.00")
    assert prepaid_balance(acct) == Decimal("150.00")


def test_pure_deposit_without_bills(cashier, acct):
    pay(cashier, acct, "600.00", business_date=D(2025, 1, 10))
    assert prepaid_balance(acct) == Decimal("600.00")


def test_several_methods_in_one_payment(cashier, acct, item):
    january, february = monthly_bills(acct, item, D(2025, 1, 1), 2)
    payment = payment_record(
        user=cashier,
        account=acct,
        lines=[("wechat", Decimal("120.00"), "4200001234"), ("cash", "80", "")],
        business_date=D(2025, 2, 10),
    )
    assert payment.amount == Decimal("200.00")
    assert sorted(PaymentLine.objects.filter(payment=payment).values_list("method", "amount")) == [
        ("cash", Decimal("80.00")),
        ("wechat", Decimal("120.00")),
    ]
    assert allocated(january) == allocated(february) == Decimal("100.00")


def test_prepaid_method_draws_on_the_balance(cashier, acct, item):
    pay(cashier, acct, "150.00", business_date=D(2025, 1, 5))
    january, february = monthly_bills(acct, item, D(2025, 1, 1), 2)
    payment = payment_record(
        user=cashier,
        account=acct,
        lines=[("prepaid", "150.00", ""), ("cash", "50.00", "")],
        business_date=D(2025, 2, 10),
    )
    assert allocated(january) == allocated(february) == Decimal("100.00")
    assert prepaid_balance(acct) == 0
    draw = PrepaidMovement.objects.get(payment=payment)
    assert draw.kind == "consume" and draw.amount == Decimal("-150.00")


def test_prepaid_method_beyond_the_balance_is_refused(cashier, acct, item):
    pay(cashier, acct, "50.00", business_date=D(2025, 1, 5))
    bill(acct, item, "100.00", D(2025, 1, 1))
    with pytest.raises(ValidationFailed) as exc:
        pay(cashier, acct, "80.00", method="prepaid", business_date=D(2025, 1, 10))
    assert exc.value.code == "ledger.prepaid_insufficient" and exc.value.field == "lines"
    assert "50.00" in exc.value.message


def test_prepaid_method_cannot_overpay(cashier, acct, item):
    pay(cashier, acct, "500.00", business_date=D(2025, 1, 5))
    bill(acct, item, "100.00", D(2025, 1, 1))
    with pytest.raises(ValidationFailed, match="多出 20.00 元"):
        pay(cashier, acct, "120.00", method="prepaid", business_date=D(2025, 1, 10))


def test_back_dated_prepaid_draw_cannot_overdraw_a_later_day(cashier, acct, item):
    # Deposited on Jan 10; a draw dated Jan 5 would leave Jan 5–9 negative.
    pay(cashier, acct, "100.00", business_date=D(2025, 1, 10))
    bill(acct, item, "100.00", D(2025, 1, 1))
    with pytest.raises(ValidationFailed, match="可用预存款余额 0.00 元"):
        pay(cashier, acct, "100.00", method="prepaid", business_date=D(2025, 1, 5))


def test_idempotency_key_returns_the_first_payment(cashier, acct, item):
    bill(acct, item, "100.00", D(2025, 1, 1))
    first = pay(cashier, acct, "100.00", idempotency_key="form-1", business_date=D(2025, 1, 10))
    again = pay(cashier, acct, "100.00", idempotency_key="form-1", business_date=D(2025, 1, 10))
    assert again.pk == first.pk
    assert Payment.objects.count() == 1
    assert prepaid_balance(acct) == 0


def test_idempotency_key_of_another_account_is_refused(cashier, project, acct):
    pay(cashier, acct, "10.00", idempotency_key="form-2", business_date=D(2025, 1, 10))
    other = account(project, "9-9-909", owner="李四")
    with pytest.raises(ValidationFailed) as exc:
        pay(cashier, other, "10.00", idempotency_key="form-2", business_date=D(2025, 1, 10))
    assert exc.value.field == "idempotency_key"


def test_receipt_numbers_run_per_project(cashier, make_user, project, other_project, acct):
    other_cashier = make_user("cashier2", Role.CASHIER, other_project)
    other = account(other_project, "1-1-101", owner="王五")
    numbers = [pay(cashier, acct, "10.00").receipt_no for _ in range(3)]
    assert numbers == [1, 2, 3]
    assert pay(other_cashier, other, "10.00").receipt_no == 1
    assert ReceiptSequence.objects.get(project=project).last_no == 3


def test_refused_payment_uses_no_receipt_number(cashier, acct, item):
    b = bill(acct, item, "100.00", D(2025, 1, 1))
    pay(cashier, acct, "100.00", bill_ids=[b.pk], business_date=D(2025, 1, 10))
    with pytest.raises(ValidationFailed):
        pay(cashier, acct, "100.00", bill_ids=[b.pk], business_date=D(2025, 1, 10))
    assert pay(cashier, acct, "5.00").receipt_no == 2


def test_chosen_bill_already_paid_is_refused(cashier, acct, item):
    b = bill(acct, item, "100.00", D(2025, 1, 1))
    pay(cashier, acct, "100.00", bill_ids=[b.pk], business_date=D(2025, 1, 10))
    with pytest.raises(ValidationFailed) as exc:
        pay(cashier, acct, "100.00", bill_ids=[b.pk], business_date=D(2025, 1, 10))
    assert exc.value.code == "ledger.bill_already_paid" and exc.value.field == "bill_ids"
    assert allocated(b) == Decimal("100.00")


def test_another_projects_bill_is_refused(cashier, acct, other_project):
    theirs = account(other_project, "1-1-101", owner="王五")
    their_bill = bill(theirs, fee_item(other_project), "100.00", D(2025, 1, 1))
    with pytest.raises(ValidationFailed) as exc:
        pay(cashier, acct, "100.00", bill_ids=[their_bill.pk], business_date=D(2025, 1, 10))
    assert exc.value.message == "不能收取其他项目的账单"
    assert exc.value.code == "ledger.bill_other_project" and exc.value.field == "bill_ids"
    assert not Payment.objects.exists()


def test_another_accounts_bill_is_refused(cashier, project, acct, item):
    neighbour = account(project, "3-2-1501", owner="赵六")
    their_bill = bill(neighbour, item, "100.00", D(2025, 1, 1))
    with pytest.raises(ValidationFailed, match="不属于该缴费账户") as exc:
        pay(cashier, acct, "100.00", bill_ids=[their_bill.pk])
    assert exc.value.code == "ledger.bill_other_account"


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        ("0", "须大于 0"),
        ("-100", "须大于 0"),
        ("abc", "不是有效的金额"),
        ("10.001", "最多两位小数"),
        ("NaN", "不是有效的金额"),
        (10.5, "不是有效的金额"),  # floats are refused: money never comes from a float
        ("", "不是有效的金额"),
    ],
)
def test_bad_amounts_are_refused_naming_the_field(cashier, acct, amount, text):
    with pytest.raises(ValidationFailed, match=text) as exc:
        payment_record(user=cashier, account=acct, lines=[("cash", amount, "")])
    assert exc.value.field == "lines[0].amount"
    assert "现金金额" in exc.value.message
    assert not Payment.objects.exists()


def test_unknown_method_and_empty_lines_are_refused(cashier, acct):
    with pytest.raises(ValidationFailed, match="支付方式“bitcoin”无效") as exc:
        payment_record(user=cashier, account=acct, lines=[("bitcoin", "10", "")])
    assert exc.value.field == "lines[0].method"
    with pytest.raises(ValidationFailed, match="请至少填写一种支付方式") as exc:
        payment_record(user=cashier, account=acct, lines=[])
    assert exc.value.field == "lines"


def test_future_business_date_is_refused(cashier, acct):
    tomorrow = datetime.date.today() + datetime.timedelta(days=2)
    with pytest.raises(ValidationFailed, match="晚于今天") as exc:
        pay(cashier, acct, "10.00", business_date=tomorrow)
    assert exc.value.field == "business_date"


def test_closed_day_is_refused(cashier, project, acct):
    day = D(2025, 1, 10)
    pay(cashier, acct, "10.00", business_date=day)
    cashier_close(user=cashier, project=project, business_date=day)
    with pytest.raises(ValidationFailed) as exc:
        pay(cashier, acct, "10.00", business_date=day)
    assert "已日结" in exc.value.message
    assert exc.value.code == "ledger.day_closed" and exc.value.field == "business_date"
    # The next day is open.
    assert pay(cashier, acct, "10.00", business_date=D(2025, 1, 11)).receipt_no == 2


def test_user_outside_the_project_or_without_the_role(make_user, project, other_project, acct):
    outsider = make_user("outsider", Role.CASHIER, other_project)
    with pytest.raises(NotInScope):
        pay(outsider, acct, "10.00")
    legal = make_user("legal", Role.LEGAL, project)
    with pytest.raises(ValidationFailed, match="不能收款"):
        pay(legal, acct, "10.00")


def test_one_payment_across_many_bills_uses_few_queries(
    cashier, acct, item, django_assert_max_num_queries
):
    monthly_bills(acct, item, D(2020, 1, 1), 60)
    with django_assert_max_num_queries(25):
        payment = pay(cashier, acct, "6000.00", business_date=D(2025, 1, 10))
    assert Allocation.objects.filter(payment=payment).count() == 60
