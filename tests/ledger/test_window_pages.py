"""The fee window (收银台), receipts and invoice requests, through the pages as a cashier uses them."""

from __future__ import annotations

import shutil
import subprocess
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.ledger import factories
from tests.ledger.factories import D
from wuye.core.roles import Role
from wuye.ledger.enums import InvoiceKind, InvoiceStatus
from wuye.ledger.models import Allocation, InvoiceRequest, Payment, ReceiptPrint
from wuye.ledger.services.closing import cashier_close
from wuye.ledger.services.receipts import invoice_request_create, receipt_print_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_bills(acct, item):
    return [
        factories.bill(acct, item, "100.00", D(2024, 1, 1)),
        factories.bill(acct, item, "120.50", D(2024, 2, 1)),
    ]


@pytest.fixture
def at_window(client, cashier):
    client.force_login(cashier)
    return client


def window_url(acct):
    return reverse("ledger:window_room", args=[acct.room_id])


def pay(client, acct, bills, lines, key="key-1", **extra):
    data = {
        "account": acct.pk,
        "bill": [b.pk for b in bills],
        "method": [m for m, _, _ in lines],
        "amount": [a for _, a, _ in lines],
        "reference": [r for _, _, r in lines],
        "idempotency_key": key,
        **extra,
    }
    return client.post(reverse("ledger:window_pay", args=[acct.room_id]), data)


# --- the window --------------------------------------------------------------------------------


def test_window_lists_every_unpaid_bill_oldest_first_all_ticked(at_window, acct, item):
    later = factories.bill(acct, item, "120.50", D(2024, 2, 1))
    earlier = factories.bill(acct, item, "100.00", D(2024, 1, 1))
    page = at_window.get(window_url(acct))
    assert page.status_code == 200
    assert [b.pk for b in page.context["bills"]] == [earlier.pk, later.pk]
    assert page.context["chosen"] == {earlier.pk, later.pk}
    html = page.content.decode()
    assert html.count('class="bill" id="bill-') == 2 and html.count(" checked>") >= 2
    assert page.context["quote"].due == Decimal("220.50")
    assert page.context["rows"][0].amount == "220.50"  # the first line asks for everything


def test_window_shows_capped_late_fee_and_contract_figure_when_higher(at_window, acct, item):
    factories.late_fee_rule(acct.project)
    bill = factories.bill(acct, item, "100.00", D(2024, 1, 1))
    page = at_window.get(window_url(acct))
    fee = page.context["bills"][0].late_fee
    assert fee.due > 0 and fee.contract > fee.capped
    html = page.content.decode()
    assert f"合同 {fee.contract}" in html
    assert page.context["quote"].due == bill.amount + fee.due


def test_window_masks_phones_for_a_cashier(at_window, project):
    from tests.factories import household
    from wuye.billing import accounts

    room, _ = household(project, code="5-1-301", owner="赵珊珊", phones=("13700002222",))
    accounts.account_for(room, D(2024, 1, 1))
    html = at_window.get(reverse("ledger:window_room", args=[room.pk])).content.decode()
    assert "137****2222" in html and "13700002222" not in html


def test_window_page_queries_do_not_grow_with_the_bills(at_window, acct, item):
    factories.late_fee_rule(acct.project)
    factories.monthly_bills(acct, item, D(2023, 1, 1), 3)
    with CaptureQueriesContext(connection) as few:
        at_window.get(window_url(acct))
    factories.monthly_bills(acct, item, D(2020, 1, 1), 30)
    with CaptureQueriesContext(connection) as many:
        at_window.get(window_url(acct))
    assert len(many) == len(few)


def test_search_at_the_window_opens_the_household_window(at_window, acct):
    html = at_window.get(reverse("ledger:window_search"), {"q": "1502"}).content.decode()
    assert window_url(acct) in html


def test_the_server_totals_what_is_selected(at_window, acct, two_bills):
    page = at_window.post(
        reverse("ledger:window_quote", args=[acct.room_id]),
        {"account": acct.pk, "bill": [two_bills[1].pk], "method": ["cash"], "amount": ["150"]},
    )
    quote = page.context["quote"]
    assert (quote.count, quote.due, quote.entered, quote.surplus) == (
        1,
        Decimal("120.50"),
        Decimal("150.00"),
        Decimal("29.50"),
    )
    assert "将存入该户<b>预存款</b>" in page.content.decode()


# --- paying --------------------------------------------------------------------------------------


