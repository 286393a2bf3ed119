"""The owner page after verification: the household's own bills with the capped late fee, its
receipts, invoice requests and tickets — and nothing of another household, whatever id is sent."""

import datetime
import re
from decimal import Decimal

import pytest

from tests.ledger import factories as lf
from tests.owner.conftest import last_code
from wuye.ledger.selectors.notices import notices_for
from wuye.messaging import rendering
from wuye.owner import links, selectors
from wuye.owner.models import OwnerInvoiceRequest
from wuye.registry.models import ServiceTicket

pytestmark = pytest.mark.django_db
D = datetime.date


def test_the_late_fee_shown_is_the_capped_figure_not_the_contract_one(project, acct, link):
    lf.late_fee_rule(project, daily_rate="0.003")  # 0.3 % a day by contract, far above the cap
    page = selectors.owner_page(link, verified=True)
    first = page.bills[0]
    from wuye.ledger.selectors.window import unpaid_bills

    bill = unpaid_bills(acct)[0]
    assert bill.late_fee.contract > bill.late_fee.capped
    assert first.late_fee == bill.late_fee.due  # the window's figure
    assert first.total == bill.outstanding + bill.late_fee.due


def test_another_households_receipt_is_not_found(verified_client, token, other_acct, cashier):
    theirs = lf.pay(cashier, other_acct, "333.00")
    page = verified_client.get(f"/o/{token}/receipts/{theirs.pk}/")
    assert page.status_code == 404


def test_the_households_own_receipt_opens_as_pdf(verified_client, token, acct, cashier):
    ours = lf.pay(cashier, acct, "100.00")
    page = verified_client.get(f"/o/{token}/receipts/{ours.pk}/")
    assert page.status_code == 200 and page["Content-Type"] == "application/pdf"


def test_a_receipt_needs_the_code(client, token, acct, cashier):
    ours = lf.pay(cashier, acct, "100.00")
    page = client.get(f"/o/{token}/receipts/{ours.pk}/")
    assert page.status_code == 302


def test_another_households_invoice_request_is_not_found(
    verified_client, token, other_acct, cashier
):
    theirs = lf.pay(cashier, other_acct, "333.00")
    page = verified_client.post(
        f"/o/{token}/invoice/{theirs.pk}/", {"title": "张三", "email": "a@example.com"}
    )
    assert page.status_code == 404
    assert not OwnerInvoiceRequest.objects.exists()


def test_verification_of_one_household_does_not_open_another(client, acct, token, other_acct):
    phone = acct.payer.phones.get()
    client.post(f"/o/{token}/code/", {"phone": phone.pk})
    client.post(f"/o/{token}/verify/", {"code": last_code(acct)})
    other = links.token_for(links.link_for(other_acct))
    text = client.get(f"/o/{other}/").content.decode()
    assert 'id="bills"' not in text and "333.00" not in text.split('id="owed"')[0]


def test_the_page_never_names_another_household(verified_client, token, other_acct):
    text = verified_client.get(f"/o/{token}/").content.decode()
    assert "3-2-1503" not in text and "李四" not in text and "333.00" not in text


def test_a_bill_of_another_household_cannot_be_chosen(link, other_acct):
    from wuye.billing.models import Bill
    from wuye.core.errors import ValidationFailed

    theirs = Bill.objects.filter(account=other_acct).first()
    with pytest.raises(ValidationFailed):
        selectors.chosen_bill_ids(link, bill_ids=[theirs.pk])


def test_paying_up_to_a_month_takes_the_oldest_bills_first(link):
    ids = selectors.chosen_bill_ids(link, up_to="2025-03")
    every = selectors.chosen_bill_ids(link)
    assert ids == every[:3]


def test_an_invoice_request_needs_a_valid_tax_number(verified_client, token, acct, cashier):
    ours = lf.pay(cashier, acct, "100.00")
    bad = verified_client.post(
        f"/o/{token}/invoice/{ours.pk}/",
        {"title": "示范科技有限公司", "tax_number": "91110000600037341X", "email": "f@example.com"},
    )
    assert "税号不正确" in bad.content.decode()
    good = verified_client.post(
        f"/o/{token}/invoice/{ours.pk}/",
        {"title": "示范科技有限公司", "tax_number": "91350100M000100Y43", "email": "f@example.com"},
    )
    assert "已提交开票申请" in good.content.decode()
    assert OwnerInvoiceRequest.objects.get().tax_number == "91350100M000100Y43"


def test_finance_sees_the_invoice_requests(
    client, verified_client, token, acct, cashier, make_user, project
):
    from wuye.core.roles import Role

    ours = lf.pay(cashier, acct, "100.00")
    verified_client.post(
        f"/o/{token}/invoice/{ours.pk}/", {"title": "张三", "email": "z@example.com"}
    )
    finance = make_user("fin", Role.FINANCE, project)
    client.force_login(finance)
    page = client.get("/o/staff/invoices/")
    assert page.status_code == 200 and "z@example.com" in page.content.decode()


def test_a_statement_question_opens_a_ticket_on_the_household_file(verified_client, token, acct):
    verified_client.post(
        f"/o/{token}/ticket/", {"kind": "statement", "description": "3 月重复收费？"}
    )
    ticket = ServiceTicket.objects.get()
    assert ticket.room_id == acct.room_id and "对账单" in ticket.subject


def test_the_payment_notice_carries_the_households_link(project, acct, other_acct):
    notices = notices_for(project, building_id=acct.room.building_id, as_of=D(2025, 8, 1))
    by_room = {n.room_code: n.pay_link for n in notices}
    ours = links.link_for(acct)
    assert f"/o/{ours.pk}.{ours.key}:" in by_room["3-2-1502"]
    assert by_room["3-2-1502"] != by_room["3-2-1503"]


def test_the_notice_pdf_draws_a_qr_code(project, acct):
    from wuye.ledger.pdf import notices_pdf

    notices = notices_for(project, building_id=acct.room.building_id, as_of=D(2025, 8, 1))
    assert notices_pdf(notices)[:4] == b"%PDF"


def test_the_sms_placeholder_is_the_households_link(project, acct):
    from wuye.dunning.models import ArrearsCase

    case = ArrearsCase(account=acct, project=project, room=acct.room, overdue_amount=Decimal("1"))
    text = rendering.render("请点击 {缴费链接} 缴费", case, D(2025, 9, 1))
    token = re.search(r"/o/([^/]+)/", text).group(1)
    assert links.link_read(token).account_id == acct.pk
