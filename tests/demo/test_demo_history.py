"""The demo's money history: 36 monthly billing runs and realistic payments (docs/operations/demo-data.md)."""

import hashlib
import io

import pytest
from django.core.management import call_command
from django.db.models import Count, Min, Q, Sum
from django.utils import timezone

from wuye.billing import calc
from wuye.billing.enums import BillKind, RunStatus
from wuye.billing.models import Bill, BillingRun, LateFeeRule
from wuye.core.models import AuditEntry, Project
from wuye.demo.generator import DemoOptions
from wuye.dunning.models import ArrearsCase
from wuye.ledger.invariants import check_all
from wuye.ledger.models import (
    CashierClosing,
    InvoiceRequest,
    Payment,
    PaymentReversal,
    PrepaidMovement,
    ReceiptPrint,
    Refund,
)
from wuye.ledger.selectors.late_fees import late_fees_for
from wuye.ledger.selectors.outstanding import bill_outstanding
from wuye.registry.enums import RoomUse

pytestmark = pytest.mark.django_db

ROOMS = "80"


def demo_data(*args: str) -> str:
    out = io.StringIO()
    call_command("demo_data", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def demo():
    return demo_data("--rooms", ROOMS)


def months_back(n: int):
    return calc.add_months(calc.month_start(timezone.localdate()), -n)


def test_one_committed_run_a_month_for_36_months_ending_this_month(demo):
    runs = BillingRun.objects.order_by("period_start")
    assert runs.count() == 36
    assert {r.status for r in runs} == {RunStatus.COMMITTED}
    assert runs.first().period_start == months_back(35)
    assert runs.last().period_start == months_back(0)
    per_month = dict(
        Bill.objects.filter(kind=BillKind.CHARGE)
        .values("period_start")
        .annotate(n=Count("id"))
        .values_list("period_start", "n")
    )
    assert all(per_month.get(months_back(i), 0) > 0 for i in range(36))


def test_every_fee_item_is_billed_and_shops_pay_large_sums(demo):
    billed = set(Bill.objects.values_list("fee_item__code", flat=True))
    assert billed == {"WYF", "GTDF", "CWF", "LJF"}
    shop_month = Bill.objects.filter(
        room__use=RoomUse.SHOP, fee_item__code="WYF", period_start=months_back(0)
    ).aggregate(m=Sum("amount"))["m"]
    home_month = Bill.objects.filter(
        room__use=RoomUse.RESIDENCE, fee_item__code="WYF", period_start=months_back(0)
    ).aggregate(m=Sum("amount"))["m"]
    shops = Bill.objects.filter(room__use=RoomUse.SHOP, period_start=months_back(0))
    homes = Bill.objects.filter(room__use=RoomUse.RESIDENCE, period_start=months_back(0))
    assert shop_month / shops.values("room").distinct().count() > 2 * (
        home_month / homes.values("room").distinct().count()
    )


def test_some_households_are_in_arrears_for_months_and_some_have_prepaid_balance(demo):
    owing = (
        bill_outstanding(Bill.objects.all())
        .filter(outstanding__gt=0)
        .values("account_id")
        .annotate(oldest=Min("period_start"))
    )
    assert owing.filter(oldest__lte=months_back(6)).exists(), "chronic debtors owe 6+ months"
    assert owing.count() < Bill.objects.values("account_id").distinct().count() / 2
    prepaid = (
        PrepaidMovement.objects.values("account_id")
        .annotate(balance=Sum("amount"))
        .filter(balance__gt=0)
    )
    assert prepaid.exists()
    # Prepaid balances paid new bills at the start of the month (抵扣, not part of a payment).
    assert PrepaidMovement.objects.filter(kind="consume", payment__isnull=True).exists()


def _window_payments():
    """Payments taken at the window: the bank's (statements, withholding) are posted by finance."""
    return Payment.objects.exclude(cashier__username="finance")


def test_payments_are_dated_on_past_days_by_the_demo_cashier(demo):
    today = timezone.localdate()
    payments = _window_payments()
    assert payments.count() > 100
    assert set(payments.values_list("cashier__username", flat=True)) == {"cashier"}
    assert not payments.filter(business_date__gt=today).exists()
    assert payments.filter(business_date__lt=months_back(24)).exists()
    # Receipt numbers follow the days the money came in.
    days = list(payments.order_by("receipt_no").values_list("business_date", flat=True))
    assert days == sorted(days)


def test_reversals_refunds_invoices_and_late_fee_bills_happen(demo):
    reversal = PaymentReversal.objects.select_related("approved_by").first()
    assert reversal is not None and reversal.reason
    assert reversal.approved_by.username == "supervisor"
    assert Refund.objects.exists()
    assert InvoiceRequest.objects.exists()
    assert Bill.objects.filter(kind=BillKind.LATE_FEE).exists()


def test_late_fee_contract_rate_is_capped_by_one_and_a_half_lpr(demo):
    project = Project.objects.get()
    rule = LateFeeRule.objects.get(project=project)
    assert rule.enabled and rule.grace_days == 30
    overdue = list(
        bill_outstanding(Bill.objects.filter(kind=BillKind.CHARGE))
        .filter(outstanding__gt=0, due_date__lt=months_back(6))
        .select_related("fee_item")[:20]
    )
    fees = late_fees_for(project, overdue, timezone.localdate())
    assert fees and all(fee.contract_exceeds_cap for fee in fees.values())


def test_past_days_of_the_cashier_are_closed_and_today_is_open(demo):
    today = timezone.localdate()
    past_days = set(
        Payment.objects.filter(cashier__username="cashier", business_date__lt=today).values_list(
            "business_date", flat=True
        )
    )
    closed = set(CashierClosing.objects.values_list("business_date", flat=True))
    assert past_days <= closed
    assert today not in closed


def test_the_ledger_is_sound_after_the_demo(demo):
    assert check_all() == []
    out = io.StringIO()
    call_command("check_ledger", stdout=out)
    assert "没有发现问题" in out.getvalue()


def test_running_it_again_changes_nothing(demo):
    before = (Bill.objects.count(), Payment.objects.count(), AuditEntry.objects.count())
    assert "已存在" in demo_data("--rooms", ROOMS)
    assert (Bill.objects.count(), Payment.objects.count(), AuditEntry.objects.count()) == before


def ledger_digest() -> str:
    h = hashlib.sha256()
    for row in Bill.objects.order_by("id").values_list(
        "room__code", "fee_item__code", "period_start", "amount"
    ):
        h.update(repr(row).encode())
    for row in Payment.objects.order_by("id").values_list(
        "receipt_no", "account__room__code", "amount", "business_date"
    ):
        h.update(repr(row).encode())
    return h.hexdigest()


@pytest.mark.django_db(transaction=True)
def test_same_seed_same_bills_and_payments():
    demo_data("--rooms", "40", "--months", "6")
    first = ledger_digest()
    demo_data("--rooms", "40", "--months", "6", "--reset")
    assert ledger_digest() == first


def test_months_option_limits_the_history():
    demo_data("--rooms", "40", "--months", "3")
    assert BillingRun.objects.count() == 3
    assert Bill.objects.aggregate(first=Min("period_start"))["first"] == months_back(2)


def test_no_history_with_months_0_nor_by_default_for_huge_registries():
    demo_data("--rooms", "40", "--months", "0")
    assert not Bill.objects.exists() and not Payment.objects.exists()
    assert DemoOptions(rooms=100_000).history_months() == 0
    assert DemoOptions(rooms=2000).history_months() == 36


def test_new_bills_of_recent_months_are_not_left_to_the_background_hook(demo):
    """The demo pays prepaid balances itself, dated the first of the month, not on the day it runs."""
    today = timezone.localdate()
    consumed_on = set(
        PrepaidMovement.objects.filter(kind="consume", payment__isnull=True).values_list(
            "effective_date", flat=True
        )
    )
    assert consumed_on and all(day.day == 1 for day in consumed_on)
    assert not PrepaidMovement.objects.filter(
        Q(kind="consume", payment__isnull=True) & ~Q(effective_date__day=1)
    ).exists()
    assert today.day == 1 or today not in consumed_on


def test_todays_dunning_run_opens_cases_for_households_in_arrears(demo):
    open_cases = ArrearsCase.objects.filter(closed_on__isnull=True)
    assert open_cases.exists()
    assert open_cases.filter(assignee__isnull=False).exists()


def test_recent_months_post_a_day_of_payments_in_one_set_and_the_stories_one_by_one(monkeypatch):
    """The last months' ordinary payments go through the batch posting service a day at a time (a
    100,000-room demo posts ~140,000 of them); the 冲红 and 预交 stories through ``payment_record``."""
    from wuye.demo import recent_payments

    sets: list = []
    singles: list = []
    many, one = recent_payments.payments_record_many, recent_payments.payment_record

    def record_many(**kwargs):
        sets.append(kwargs["requests"])
        return many(**kwargs)

    def record_one(**kwargs):
        singles.append(kwargs)
        return one(**kwargs)

    monkeypatch.setattr(recent_payments, "payments_record_many", record_many)
    monkeypatch.setattr(recent_payments, "payment_record", record_one)
    demo_data("--rooms", ROOMS, "--months", "2")
    in_sets = sum(len(s) for s in sets)
    assert in_sets > 5 * len(singles) > 0
    assert all(len({r.business_date for r in s}) == 1 for s in sets)
    assert any(len(s) > 1 for s in sets)
    # Each payment has its 收款 entry; prints with their audit entries.
    recent = _window_payments().filter(business_date__gte=months_back(1))
    assert recent.count() >= in_sets + len(singles)
    assert AuditEntry.objects.filter(action="收款", model="ledger.Payment").count() >= in_sets
    assert ReceiptPrint.objects.filter(is_reprint=False).count() == (
        AuditEntry.objects.filter(action="打印收据").count()
    )
    assert set(ReceiptPrint.objects.values_list("payment_id", flat=True)) <= set(
        recent.values_list("id", flat=True)
    )
    assert check_all() == []
