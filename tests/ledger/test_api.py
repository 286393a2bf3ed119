"""Ledger API: position of a room, taking a payment; scoped to the caller's projects.

The router is mounted at /api/ledger/ in ``wuye.api.urls``; the handlers are also called directly.
"""

import json
from decimal import Decimal

import pytest
from django.test import RequestFactory

from tests.ledger.factories import D, account, bill, fee_item, monthly_bills
from wuye.core.errors import NotInScope, ValidationFailed
from wuye.core.roles import Role
from wuye.ledger import api

pytestmark = pytest.mark.django_db


def request_as(user):
    request = RequestFactory().get("/")
    request.user = user
    return request


def test_room_position_lists_accounts_and_unpaid_bills(cashier, acct, item):
    monthly_bills(acct, item, D(2025, 1, 1), 3)
    out = api.room_position(request_as(cashier), acct.room_id, as_of=D(2025, 3, 1))
    [position] = out.accounts
    assert position.outstanding == Decimal("300.00") and position.overdue == Decimal("200.00")
    assert [b.due_date for b in position.unpaid_bills] == [
        D(2025, 1, 15),
        D(2025, 2, 15),
        D(2025, 3, 15),
    ]


def test_room_of_another_project_is_not_found(make_user, other_project, acct):
    outsider = make_user("outsider", Role.CASHIER, other_project)
    with pytest.raises(NotInScope):
        api.room_position(request_as(outsider), acct.room_id)


def test_payment_through_the_api(cashier, acct, item):
    b = bill(acct, item, "100.00", D(2025, 1, 1))
    data = api.PaymentIn(
        account_id=acct.pk,
        lines=[{"method": "wechat", "amount": "60.00"}, {"method": "cash", "amount": "50"}],
        idempotency_key="api-1",  # dated today: the API cannot back-date (issue 13 item 12)
    )
    result = api.payment_create(request_as(cashier), data)
    out = result.value
    assert result.status_code == 201 and out.receipt_no == 1 and out.amount == Decimal("110.00")
    assert [(a.bill_id, a.amount) for a in out.allocations] == [(b.pk, Decimal("100.00"))]
    assert out.prepaid_deposit == Decimal("10.00") == out.prepaid_balance
    again = api.payment_create(request_as(cashier), data).value
    assert again.id == out.id


def test_payment_errors_are_business_errors(cashier, acct, other_project, make_user):
    data = api.PaymentIn(account_id=acct.pk, lines=[{"method": "cash", "amount": "abc"}])
    with pytest.raises(ValidationFailed) as exc:
        api.payment_create(request_as(cashier), data)
    assert exc.value.field == "lines[0].amount"
    outsider = make_user("outsider", Role.CASHIER, other_project)
    with pytest.raises(NotInScope):
        api.payment_create(request_as(outsider), api.PaymentIn(account_id=acct.pk, lines=[]))


def test_http_payment_and_error(client, cashier, acct, project, other_project):
    theirs = bill(
        account(other_project, "1-1-101", owner="王五"),
        fee_item(other_project),
        "100.00",
        D(2025, 1, 1),
    )
    client.force_login(cashier)
    response = client.post(
        "/api/ledger/payments",
        json.dumps(
            {
                "account_id": acct.pk,
                "lines": [{"method": "cash", "amount": "100.00"}],
                "bill_ids": [theirs.pk],
            }
        ),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "code": "ledger.bill_other_project",
        "message": "不能收取其他项目的账单",
        "field": "bill_ids",
    }
    response = client.post(
        "/api/ledger/payments",
        json.dumps({"account_id": acct.pk, "lines": [{"method": "cash", "amount": "100.00"}]}),
        content_type="application/json",
    )
    assert response.status_code == 201 and response.json()["receipt_no"] == 1
    position = client.get(f"/api/ledger/rooms/{acct.room_id}/position").json()
    assert position["accounts"][0]["prepaid_balance"] == "100.00"