def test_pay_two_bills_with_wechat_and_cash(at_window, acct, two_bills):
    response = pay(
        at_window, acct, two_bills, [("wechat", "200.00", "4200001234"), ("cash", "20.50", "")]
    )
    payment = Payment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("ledger:window_done", args=[payment.pk])
    assert payment.amount == Decimal("220.50") and payment.receipt_no == 1
    assert sorted((x.method, x.amount, x.reference) for x in payment.lines.all()) == [
        ("cash", Decimal("20.50"), ""),
        ("wechat", Decimal("200.00"), "4200001234"),
    ]
    assert {a.bill_id: a.amount for a in payment.allocations.all()} == {
        two_bills[0].pk: Decimal("100.00"),
        two_bills[1].pk: Decimal("120.50"),
    }
    done = at_window.get(response["Location"]).content.decode()
    assert "No.00000001" in done and "220.50" in done


def test_cash_tendered_above_the_cash_line_shows_the_change(at_window, acct, two_bills):
    response = pay(at_window, acct, two_bills, [("cash", "220.50", "")], tendered="300")
    assert response["Location"].endswith("?tendered=300")
    done = at_window.get(response["Location"])
    assert done.context["change"] == Decimal("79.50")


def test_cash_tendered_below_the_cash_line_is_refused_next_to_the_field(at_window, acct, two_bills):
    response = pay(at_window, acct, two_bills, [("cash", "220.50", "")], tendered="200")
    assert response.status_code == 400
    assert "实收现金少于现金收款金额 220.50 元" in response.context["form"].errors["tendered"][0]
    assert not Payment.objects.exists()


def test_partial_payment_pays_the_oldest_bill_first(at_window, acct, two_bills):
    pay(at_window, acct, two_bills, [("cash", "150.00", "")])
    allocations = {a.bill_id: a.amount for a in Allocation.objects.all()}
    assert allocations == {two_bills[0].pk: Decimal("100.00"), two_bills[1].pk: Decimal("50.00")}
    assert at_window.get(window_url(acct)).context["quote"].due == Decimal("70.50")


def test_overpayment_is_confirmed_first_then_goes_to_prepaid_balance(at_window, acct, two_bills):
    first = pay(at_window, acct, two_bills, [("cash", "300.00", "")])
    assert first.status_code == 200 and first.context["confirm_surplus"] == Decimal("79.50")
    assert "多收的 <b>79.50</b> 元将存入预存款" in first.content.decode()
    assert not Payment.objects.exists()
    confirmed = pay(at_window, acct, two_bills, [("cash", "300.00", "")], confirm_surplus="79.50")
    assert confirmed.status_code == 302
    assert at_window.get(window_url(acct)).context["prepaid"] == Decimal("79.50")


def test_prepaid_balance_pays_as_a_method(at_window, cashier, acct, two_bills):
    factories.pay(cashier, acct, "250.50")  # both bills (220.50), 30.00 to prepaid balance
    bill = factories.bill(acct, two_bills[0].fee_item, "30.00", D(2024, 3, 1))
    response = pay(at_window, acct, [bill], [("prepaid", "30.00", "")], key="key-2")
    assert response.status_code == 302
    assert at_window.get(window_url(acct)).context["prepaid"] == Decimal("0.00")


def test_double_submit_with_the_same_key_pays_once(at_window, acct, two_bills):
    lines = [("wechat", "220.50", "")]
    first = pay(at_window, acct, two_bills, lines, key="same")
    second = pay(at_window, acct, two_bills, lines, key="same")
    assert Payment.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_a_closed_day_refuses_with_a_message(at_window, cashier, acct, two_bills):
    cashier_close(user=cashier, project=acct.project, business_date=timezone.localdate())
    response = pay(at_window, acct, two_bills, [("cash", "220.50", "")])
    assert response.status_code == 400
    assert "已日结" in response.context["form"].errors["business_date"][0]
    assert not Payment.objects.exists()


def test_a_wrong_amount_is_shown_on_its_own_line(at_window, acct, two_bills):
    response = pay(at_window, acct, two_bills, [("wechat", "200", ""), ("cash", "1.234", "")])
    rows = response.context["rows"]
    assert response.status_code == 400
    assert rows[0].errors == {} and "最多两位小数" in rows[1].errors["amount"]
    assert rows[1].amount == "1.234"  # shown back as typed


