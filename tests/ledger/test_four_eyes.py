"""Issue 13 item 12: four eyes on reversals, refunds and waivers; back-dated payments need a
supervisor's approval and a reason; days never closed are flagged on the closing page."""

from __future__ import annotations

import datetime
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.ledger import factories
from tests.ledger.factories import D
from wuye.billing import adjustments
from wuye.billing import services as billing
from wuye.billing.models import BillAdjustment, LateFeeWaiver
from wuye.core.errors import ValidationFailed
from wuye.core.models import AuditEntry
from wuye.core.roles import Role
from wuye.ledger.models import Payment, PaymentReversal, Refund
from wuye.ledger.services.closing import cashier_close
from wuye.ledger.services.reversals import payment_reverse, prepaid_refund

pytestmark = pytest.mark.django_db


@pytest.fixture
def supervisor2(make_user, project):
    return make_user("supervisor2", Role.SUPERVISOR, project)


@pytest.fixture
def manager2(make_user, project):
    return make_user("manager2", Role.PROJECT_MANAGER, project)


@pytest.fixture
def bills(acct, item):
    return factories.monthly_bills(acct, item, D(2024, 1, 1), 2)


def _reverse(payment, user, approver):
    return payment_reverse(user=user, payment=payment, reason="收错户", approved_by=approver)


# --- four eyes -------------------------------------------------------------------------------------


def test_a_supervisor_cannot_reverse_their_own_payment_alone(supervisor, acct, bills):
    payment = factories.pay(supervisor, acct, "200.00")
    with pytest.raises(ValidationFailed) as exc:
        _reverse(payment, supervisor, supervisor)
    assert exc.value.code == "approval.four_eyes" and exc.value.field == "approved_by"
    assert not PaymentReversal.objects.exists()


def test_the_collector_of_a_payment_cannot_approve_its_reversal(
    supervisor, supervisor2, cashier, acct, bills
):
    payment = factories.pay(supervisor, acct, "200.00")
    # A cashier asks; the supervisor who took the money may not approve undoing it.
    with pytest.raises(ValidationFailed, match="四眼原则"):
        _reverse(payment, cashier, supervisor)
    reversal = _reverse(payment, cashier, supervisor2)
    assert (reversal.requested_by, reversal.approved_by) == (cashier, supervisor2)


def test_a_reversal_page_with_blank_approver_fields_is_refused_even_for_a_supervisor(
    client, supervisor, acct, bills
):
    payment = factories.pay(supervisor, acct, "200.00")
    client.force_login(supervisor)
    response = client.post(
        reverse("ledger:payment_reverse", args=[payment.pk]), {"reason": "方式录错"}
    )
    assert response.status_code == 400
    assert "四眼原则" in response.content.decode()
    assert not PaymentReversal.objects.exists()


def test_a_refund_needs_someone_other_than_the_requester(
    supervisor, supervisor2, cashier, acct, bills
):
    factories.pay(cashier, acct, "300.00")  # 100.00 into prepaid balance
    for user, approver in ((supervisor, supervisor), (cashier, None)):
        with pytest.raises(ValidationFailed):
            prepaid_refund(
                user=user,
                account=acct,
                amount="50.00",
                method="cash",
                reason="业主搬离",
                approved_by=approver,
            )
    assert not Refund.objects.exists()
    prepaid_refund(
        user=supervisor,
        account=acct,
        amount="50.00",
        method="cash",
        reason="业主搬离",
        approved_by=supervisor2,
    )
    assert Refund.objects.count() == 1


def test_waivers_and_bill_reversals_need_a_second_manager(
    manager, manager2, acct, item, bills, project
):
    factories.late_fee_rule(project)
    january, february = bills
    refused = [
        lambda: adjustments.bill_adjust(
            user=manager,
            bill=january,
            kind="waiver",
            amount="10",
            reason="漏水",
            approved_by=manager,
        ),
        lambda: billing.late_fee_waive(
            user=manager, bill=january, amount="0.10", reason="配合维修", approved_by=manager
        ),
        lambda: adjustments.account_compensate(
            user=manager, account=acct, amount="10", reason="漏水", approved_by=manager
        ),
        lambda: adjustments.bill_reverse(
            user=manager, bill=february, reason="面积录错", approved_by=manager
        ),
    ]
    for attempt in refused:
        with pytest.raises(ValidationFailed) as exc:
            attempt()
        assert exc.value.code == "approval.four_eyes"
    assert not BillAdjustment.objects.exists() and not LateFeeWaiver.objects.exists()
    adjustments.bill_adjust(
        user=manager,
        bill=january,
        kind="waiver",
        amount="10",
        reason="漏水",
        approved_by=manager2,
    )
    adjustments.bill_reverse(user=manager, bill=february, reason="面积录错", approved_by=manager2)
    assert BillAdjustment.objects.count() == 2


