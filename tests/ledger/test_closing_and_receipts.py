"""日结, receipt prints (补打) and invoice requests."""

from decimal import Decimal

import pytest

from tests.ledger.factories import D, pay
from wuye.core.errors import ValidationFailed
from wuye.core.roles import Role
from wuye.ledger.models import CashierClosing, InvoiceRequest
from wuye.ledger.services.closing import cashier_close
from wuye.ledger.services.payments import payment_record
from wuye.ledger.services.receipts import invoice_request_create, receipt_print_record
from wuye.ledger.services.reversals import payment_reverse, prepaid_refund

pytestmark = pytest.mark.django_db


def test_cashier_close_records_totals_and_locks_the_day(cashier, supervisor, project, acct):
    day = D(2025, 3, 1)
    payment_record(
        user=cashier,
        account=acct,
        lines=[("wechat", "200.00", ""), ("cash", "100.00", "")],
        business_date=day,
    )
    second = pay(cashier, acct, "40.00", business_date=day)
    payment_reverse(
        user=cashier, payment=second, reason="收错", approved_by=supervisor, business_date=day
    )
    closing = cashier_close(user=cashier, project=project, business_date=day)
    assert closing.payment_count == 2 and closing.reversal_count == 1
    assert closing.total_amount == Decimal("300.00")
    assert closing.totals["cash"]["received"] == "140.00"
    assert closing.totals["cash"]["reversed"] == "40.00"
    assert closing.totals["wechat"]["net"] == "200.00"

    with pytest.raises(ValidationFailed, match="不能重复日结") as exc:
        cashier_close(user=cashier, project=project, business_date=day)
    assert exc.value.code == "ledger.already_closed"
    with pytest.raises(ValidationFailed, match="已日结") as exc:
        pay(cashier, acct, "1.00", business_date=day)
    assert exc.value.code == "ledger.day_closed"
    third = pay(cashier, acct, "5.00", business_date=D(2025, 2, 28))
    with pytest.raises(ValidationFailed, match="已日结"):
        payment_reverse(
            user=cashier, payment=third, reason="收错", approved_by=supervisor, business_date=day
        )
    with pytest.raises(ValidationFailed, match="已日结"):
        prepaid_refund(
            user=cashier,
            account=acct,
            amount="1",
            method="cash",
            reason="退",
            approved_by=supervisor,
            business_date=day,
        )


def test_another_cashiers_day_stays_open(cashier, make_user, project, acct):
    day = D(2025, 3, 1)
    cashier_close(user=cashier, project=project, business_date=day)
    colleague = make_user("cashier_b", Role.CASHIER, project)
    assert pay(colleague, acct, "10.00", business_date=day).receipt_no == 1


def test_closing_someone_elses_day_needs_a_supervisor(cashier, supervisor, make_user, project):
    colleague = make_user("cashier_b", Role.CASHIER, project)
    with pytest.raises(ValidationFailed, match="不能审批"):
        cashier_close(user=colleague, project=project, business_date=D(2025, 3, 1), cashier=cashier)
    closing = cashier_close(
        user=supervisor, project=project, business_date=D(2025, 3, 1), cashier=cashier
    )
    assert closing.cashier == cashier and CashierClosing.objects.count() == 1


def test_future_day_cannot_be_closed(cashier, project):
    import datetime

    with pytest.raises(ValidationFailed, match="晚于今天"):
        cashier_close(
            user=cashier,
            project=project,
            business_date=datetime.date.today() + datetime.timedelta(days=3),
        )


def test_first_print_is_the_original_and_later_prints_are_reprints(cashier, acct):
    payment = pay(cashier, acct, "10.00")
    first = receipt_print_record(user=cashier, payment=payment, paper="a4")
    again = receipt_print_record(user=cashier, payment=payment, paper="roll")
    assert not first.is_reprint and again.is_reprint
    with pytest.raises(ValidationFailed) as exc:
        receipt_print_record(user=cashier, payment=payment, paper="letter")
    assert exc.value.field == "paper"


def test_invoice_request_is_recorded_and_validated(cashier, supervisor, acct):
    payment = pay(cashier, acct, "100.00")
    request = invoice_request_create(
        user=cashier, payment=payment, title="张三", email="zhangsan@example.com"
    )
    assert request.status == "requested" and request.requested_by == cashier
    with pytest.raises(ValidationFailed) as exc:
        invoice_request_create(user=cashier, payment=payment, title="", email="a@b.cn")
    assert exc.value.field == "title"
    with pytest.raises(ValidationFailed) as exc:
        invoice_request_create(
            user=cashier, payment=payment, title="某公司", tax_number="12?", email="a@b.cn"
        )
    assert exc.value.field == "tax_number"
    with pytest.raises(ValidationFailed) as exc:
        invoice_request_create(user=cashier, payment=payment, title="某公司", email="not-mail")
    assert exc.value.field == "email"
    with pytest.raises(ValidationFailed, match="接收邮箱或手机号"):
        invoice_request_create(user=cashier, payment=payment, title="某公司")
    company = invoice_request_create(
        user=cashier,
        payment=payment,
        title="某某科技有限公司",
        tax_number="91310000MA1FL8XQ3B",
        phone="138 1234 5678",
    )
    assert company.phone == "13812345678"
    payment_reverse(user=cashier, payment=payment, reason="收错", approved_by=supervisor)
    with pytest.raises(ValidationFailed, match="已冲红"):
        invoice_request_create(user=cashier, payment=payment, title="张三", email="z@example.com")
    assert InvoiceRequest.objects.count() == 2