def test_no_bill_ticked_is_refused_above_the_bills(at_window, acct, two_bills):
    response = pay(at_window, acct, [], [("cash", "10.00", "")])
    assert response.status_code == 400
    assert response.context["errors"]["bill_ids"] == "请选择要缴的账单"


def test_a_household_without_bills_can_prepay(at_window, acct):
    response = pay(at_window, acct, [], [("cash", "600.00", "")], confirm_surplus="600.00")
    assert response.status_code == 302
    assert at_window.get(window_url(acct)).context["prepaid"] == Decimal("600.00")


# --- scope and roles -----------------------------------------------------------------------------


def test_another_projects_room_is_not_found(at_window, other_project):
    foreign = factories.account(other_project, "9-9-909")
    assert at_window.get(window_url(foreign)).status_code == 404
    assert pay(at_window, foreign, [], [("cash", "1.00", "")]).status_code == 404


def test_a_role_that_does_not_collect_money_is_refused(client, make_user, project, acct):
    client.force_login(make_user("fawu", Role.LEGAL, project))
    assert client.get(window_url(acct)).status_code == 403
    assert client.get(reverse("ledger:window")).status_code == 403
    assert "收银台" not in client.get(reverse("overview")).content.decode()


def test_a_steward_collects_at_the_door_so_may_use_the_window(client, steward, acct):
    client.force_login(steward)
    assert client.get(window_url(acct)).status_code == 200


# --- receipts ------------------------------------------------------------------------------------


