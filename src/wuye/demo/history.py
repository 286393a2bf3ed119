"""The demo's money history: fee items, prices and rules, then N months of billing runs and payments.

Every month goes through the real engine: ``shared_charge_record`` (the month's common electricity),
``runs.run_preview`` + ``runs.run_execute`` (the bills), ``prepaid_consume_for_run`` (prepaid balances
pay the new bills on the first of the month). Households then pay as people do (``Household``): most
on time — monthly, quarterly, or a year ahead into prepaid balance —, some weeks or months late, a few
chronic debtors who stopped paying 6–30 months ago, vacant investor flats that rarely pay, shops with
large sums.

Payments of the last ``RECENT_MONTHS`` months go through ``ledger.services.payments.payment_record`` one by one
(with late-fee bills, 冲红, refunds, invoice requests, receipt prints, a few 预交 with discount).
Older payments — tens of thousands, too slow one at a time for a demo that must load in a minute or
two — are written in bulk, month by month, with exactly the rows ``payment_record`` writes (payment,
lines, allocations principal-first oldest-due-first, deposit of the rest into prepaid balance) and one
audit entry per month; their late fees are not issued (history imported without them). Receipt numbers
run 1 … n in date order. At the end every past day of the demo cashier is closed (``cashier_close``),
so ``check_ledger`` finds a sound ledger.

Here: the LPR, the month-by-month run and the cashier's days. The parts: ``fees_and_bills`` (fee
settings, the monthly billing runs), ``payers`` (who pays what, when), ``bulk_payments`` (older
months) and ``recent_payments`` (the last months, through the services).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.test.utils import override_settings
from django.utils import timezone

from wuye.billing import calc
from wuye.billing import services as billing
from wuye.billing.models import (
    Account,
    Bill,
    BillAdjustment,
    BillingRun,
    FeeItem,
    LateFeeRule,
    LprRate,
    PayAheadRule,
    SharedCharge,
)
from wuye.core.models import Company, Project, User
from wuye.demo.bulk_payments import BulkPayments
from wuye.demo.fees_and_bills import FeesAndBills
from wuye.demo.payers import Household, Payers
from wuye.demo.recent_payments import RecentPayments
from wuye.ledger.models import (
    Allocation,
    CashierClosing,
    InvoiceRequest,
    Payment,
    PaymentLine,
    PaymentReversal,
    PrepaidMovement,
    ReceiptPrint,
    ReceiptSequence,
    Refund,
)
from wuye.ledger.services.closing import cashier_close
from wuye.ledger.services.prepaid import prepaid_consume_for_run

# The last months (the current one included) are paid through payment_record, one payment at a time.
RECENT_MONTHS = 2
# Above this many rooms the default is no history (a 100,000-room registry benchmark needs none).
AUTO_HISTORY_MAX_ROOMS = 10_000
DEFAULT_MONTHS = 36

# The one-year LPR as published (LAW.md §6 caps late fees at 1.5 × it).
LPR_HISTORY = [
    (dt.date(2019, 8, 20), "0.0425"),
    (dt.date(2019, 9, 20), "0.0420"),
    (dt.date(2019, 11, 20), "0.0415"),
    (dt.date(2020, 2, 20), "0.0405"),
    (dt.date(2020, 4, 20), "0.0385"),
    (dt.date(2021, 12, 20), "0.0380"),
    (dt.date(2022, 1, 20), "0.0370"),
    (dt.date(2022, 8, 22), "0.0365"),
    (dt.date(2023, 6, 20), "0.0355"),
    (dt.date(2023, 8, 21), "0.0345"),
    (dt.date(2024, 7, 22), "0.0335"),
    (dt.date(2024, 10, 21), "0.0310"),
    (dt.date(2025, 5, 20), "0.0300"),
]


class History:
    """Writes the money history of the demo projects (inside ``generate``'s transaction)."""

    def __init__(
        self,
        *,
        months: int,
        seed: int,
        users: dict[str, User],
        log: Callable[[str], None],
        count: Callable[[str, int], None],
        insert_rows: Callable[..., list[int]],
    ):
        self.n_months = months
        self.rng = random.Random(seed * 7919 + 1)  # its own draws: the registry stays as it was
        self.users = users
        self.log = log
        self.count = count
        self.insert_rows = insert_rows
        self.today = timezone.localdate()  # payments are checked against the real today
        last = calc.month_start(self.today)
        self.months = [calc.add_months(last, i - months + 1) for i in range(months)]
        self.manager = users["manager"]
        self.cashier = users["cashier"]
        self.supervisor = users["supervisor"]

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    # --- the run ---------------------------------------------------------------------------------

    def run(self, company: Company, projects: list[Project]) -> None:
        for effective_from, rate in LPR_HISTORY:
            if effective_from <= self.today:
                billing.lpr_rate_set(
                    user=self.manager,
                    company=company,
                    effective_from=effective_from,
                    annual_rate=rate,
                )
        # The demo pays prepaid balances itself, dated the first of each month; the hook would do it
        # again in the background with today's date.
        with override_settings(WUYE_AFTER_BILLING_RUN=[]):
            for project in projects:
                _ProjectHistory(self, project).run()
        for model in (
            FeeItem,
            LateFeeRule,
            LprRate,
            PayAheadRule,
            SharedCharge,
            BillingRun,
            Account,
            Bill,
            BillAdjustment,
            Payment,
            Allocation,
            PrepaidMovement,
            PaymentReversal,
            Refund,
            InvoiceRequest,
            ReceiptPrint,
            CashierClosing,
        ):
            self.count(model._meta.model_name, model.objects.count())


class _ProjectHistory(FeesAndBills, Payers, BulkPayments, RecentPayments):
    """One project's money history, month by month: its parts are ``FeesAndBills`` (fee settings,
    monthly runs), ``Payers`` (who pays what, when), ``BulkPayments`` (older months) and
    ``RecentPayments`` (the last months, through the services)."""

    def __init__(self, history: History, project: Project):
        self.h = history
        self.project = project
        self.rng = history.rng
        self.households: dict[int, Household] = {}
        self.entries: dict[int, list[Any]] = {}  # bill id → its entry in a household's ``open``
        self.receipt_no = 0
        self.refunds = 0
        self.prints: list[tuple[Payment, str]] = []  # (payment, paper) for ``write_prints``

    def log(self, text: str) -> None:
        self.h.log(f"{self.project.name}：{text}")

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def run(self) -> None:
        self.setup()
        months = self.h.months
        first_recent = max(0, len(months) - RECENT_MONTHS)
        self.first_recent = months[first_recent] if first_recent < len(months) else self.h.today
        for index, month in enumerate(months):
            if index == first_recent:
                self.sync_receipt_sequence()
                if connection.vendor == "postgresql":
                    # The bulk rows are invisible to PostgreSQL's planner until analysed: without
                    # statistics it reads every bill of the project for each payment (250 ms).
                    analyze_ledger()
            run = self.bill_month(month)
            self.load_run(run, index)
            prepaid_consume_for_run(run.pk, business_date=month)
            self.sync_consumption(run)
            events = self.plan_payments(index, month)
            if index < first_recent:
                self.write_bulk(month, events)
            else:
                self.write_recent(month, events, last=index == len(months) - 1)
            if index % 6 == 5 or index == len(months) - 1:
                self.log(f"已出账并收款至 {month:%Y-%m}")
        if first_recent >= len(months):
            self.sync_receipt_sequence()
        self.close_days()

    # --- the cashier's days ----------------------------------------------------------------------

    def close_days(self) -> None:
        """日结 of every past day the demo cashier took money (today stays open for the demo)."""
        open_days = {"business_date__lt": self.h.today, "business_date__gte": self.first_recent}
        days = sorted(
            set(
                Payment.objects.filter(
                    project=self.project, cashier=self.h.cashier, **open_days
                ).values_list("business_date", flat=True)
            )
            | set(
                Refund.objects.filter(
                    account__project=self.project, requested_by=self.h.cashier, **open_days
                ).values_list("business_date", flat=True)
            )
        )
        for day in days:
            cashier_close(user=self.h.cashier, project=self.project, business_date=day)
        closed = CashierClosing.objects.filter(project=self.project).count()
        self.log(f"收款 {self.receipt_no_total()} 笔，{closed} 天已日结")

    def receipt_no_total(self) -> int:
        return (
            ReceiptSequence.objects.filter(project=self.project)
            .values_list("last_no", flat=True)
            .first()
            or 0
        )


def analyze_ledger() -> None:
    """Planner statistics for the billing and ledger tables after the bulk history (see
    ``generator.analyze_registry``)."""
    with connection.cursor() as cursor:
        for model in (
            Account,
            Bill,
            BillAdjustment,
            Payment,
            PaymentLine,
            Allocation,
            PrepaidMovement,
        ):
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
