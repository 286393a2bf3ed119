"""Daily reconciliation finds each kind of difference between the platform's statement and the
ledger; a payment missing in the ledger is posted after review; the fee is recorded."""

import datetime
from decimal import Decimal

import pytest

from tests.payments.helpers import alipay_paid, order_for, post_alipay, post_wechat, wechat_paid
from wuye.ledger.models import Payment
from wuye.payments import reconcile
from wuye.payments.enums import ReconStatus
from wuye.payments.models import PaymentOrder


def _shift(fake, order, days=1):
    trade = fake.wechat.trades[order.out_trade_no]
    when = datetime.datetime.fromisoformat(trade["success_time"]) - datetime.timedelta(days=days)
    trade["success_time"] = when.isoformat()
    PaymentOrder.objects.filter(pk=order.pk).update(paid_at=when)


@pytest.fixture
def yesterday():
    return datetime.date.today() - datetime.timedelta(days=1)


def test_matching_day_has_no_differences_and_records_the_fee(payments_fake, household, yesterday):
    order = order_for(household)
    post_wechat(*wechat_paid(payments_fake, order))
    _shift(payments_fake, order)
    recon = reconcile.reconcile_day("wechat", yesterday)
    assert recon.difference_count == 0
    assert recon.platform_amount == recon.ledger_amount == Decimal("300.00")
    assert recon.fee_amount == Decimal("1.80")


def test_payment_on_the_platform_missing_in_the_ledger_is_found_and_posted_after_review(
    payments_fake, household, yesterday, finance
):
    order = order_for(household)
    payments_fake.wechat.pay(order.out_trade_no)  # callback lost, query never ran
    trade = payments_fake.wechat.trades[order.out_trade_no]
    trade["success_time"] = (
        datetime.datetime.fromisoformat(trade["success_time"]) - datetime.timedelta(days=1)
    ).isoformat()
    recon = reconcile.reconcile_day("wechat", yesterday)
    line = recon.lines.get()
    assert line.status == ReconStatus.MISSING_IN_LEDGER
    line = reconcile.line_post(user=finance, line=line)
    assert line.status == ReconStatus.RESOLVED
    assert Payment.objects.filter(account=household).count() == 1


def test_payment_in_the_ledger_but_not_on_the_platform_is_flagged(
    payments_fake, household, yesterday
):
    order = order_for(household)
    post_wechat(*wechat_paid(payments_fake, order))
    _shift(payments_fake, order)
    payments_fake.wechat.trades.pop(order.out_trade_no)
    recon = reconcile.reconcile_day("wechat", yesterday)
    assert recon.lines.get().status == ReconStatus.MISSING_ON_PLATFORM


def test_amount_differing_from_the_ledger_is_flagged(payments_fake, household, yesterday):
    order = order_for(household)
    post_wechat(*wechat_paid(payments_fake, order))
    _shift(payments_fake, order)
    payments_fake.wechat.trades[order.out_trade_no]["paid"] = 29900
    recon = reconcile.reconcile_day("wechat", yesterday)
    assert recon.lines.get().status == ReconStatus.AMOUNT_DIFFERS


def test_alipay_day_is_reconciled_from_its_zip_bill(payments_fake, household):
    order = order_for(household, channel="alipay", scene="qr")
    post_alipay(alipay_paid(payments_fake, order))
    order.refresh_from_db()
    trade = payments_fake.alipay.trades[order.out_trade_no]
    day = datetime.date.today() - datetime.timedelta(days=1)
    trade["gmt_payment"] = f"{day} 12:00:00"
    PaymentOrder.objects.filter(pk=order.pk).update(
        paid_at=datetime.datetime.combine(day, datetime.time(12), datetime.UTC)
    )
    recon = reconcile.reconcile_day("alipay", day)
    assert recon.difference_count == 0, list(recon.lines.values("status", "out_trade_no"))
    assert recon.fee_amount == Decimal("1.80")


def test_today_cannot_be_reconciled_yet(payments_fake):
    from wuye.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        reconcile.reconcile_day("wechat", datetime.date.today())
