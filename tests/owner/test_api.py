"""The owner API: the same signed link and SMS code as the page, the same household only."""

import pytest

from tests.ledger import factories as lf
from tests.owner.conftest import last_code
from wuye.owner import links

pytestmark = pytest.mark.django_db


def _verified_headers(client, acct, token):
    headers = {"X-Owner-Link": token}
    phone = acct.payer.phones.get()
    assert (
        client.post(
            "/api/owner/code",
            {"phone_id": phone.pk},
            content_type="application/json",
            headers=headers,
        ).status_code
        == 202
    )
    answer = client.post(
        "/api/owner/verify",
        {"code": last_code(acct)},
        content_type="application/json",
        headers=headers,
    )
    assert answer.status_code == 200
    return {**headers, "X-Owner-Verified": answer.json()["verified_token"]}


def test_the_summary_shows_the_masked_payer_and_the_amount(client, token):
    answer = client.get("/api/owner/summary", headers={"X-Owner-Link": token})
    assert answer.status_code == 200
    assert answer.json()["payer"] == "张*" and answer.json()["owed"] == "600.00"


def test_an_altered_link_is_answered_401(client, token):
    bad = token[:-10] + ("A" if token[-10] != "A" else "B") + token[-9:]
    assert client.get("/api/owner/summary", headers={"X-Owner-Link": bad}).status_code == 401


def test_bills_need_the_code(client, token):
    assert client.get("/api/owner/bills", headers={"X-Owner-Link": token}).status_code == 403


def test_bills_after_the_code(client, acct, token):
    headers = _verified_headers(client, acct, token)
    answer = client.get("/api/owner/bills", headers=headers)
    assert answer.status_code == 200 and len(answer.json()["bills"]) == 6


def test_a_verified_token_of_one_household_does_not_open_another(client, acct, token, other_acct):
    headers = _verified_headers(client, acct, token)
    other = links.token_for(links.link_for(other_acct))
    answer = client.get(
        "/api/owner/bills",
        headers={"X-Owner-Link": other, "X-Owner-Verified": headers["X-Owner-Verified"]},
    )
    assert answer.status_code == 403


def test_another_households_receipt_is_404(client, acct, token, other_acct, cashier):
    headers = _verified_headers(client, acct, token)
    theirs = lf.pay(cashier, other_acct, "333.00")
    ours = lf.pay(cashier, acct, "100.00")
    assert (
        client.get(f"/api/owner/payments/{theirs.pk}/receipt", headers=headers).status_code == 404
    )
    mine = client.get(f"/api/owner/payments/{ours.pk}/receipt", headers=headers)
    assert mine.status_code == 200 and mine.content[:4] == b"%PDF"


def test_the_openapi_schema_documents_the_owner_endpoints(client, admin_user):
    client.force_login(admin_user)
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in ("/api/owner/bills", "/api/owner/orders", "/api/owner/orders/{out_trade_no}"):
        assert path in paths
