"""The supervisor's password typed on an approval form (主管授权) is throttled like a login, and a
non-approver's right password is answered exactly as a wrong one (issue 13 item 2)."""

import re

import pytest
from django.urls import reverse

from tests.ledger import factories
from tests.ledger.factories import D
from wuye.core.models import AuditEntry
from wuye.ledger.models import PaymentReversal

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def paid(cashier, acct, item, supervisor):
    factories.bill(acct, item, "100.00", D(2024, 1, 1))
    return factories.pay(cashier, acct, "100.00")


@pytest.fixture
def as_cashier(client, cashier):
    client.force_login(cashier)
    return client


def reverse_payment(client, payment, username, password):
    return client.post(
        reverse("ledger:payment_reverse", args=[payment.pk]),
        {"reason": "方式录错", "approver_username": username, "approver_password": password},
        REMOTE_ADDR="10.0.0.8",
    )


def password_error(response) -> str:
    page = response.content.decode()
    match = re.search(r'id="approver_password-error"[^>]*>(.*?)<', page, re.S)
    assert match, page
    return match.group(1).strip()


def test_twenty_wrong_supervisor_passwords_then_the_right_one_do_not_approve(
    as_cashier, paid, supervisor
):
    for i in range(20):
        response = reverse_payment(as_cashier, paid, "supervisor", f"guess{i}")
        assert response.status_code == 400
    right = reverse_payment(as_cashier, paid, "supervisor", "pw-supervisor")
    # Refused on the form itself (the cashier keeps their page), saying when to retry.
    assert right.status_code == 400
    message = password_error(right)
    assert "已暂时锁定" in message and "后再试" in message
    assert not PaymentReversal.objects.exists()
    assert AuditEntry.objects.filter(action="登录锁定", object_id=str(supervisor.pk)).count() == 1
    # The cashier is still logged in and still works.
    assert as_cashier.get(reverse("ledger:payment", args=[paid.pk])).status_code == 200


def test_a_non_approvers_right_password_gets_the_same_answer_as_a_wrong_one(
    as_cashier, paid, supervisor, make_user, project
):
    make_user("clerk", "cashier", project)
    wrong = reverse_payment(as_cashier, paid, "supervisor", "not-it")
    right_but_no_role = reverse_payment(as_cashier, paid, "clerk", "pw-clerk")
    wrong_for_clerk = reverse_payment(as_cashier, paid, "clerk", "not-it")
    assert wrong.status_code == right_but_no_role.status_code == wrong_for_clerk.status_code
    assert password_error(wrong) == password_error(right_but_no_role)
    assert password_error(right_but_no_role) == password_error(wrong_for_clerk)
    assert "clerk" not in password_error(right_but_no_role)
    assert not PaymentReversal.objects.exists()


def test_a_non_approvers_right_password_counts_towards_the_lock_like_a_wrong_one(
    as_cashier, paid, make_user, project
):
    make_user("clerk", "cashier", project)
    answers = [
        password_error(reverse_payment(as_cashier, paid, "clerk", "pw-clerk")) for _ in range(6)
    ]
    assert "锁定" not in answers[0]
    assert "锁定" in answers[-1]


def test_the_right_approver_still_approves_after_a_few_typos(as_cashier, paid, supervisor):
    for i in range(3):
        reverse_payment(as_cashier, paid, "supervisor", f"typo{i}")
    assert reverse_payment(as_cashier, paid, "supervisor", "pw-supervisor").status_code == 302
    assert PaymentReversal.objects.get(payment=paid).approved_by == supervisor