# --- back-dated payments ---------------------------------------------------------------------------


def _window_pay(client, acct, bills, amount, day, **extra):
    return client.post(
        reverse("ledger:window_pay", args=[acct.room_id]),
        {
            "account": acct.pk,
            "bill": [b.pk for b in bills],
            "method": ["cash"],
            "amount": [amount],
            "reference": [""],
            "idempotency_key": f"k-{day}-{len(extra)}",
            "business_date": day.isoformat(),
            **extra,
        },
    )


def test_a_cashier_cannot_post_a_payment_eight_days_back_without_a_supervisor(
    client, cashier, supervisor, acct, bills
):
    client.force_login(cashier)
    day = timezone.localdate() - datetime.timedelta(days=8)
    response = _window_pay(client, acct, bills, "200.00", day)
    assert response.status_code == 400
    assert not Payment.objects.exists()
    # The supervisor approves, but a reason is still needed.
    response = _window_pay(
        client,
        acct,
        bills,
        "200.00",
        day,
        approver_username="supervisor",
        approver_password="pw-supervisor",
    )
    assert response.status_code == 400 and "补录原因" in response.content.decode()
    assert not Payment.objects.exists()
    response = _window_pay(
        client,
        acct,
        bills,
        "200.00",
        day,
        backdate_reason="停电当天手工收据补录",
        approver_username="supervisor",
        approver_password="pw-supervisor",
    )
    assert response.status_code == 302
    payment = Payment.objects.get()
    assert payment.business_date == day
    entry = AuditEntry.objects.filter(action="收款").latest("pk")
    changes = entry.changes if isinstance(entry.changes, dict) else json.loads(entry.changes)
    assert changes["backdated"]["approved_by"] == supervisor.pk
    assert changes["backdated"]["reason"] == "停电当天手工收据补录"


def test_a_supervisor_at_the_window_cannot_approve_their_own_back_dated_payment(
    client, supervisor, acct, bills
):
    client.force_login(supervisor)
    day = timezone.localdate() - datetime.timedelta(days=1)
    response = _window_pay(client, acct, bills, "200.00", day, backdate_reason="补录")
    assert response.status_code == 400 and "四眼原则" in response.content.decode()
    assert not Payment.objects.exists()


def test_todays_payment_at_the_window_needs_no_approval(client, cashier, acct, bills):
    client.force_login(cashier)
    response = _window_pay(client, acct, bills, "200.00", timezone.localdate())
    assert response.status_code == 302 and Payment.objects.count() == 1


def test_the_api_refuses_a_back_dated_payment(client, cashier, acct, bills):
    client.force_login(cashier)
    day = timezone.localdate() - datetime.timedelta(days=8)
    response = client.post(
        "/api/ledger/payments",
        {
            "account_id": acct.pk,
            "lines": [{"method": "cash", "amount": "200.00", "reference": ""}],
            "business_date": day.isoformat(),
        },
        content_type="application/json",
    )
    assert response.status_code in (400, 422), response.content
    body = response.json()
    assert body["code"] == "ledger.backdate_needs_approval" and "补录" in body["message"]
    assert not Payment.objects.exists()


# --- days never closed -----------------------------------------------------------------------------


def test_days_left_unclosed_are_flagged_on_the_closing_page(
    client, cashier, supervisor, acct, bills
):
    old = timezone.localdate() - datetime.timedelta(days=3)
    closed = timezone.localdate() - datetime.timedelta(days=2)
    factories.pay(cashier, acct, "50.00", business_date=old)
    factories.pay(cashier, acct, "50.00", business_date=closed)
    cashier_close(user=cashier, project=acct.project, business_date=closed)
    factories.pay(cashier, acct, "50.00")  # today: not flagged, the day is still running
    client.force_login(supervisor)
    page = client.get(reverse("ledger:closing")).content.decode()
    flagged = page.split('id="unclosed-days"')[1].split("</section>")[0]
    assert old.isoformat() in flagged and "cashier" in flagged
    assert closed.isoformat() not in flagged
    assert timezone.localdate().isoformat() not in flagged
    # The cashier sees their own.
    client.force_login(cashier)
    page = client.get(reverse("ledger:closing")).content.decode()
    assert 'id="unclosed-days"' in page and old.isoformat() in page
