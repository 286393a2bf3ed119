"""A payment at the window closes the case at once, so nobody is chased after paying (误催); a
reversal that makes money overdue again reopens it."""

import pytest
from django.urls import reverse

from tests.dunning import factories
from wuye.dunning.enums import CaseState, EventKind
from wuye.ledger.services.reversals import payment_reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def opened(project, debtor):
    factories.run(project)
    return factories.case_of(debtor)


def test_paying_everything_at_the_window_closes_the_case_at_once(
    opened, debtor, cashier, today, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        factories.pay(cashier, debtor, "200.00", include_late_fees=False)

    opened.refresh_from_db()
    assert opened.state == CaseState.CLOSED
    assert opened.closed_on == today


def test_a_case_closed_by_a_window_payment_says_which_payment_closed_it(
    client, steward, opened, debtor, cashier, today, django_capture_on_commit_callbacks
):
    """Not "（每日跑批）": the timeline names the payment (收银台收款 + receipt number) and its cashier."""
    with django_capture_on_commit_callbacks(execute=True):
        payment = factories.pay(cashier, debtor, "200.00", include_late_fees=False)

    closed = opened.events.get(kind=EventKind.CLOSED)
    assert closed.by == cashier
    assert f"收银台收款 No.{payment.receipt_no:08d}" in closed.reason
    opened.refresh_from_db()
    assert f"No.{payment.receipt_no:08d}" in opened.close_reason
    client.force_login(steward)
    page = client.get(reverse("dunning:case", args=[opened.pk])).content.decode()
    timeline = page[page.index('id="timeline"') :]
    entry = next(li for li in timeline.split("<li>") if "收银台收款" in li)
    assert f"收银台收款 No.{payment.receipt_no:08d}" in entry
    assert "每日跑批" not in entry and str(cashier) in entry


def test_the_daily_run_closing_a_paid_case_says_it_was_the_daily_run(opened, debtor, cashier):
    factories.pay(cashier, debtor, "200.00", include_late_fees=False)  # no hooks: the run finds it
    factories.run(opened.project)
    closed = opened.events.get(kind=EventKind.CLOSED)
    assert closed.by is None and "每日跑批" in closed.reason


def test_a_part_payment_updates_the_amount_at_once(
    opened, debtor, cashier, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        factories.pay(cashier, debtor, "100.00", include_late_fees=False)

    opened.refresh_from_db()
    assert opened.state == CaseState.OPEN
    assert opened.overdue_amount == 100


def test_reversing_the_payment_reopens_the_same_case(
    opened, debtor, cashier, supervisor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        payment = factories.pay(cashier, debtor, "200.00", include_late_fees=False)
    with django_capture_on_commit_callbacks(execute=True):
        payment_reverse(user=cashier, payment=payment, reason="银行退票", approved_by=supervisor)

    opened.refresh_from_db()
    assert opened.state == CaseState.OPEN
    assert opened.overdue_amount == 200
    assert opened.events.filter(kind=EventKind.REOPENED).count() == 1


def test_a_payment_never_opens_a_case_itself(debtor, cashier, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        factories.pay(cashier, debtor, "50.00", include_late_fees=False)

    assert factories.case_of(debtor) is None  # opening cases is the daily run's work


def test_a_batch_posting_closes_the_case_and_names_its_payment(
    opened, debtor, cashier, today, django_capture_on_commit_callbacks
):
    """A bank statement's automatic matches post through payments_record_many: its batch hook
    (WUYE_AFTER_PAYMENTS) closes the case at once, naming the payment, as a window payment does."""
    from decimal import Decimal

    from wuye.ledger.services.batch_payments import PaymentRequest, payments_record_many

    with django_capture_on_commit_callbacks(execute=True):
        [payment] = payments_record_many(
            user=cashier,
            project=opened.project,
            requests=[
                PaymentRequest(
                    account=debtor,
                    lines=[("transfer", Decimal("200.00"), "B1")],
                    include_late_fees=False,
                )
            ],
        )

    opened.refresh_from_db()
    assert opened.state == CaseState.CLOSED and opened.closed_on == today
    closed = opened.events.get(kind=EventKind.CLOSED)
    assert f"银行到账 No.{payment.receipt_no:08d}" in closed.reason and closed.by == cashier