def _pdf_text(content: bytes, tmp_path) -> str | None:
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        return None
    path = tmp_path / "receipt.pdf"
    path.write_bytes(content)
    return subprocess.run(  # noqa: S603 - our own file, a fixed program
        [pdftotext, str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_receipt_pdf_first_print_is_the_original_and_later_ones_say_reprint(
    at_window, cashier, acct, two_bills, tmp_path
):
    payment = factories.pay(cashier, acct, "220.50")
    url = reverse("ledger:receipt_print", args=[payment.pk])
    first = at_window.post(url, {"paper": "a4"})
    second = at_window.post(url, {"paper": "roll"})
    assert first["Content-Type"] == "application/pdf" and first.content.startswith(b"%PDF")
    assert second.content.startswith(b"%PDF")
    assert list(ReceiptPrint.objects.order_by("id").values_list("is_reprint", "paper")) == [
        (False, "a4"),
        (True, "roll"),
    ]
    text_first, text_second = (
        _pdf_text(first.content, tmp_path),
        _pdf_text(second.content, tmp_path),
    )
    if text_first is not None:
        assert "补打" not in text_first and "00000001" in text_first
        assert "补打" in text_second


def test_viewing_a_receipt_never_uses_up_the_original(
    at_window, cashier, acct, two_bills, tmp_path
):
    """Following the receipt link (twice, from the history, a colleague's bookmark) is a look, not a
    print: nothing is recorded and the original is still there to print; the viewed PDF says it is
    not a receipt, so it cannot pass for one."""
    payment = factories.pay(cashier, acct, "220.50")
    view = reverse("ledger:receipt_pdf", args=[payment.pk])
    for paper in ("a4", "a4", "roll"):
        response = at_window.get(view, {"paper": paper})
        assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert not ReceiptPrint.objects.exists()
    text = _pdf_text(at_window.get(view).content, tmp_path)
    if text is not None:
        assert "查看件" in text and "补打" not in text
    assert at_window.get(view, {"paper": "letter"}).status_code == 400
    printed = at_window.post(reverse("ledger:receipt_print", args=[payment.pk]), {"paper": "a4"})
    assert printed.status_code == 200
    assert list(ReceiptPrint.objects.values_list("is_reprint", flat=True)) == [False]
    text = _pdf_text(printed.content, tmp_path)
    if text is not None:
        assert "查看件" not in text and "补打" not in text


def test_printing_a_receipt_needs_a_post(at_window, cashier, acct, two_bills):
    payment = factories.pay(cashier, acct, "220.50")
    assert at_window.get(reverse("ledger:receipt_print", args=[payment.pk])).status_code == 405
    assert not ReceiptPrint.objects.exists()


def test_payment_page_prints_by_button_and_views_by_link(at_window, cashier, acct, two_bills):
    payment = factories.pay(cashier, acct, "220.50")
    page = at_window.get(reverse("ledger:payment", args=[payment.pk])).content.decode()
    print_url = reverse("ledger:receipt_print", args=[payment.pk])
    assert f'method="post" action="{print_url}"' in page
    assert f'href="{print_url}' not in page
    assert "打印收据（A4）" in page
    receipt_print_record(user=cashier, payment=payment)
    page = at_window.get(reverse("ledger:payment", args=[payment.pk])).content.decode()
    assert "补打收据（A4）" in page


def test_another_projects_receipt_is_not_found(at_window, make_user, other_project):
    foreign = factories.account(other_project, "9-9-909")
    item = factories.fee_item(other_project)
    factories.bill(foreign, item, "10.00", D(2024, 1, 1))
    payment = factories.pay(make_user("c2", Role.CASHIER, other_project), foreign, "10.00")
    assert at_window.get(reverse("ledger:receipt_pdf", args=[payment.pk])).status_code == 404
    assert at_window.post(reverse("ledger:receipt_print", args=[payment.pk])).status_code == 404
    assert at_window.get(reverse("ledger:payment", args=[payment.pk])).status_code == 404
    assert not ReceiptPrint.objects.exists()


def test_payment_page_lists_lines_allocations_and_prints(at_window, cashier, acct, two_bills):
    payment = factories.pay(cashier, acct, "220.50", method="alipay")
    receipt_print_record(user=cashier, payment=payment)
    html = at_window.get(reverse("ledger:payment", args=[payment.pk])).content.decode()
    assert "支付宝" in html and "2024-01" in html and "2024-02" in html
    assert "原件" in html and "有效" in html


# --- invoice requests ----------------------------------------------------------------------------


def test_an_invoice_request_is_recorded_for_finance(at_window, cashier, acct, two_bills):
    payment = factories.pay(cashier, acct, "220.50")
    response = at_window.post(
        reverse("ledger:invoice_request_create", args=[payment.pk]),
        {"kind": "normal", "title": "张三", "email": "zs@example.com"},
    )
    assert response.status_code == 302
    request = InvoiceRequest.objects.get()
    assert (request.kind, request.title, request.status) == (
        InvoiceKind.NORMAL,
        "张三",
        InvoiceStatus.REQUESTED,
    )


def test_a_special_vat_invoice_needs_the_tax_number(at_window, cashier, acct, two_bills):
    payment = factories.pay(cashier, acct, "220.50")
    response = at_window.post(
        reverse("ledger:invoice_request_create", args=[payment.pk]),
        {"kind": "special", "title": "某某科技有限公司", "email": "cw@example.com"},
    )
    assert response.status_code == 400
    assert "纳税人识别号" in response.context["invoice_form"].errors["tax_number"][0]


def test_an_invoice_request_error_is_shown_next_to_its_field(at_window, cashier, acct, two_bills):
    payment = factories.pay(cashier, acct, "220.50")
    response = at_window.post(
        reverse("ledger:invoice_request_create", args=[payment.pk]),
        {"kind": "normal", "title": "某某公司", "tax_number": "12AB", "email": "a@b.cn"},
    )
    assert response.status_code == 400
    assert "税号" in response.context["invoice_form"].errors["tax_number"][0]
    assert not InvoiceRequest.objects.exists()


def test_finance_sees_the_requests_and_marks_one_issued(
    client, make_user, cashier, acct, two_bills
):
    payment = factories.pay(cashier, acct, "220.50")
    request = invoice_request_create(
        user=cashier, payment=payment, title="张三", email="zs@example.com"
    )
    client.force_login(make_user("caiwu", Role.FINANCE, company_role=Role.FINANCE))
    listing = client.get(reverse("ledger:invoice_requests")).content.decode()
    assert "张三" in listing and "标记已开票" in listing
    client.post(reverse("ledger:invoice_request_issue", args=[request.pk]), {"invoice_no": "2511"})
    request.refresh_from_db()
    assert (request.status, request.invoice_no) == (InvoiceStatus.ISSUED, "2511")
    assert request.issued_at is not None


def test_a_cashier_cannot_mark_an_invoice_issued(at_window, cashier, acct, two_bills):
    payment = factories.pay(cashier, acct, "220.50")
    request = invoice_request_create(
        user=cashier, payment=payment, title="张三", email="zs@example.com"
    )
    at_window.post(reverse("ledger:invoice_request_issue", args=[request.pk]))
    request.refresh_from_db()
    assert request.status == InvoiceStatus.REQUESTED


def test_the_household_file_links_to_the_window_for_a_cashier(at_window, acct):
    html = at_window.get(reverse("registry:household", args=[acct.room_id])).content.decode()
    assert window_url(acct) in html
