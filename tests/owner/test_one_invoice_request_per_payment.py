"""One invoice request per payment, and none for a payment reversed (冲红): finance issue what is
asked, so a second request (a double click, a changed mind) or a request for money given back
would become a second or a groundless 数电发票."""

import pytest

from tests.ledger import factories as lf
from wuye.core.roles import Role
from wuye.ledger.services.reversals import payment_reverse
from wuye.owner.models import OwnerInvoiceRequest

pytestmark = pytest.mark.django_db
ASK = {"title": "张三", "email": "z@example.com"}


def test_a_second_invoice_request_for_the_same_payment_is_refused(
    verified_client, token, acct, cashier
):
    ours = lf.pay(cashier, acct, "100.00")
    first = verified_client.post(f"/o/{token}/invoice/{ours.pk}/", ASK)
    assert "已提交开票申请" in first.content.decode()
    again = verified_client.post(f"/o/{token}/invoice/{ours.pk}/", {**ASK, "title": "李四"})
    assert "已申请开票" in again.content.decode()
    assert OwnerInvoiceRequest.objects.count() == 1


def test_an_invoice_request_for_a_reversed_payment_is_refused(
    verified_client, token, acct, cashier, make_user, project
):
    ours = lf.pay(cashier, acct, "100.00")
    boss = make_user("boss", Role.SUPERVISOR, project)
    payment_reverse(user=cashier, payment=ours, reason="收错户", approved_by=boss)
    refused = verified_client.post(f"/o/{token}/invoice/{ours.pk}/", ASK)
    assert "已冲红" in refused.content.decode()
    assert not OwnerInvoiceRequest.objects.exists()
