"""The demo's money history: fee items, prices and rules, then N months of billing runs and payments.

Every month goes through the real engine: ``shared_charge_record`` (the month's common electricity),
``runs.run_preview`` + ``runs.run_execute`` (the bills), ``prepaid_consume_for_run`` (prepaid balances
pay the new bills on the first of the month). Households then pay as people do (``_Household``): most
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
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from typing import Any

from django.db import connection
from django.db.models import Sum
from django.test.utils import override_settings
from django.utils import timezone

from wuye.billing import calc, fee_settings, pay_ahead, readings, runs
from wuye.billing import services as billing
from wuye.billing.enums import ChargeMethod, RunStatus, VacancyPolicy
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
from wuye.core.audit import audit_entry, audit_record
from wuye.core.errors import ValidationFailed
from wuye.core.models import AuditEntry, Company, Project, User
from wuye.core.money import ZERO, money
from wuye.ledger.enums import PaymentMethod, PrepaidKind
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
from wuye.ledger.selectors.closing import MethodTotal
from wuye.ledger.selectors.prepaid import prepaid_available
from wuye.ledger.services.batch_payments import PaymentRequest, payments_record_many
from wuye.ledger.services.closing import cashier_close
from wuye.ledger.services.payments import payment_record
from wuye.ledger.services.prepaid import prepaid_consume_for_run
from wuye.ledger.services.receipts import invoice_request_create
from wuye.ledger.services.reversals import payment_reverse, prepaid_refund
from wuye.registry.enums import OccupancyRole, OccupancyState, PersonKind, RoomUse
from wuye.registry.models import Occupancy, Phone, Room

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

# 物业服务费 per m² of gross area a month, by use; homes went from 2.50 to 2.80 (调价) mid-history.
PROPERTY_FEE = {
    RoomUse.RESIDENCE: "2.50",
    RoomUse.APARTMENT: "3.20",
    RoomUse.SHOP: "6.50",
    RoomUse.OFFICE: "5.00",
}
PROPERTY_FEE_RAISED = "2.80"
GARBAGE_FEE = {
    RoomUse.RESIDENCE: "15.00",
    RoomUse.APARTMENT: "10.00",
    RoomUse.SHOP: "60.00",
    RoomUse.OFFICE: "40.00",
}
PARKING_FEE = "80.00"

PROMPT, LATE, CHRONIC, RARE, DEVELOPER = "prompt", "late", "chronic", "rare", "developer"
BEHAVIOUR_LABELS = {
    PROMPT: "按时缴费",
    LATE: "拖延缴费",
    CHRONIC: "长期欠费",
    RARE: "空置房投资客（很少缴费）",
    DEVELOPER: "开发建设单位",
}

PERSON_METHODS = [
    PaymentMethod.CASH,
    PaymentMethod.WECHAT,
    PaymentMethod.ALIPAY,
    PaymentMethod.CARD,
    PaymentMethod.TRANSFER,
    PaymentMethod.WITHHOLDING,
]
PERSON_METHOD_WEIGHTS = [15, 35, 20, 15, 8, 7]
REVERSAL_REASONS = [
    "收款金额录入错误，冲红后重新收款",
    "选错缴费户，冲红后到正确账户重收",
    "业主扫码重复支付，冲红并原路退回",
]
REFUND_REASONS = [
    "业主出售房屋，退还剩余预存款",
    "租户退租，退还其预存的物业费",
    "业主多缴，申请退还预存款",
]


@dataclass
class _Household:
    """One payer account and how it pays. ``open`` holds [due, period start, bill id, outstanding]."""

    account_id: int
    behaviour: str
    cycle: int  # months between payments
    phase: int  # which month of the cycle they pay in
    method: str
    stop: int | None = None  # chronic debtors pay nothing from this month index on
    monthly: Decimal = ZERO  # what the last run billed them
    prepaid: Decimal = ZERO
    open: list[list[Any]] = field(default_factory=list)

    def outstanding(self) -> Decimal:
        return sum((entry[3] for entry in self.open), ZERO)

    def pay(self, amount: Decimal) -> tuple[list[tuple[int, Decimal]], Decimal]:
        """Principal first, oldest due first (as ``payment_record``); returns the shares and the rest."""
        self.open.sort()
        shares = []
        for entry in self.open:
            if amount <= 0:
                break
            share = min(amount, entry[3])
            if share > 0:
                shares.append((entry[2], share))
                entry[3] -= share
                amount -= share
        self.open = [entry for entry in self.open if entry[3] > 0]
        return shares, amount


@dataclass
class _Event:
    day: dt.date
    household: _Household
    amount: Decimal
    lines: list[tuple[str, Decimal, str]]
    mistake: Decimal = ZERO  # typed this much too much first: recorded, reversed, recorded again
    pay_ahead: bool = False


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


class _ProjectHistory:
    def __init__(self, history: History, project: Project):
        self.h = history
        self.project = project
        self.rng = history.rng
        self.households: dict[int, _Household] = {}
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

    # --- fee items, prices and rules -------------------------------------------------------------

    def setup(self) -> None:
        user, project = self.h.manager, self.project
        first = self.h.months[0]
        since = calc.add_months(first, -24)
        raised = calc.add_months(first, len(self.h.months) // 2)
        self.property_fee = fee_settings.fee_item_create(
            user=user,
            project=project,
            code="WYF",
            name="物业服务费",
            method=ChargeMethod.AREA,
            vacancy_policy=VacancyPolicy.REDUCED,
            vacancy_rate="0.7",
            sort=1,
        )
        for use, price in PROPERTY_FEE.items():
            fee_settings.fee_standard_add(
                user=user,
                fee_item=self.property_fee,
                unit_price=price,
                valid_from=since,
                room_use=use,
                note="前期物业服务合同",
            )
        fee_settings.fee_standard_add(
            user=user,
            fee_item=self.property_fee,
            unit_price=PROPERTY_FEE_RAISED,
            valid_from=raised,
            room_use=RoomUse.RESIDENCE,
            note="业主大会表决通过调价，已公示",
            close_previous=True,
        )
        self.shared = fee_settings.fee_item_create(
            user=user,
            project=project,
            code="GTDF",
            name="公摊电费",
            method=ChargeMethod.SHARED,
            sort=2,
        )
        parking = fee_settings.fee_item_create(
            user=user,
            project=project,
            code="CWF",
            name="车位管理费",
            method=ChargeMethod.PARKING,
            sort=3,
        )
        fee_settings.fee_standard_add(
            user=user, fee_item=parking, unit_price=PARKING_FEE, valid_from=since
        )
        garbage = fee_settings.fee_item_create(
            user=user,
            project=project,
            code="LJF",
            name="垃圾清运费",
            method=ChargeMethod.FIXED,
            vacancy_policy=VacancyPolicy.EXEMPT,
            sort=4,
        )
        for use, price in GARBAGE_FEE.items():
            fee_settings.fee_standard_add(
                user=user, fee_item=garbage, unit_price=price, valid_from=since, room_use=use
            )
        billing.late_fee_rule_set(
            user=user,
            project=project,
            enabled=True,
            daily_rate="0.0005",
            start_date=first,
            grace_days=30,
        )
        pay_ahead.pay_ahead_rule_add(
            user=user,
            fee_item=self.property_fee,
            name="预交一年物业费九五折",
            min_months=12,
            valid_from=first,
            approved_by=self.h.manager,
            discount_rate="0.05",
        )
        fee_settings.billing_settings_update(
            user=user, project=project, auto_consume_prepaid=True, max_prepay_months=12
        )
        self.total_area = Room.objects.filter(project=project).aggregate(a=Sum("gross_area"))[
            "a"
        ] or Decimal(0)
        owners = Occupancy.objects.filter(
            room__project=project, role=OccupancyRole.OWNER, end_date=None
        ).values_list("person_id", flat=True)
        self.rooms_of = Counter(owners)
        self.log("收费项目、收费标准、滞纳金规则、预交优惠")

    # --- bills -----------------------------------------------------------------------------------

    def bill_month(self, month: dt.date) -> BillingRun:
        """公摊 total, preview, commit — as the billing clerk does each month."""
        total = money(self.total_area * Decimal(self.rng.randint(30, 50)) / 100)
        readings.shared_charge_record(
            user=self.h.manager,
            fee_item=self.shared,
            period_start=month,
            total=total,
            note="公共照明、电梯、水泵用电（供电局账单）",
        )
        run = runs.run_preview(project=self.project, period_start=month, user=self.h.manager)
        # What run_commit does, without handing the writing to the background worker.
        BillingRun.objects.filter(pk=run.pk).update(status=RunStatus.QUEUED)
        audit_record(user=self.h.manager, action="计费生成", obj=run, project=self.project)
        return runs.run_execute(run.pk, self.h.manager.pk)

    def load_run(self, run: BillingRun, index: int) -> None:
        rows = list(
            Bill.objects.filter(run=run)
            .order_by("id")
            .values_list("id", "account_id", "amount", "due_date", "period_start")
        )
        new = sorted({account_id for _, account_id, *_ in rows} - self.households.keys())
        if new:
            self.add_households(new, index)
        for household in self.households.values():
            household.monthly = ZERO
        for bill_id, account_id, amount, due, period_start in rows:
            household = self.households[account_id]
            entry = [due, period_start, bill_id, money(amount)]
            household.open.append(entry)
            household.monthly += entry[3]
            self.entries[bill_id] = entry

    def add_households(self, account_ids: list[int], index: int) -> None:
        rows = Account.objects.filter(pk__in=account_ids).values_list(
            "id",
            "room__use",
            "room__occupancy_state",
            "payer_id",
            "payer__is_developer",
            "payer__kind",
        )
        info = {row[0]: row[1:] for row in rows}
        for account_id in account_ids:
            use, state, payer_id, developer, kind = info[account_id]
            self.households[account_id] = self.new_household(
                account_id, use, state, payer_id, developer, kind, index
            )

    def new_household(self, account_id, use, state, payer_id, developer, kind, index) -> _Household:
        rng = self.rng
        organisation = kind == PersonKind.ORGANISATION
        commercial = use in (RoomUse.SHOP, RoomUse.OFFICE)
        if organisation:
            method = rng.choice([PaymentMethod.TRANSFER] * 3 + [PaymentMethod.CARD])
        else:
            method = rng.choices(PERSON_METHODS, weights=PERSON_METHOD_WEIGHTS)[0]
        if developer:
            return _Household(account_id, DEVELOPER, 3, rng.randrange(3), PaymentMethod.TRANSFER)
        investor = state == OccupancyState.VACANT and (
            self.rooms_of.get(payer_id, 0) > 1 or self.chance(0.5)
        )
        if investor:
            return _Household(account_id, RARE, 1, 0, method)
        roll = rng.random()
        prompt, late = (0.60, 0.25) if commercial else (0.75, 0.16)
        if roll < prompt:
            if commercial:
                cycle = rng.choice([1, 3, 3, 6])
            else:
                cycle = rng.choices([1, 3, 6, 12], weights=[30, 35, 10, 25])[0]
            if method == PaymentMethod.WITHHOLDING:
                cycle = 1  # the bank takes it every month
            return _Household(account_id, PROMPT, cycle, rng.randrange(cycle), method)
        if method == PaymentMethod.WITHHOLDING:
            method = PaymentMethod.WECHAT
        if roll < prompt + late:
            cycle = rng.choice([2, 3, 3, 4])
            return _Household(account_id, LATE, cycle, rng.randrange(cycle), method)
        stop = max(index, len(self.h.months) - rng.randint(6, 30))
        cycle = rng.choice([3, 4, 6])
        return _Household(account_id, CHRONIC, cycle, rng.randrange(cycle), method, stop=stop)

    def sync_consumption(self, run: BillingRun) -> None:
        """What ``prepaid_consume_for_run`` paid, into the households' books."""
        for bill_id, account_id, amount in Allocation.objects.filter(
            bill__run=run, prepaid__isnull=False
        ).values_list("bill_id", "bill__account_id", "amount"):
            amount = money(amount)
            household = self.households[account_id]
            self.entries[bill_id][3] -= amount
            household.prepaid -= amount
        for household in self.households.values():
            household.open = [entry for entry in household.open if entry[3] > 0]
            household.prepaid = max(household.prepaid, ZERO)

    # --- who pays what, when ---------------------------------------------------------------------

    def plan_payments(self, index: int, month: dt.date) -> list[_Event]:
        rng = self.rng
        last_day = calc.month_end(month)
        events = []
        for account_id in sorted(self.households):
            h = self.households[account_id]
            owed = h.outstanding()
            behaviour = h.behaviour
            amount = ZERO
            day = month
            if behaviour in (PROMPT, DEVELOPER):
                if (index - h.phase) % h.cycle:
                    continue
                day = month + dt.timedelta(days=rng.randint(0, 19))
                ahead = h.monthly * (h.cycle - 1) if h.cycle > 1 else ZERO
                amount = owed + ahead
            elif behaviour == LATE or (behaviour == CHRONIC and index < (h.stop or 0)):
                if (index - h.phase) % h.cycle:
                    continue
                day = month + dt.timedelta(days=rng.randint(0, 27))
                amount = owed
            elif behaviour == RARE:
                if not self.chance(1 / 15):
                    continue
                day = month + dt.timedelta(days=rng.randint(0, 27))
                amount = owed
            else:
                continue
            day = min(day, last_day)
            if amount <= 0 or day > self.h.today:
                continue
            if behaviour != PROMPT and h.method in (PaymentMethod.CASH, PaymentMethod.WECHAT):
                # Rounded up to ten yuan: what is left over pays late fees, then goes to prepaid.
                amount = (amount / 10).to_integral_value(rounding=ROUND_CEILING) * 10
            amount = money(amount)
            events.append(_Event(day, h, amount, self.lines(h, amount, day)))
        events.sort(key=lambda e: (e.day, e.household.account_id))
        return events

    def lines(self, h: _Household, amount: Decimal, day: dt.date) -> list[tuple[str, Decimal, str]]:
        rng = self.rng
        if h.method == PaymentMethod.WECHAT and amount > 200 and self.chance(0.04):
            cash = Decimal(rng.randint(1, int(amount) // 100)) * 10
            return [
                (PaymentMethod.WECHAT, amount - cash, self.reference(PaymentMethod.WECHAT, day)),
                (PaymentMethod.CASH, cash, ""),
            ]
        return [(h.method, amount, self.reference(h.method, day))]

    def reference(self, method: str, day: dt.date) -> str:
        digits = "".join(str(self.rng.randrange(10)) for _ in range(10))
        if method == PaymentMethod.WECHAT:
            return f"4200002{day:%Y%m%d}{digits}"
        if method == PaymentMethod.ALIPAY:
            return f"{day:%Y%m%d}2200145{digits}"
        if method == PaymentMethod.CARD:
            return f"POS{day:%y%m%d}{digits[:6]}"
        if method in (PaymentMethod.TRANSFER, PaymentMethod.WITHHOLDING):
            return f"HX{day:%Y%m%d}{digits}"
        return ""

    # --- old months: in bulk ---------------------------------------------------------------------

    def write_bulk(self, month: dt.date, events: list[_Event]) -> None:
        """The rows ``payment_record`` writes, for a month of payments at once (no late-fee bills)."""
        if not events:
            return
        cashier = self.h.cashier
        tz = timezone.get_current_timezone()
        payments, plans = [], []
        for event in events:
            self.receipt_no += 1
            shares, deposit = event.household.pay(event.amount)
            event.household.prepaid += deposit
            received = dt.datetime.combine(
                event.day,
                dt.time(self.rng.randint(8, 17), self.rng.randint(0, 59), self.rng.randint(0, 59)),
                tzinfo=tz,
            )
            payments.append(
                {
                    "project_id": self.project.pk,
                    "account_id": event.household.account_id,
                    "receipt_no": self.receipt_no,
                    "amount": event.amount,
                    "business_date": event.day,
                    "received_at": received,
                    "cashier_id": cashier.pk,
                    "idempotency_key": None,
                }
            )
            plans.append((event, shares, deposit))
        ids = self.h.insert_rows(Payment, payments)
        lines, allocations, movements = [], [], []
        for payment_id, (event, shares, deposit) in zip(ids, plans, strict=True):
            for method, amount, reference in event.lines:
                lines.append(
                    {
                        "payment_id": payment_id,
                        "method": method,
                        "amount": amount,
                        "reference": reference,
                    }
                )
            for bill_id, share in shares:
                allocations.append(
                    {
                        "bill_id": bill_id,
                        "amount": share,
                        "effective_date": event.day,
                        "payment_id": payment_id,
                    }
                )
            if deposit > 0:
                movements.append(
                    {
                        "account_id": event.household.account_id,
                        "kind": PrepaidKind.DEPOSIT,
                        "amount": deposit,
                        "effective_date": event.day,
                        "payment_id": payment_id,
                    }
                )
        self.h.insert_rows(PaymentLine, lines)
        self.h.insert_rows(Allocation, allocations)
        self.h.insert_rows(PrepaidMovement, movements)
        closings = self.closings(events)
        audit_record(
            user=cashier,
            action="收款（历史数据批量导入）",
            project=self.project,
            model="ledger.Payment",
            changes={
                "month": f"{month:%Y-%m}",
                "payments": len(payments),
                "amount": sum((e.amount for e in events), ZERO),
                "receipts": [payments[0]["receipt_no"], payments[-1]["receipt_no"]],
                "closed_days": closings,
                "note": "演示数据：与逐笔收款相同的记录，按月批量写入，未计滞纳金",
            },
        )

    def closings(self, events: list[_Event]) -> int:
        """日结 rows of the month's days, with the figures ``cashier_close`` would have stored (these
        days had payments only: no reversals, no refunds)."""
        received: dict[dt.date, dict[str, Decimal]] = {}
        counts: Counter = Counter()
        for event in events:
            counts[event.day] += 1
            day = received.setdefault(event.day, {})
            for method, amount, _reference in event.lines:
                day[method] = day.get(method, ZERO) + amount
        rows = []
        for day, by_method in sorted(received.items()):
            if day >= self.h.today:
                continue
            totals = [
                MethodTotal(method.value, str(method.label), by_method[method.value])
                for method in PaymentMethod
                if method.value in by_method
            ]
            rows.append(
                CashierClosing(
                    project=self.project,
                    cashier=self.h.cashier,
                    business_date=day,
                    totals={t.method: t.as_json() for t in totals},
                    total_amount=sum(
                        (t.net for t in totals if t.method != PaymentMethod.PREPAID), ZERO
                    ),
                    payment_count=counts[day],
                    reversal_count=0,
                )
            )
        CashierClosing.objects.bulk_create(rows)
        return len(rows)

    def sync_receipt_sequence(self) -> None:
        ReceiptSequence.objects.update_or_create(
            project=self.project, defaults={"last_no": self.receipt_no}
        )

    # --- recent months: through the services ------------------------------------------------------

    def write_recent(self, month: dt.date, events: list[_Event], *, last: bool) -> None:
        """The month's payments through the posting services: a day's ordinary payments in one set
        (``payments_record_many``, what the bank import posts with: the same rows as
        ``payment_record`` once per payment, late-fee bills included, in a fixed number of queries),
        the stories one at a time (a typo 冲红 and paid again, a 预交 with discount)."""
        accounts = Account.objects.select_related("project", "room", "payer").in_bulk(
            [e.household.account_id for e in events]
        )
        if last:
            # 预交 today: a few yearly payers take the year of property fee with the discount instead.
            yearly = [
                e for e in events if e.household.behaviour == PROMPT and e.household.cycle == 12
            ]
            for event in yearly[:5]:
                event.pay_ahead, event.day = True, self.h.today
            events.sort(key=lambda e: (e.day, e.household.account_id))
        mistakes = set(self.rng.sample(range(len(events)), k=min(3, -(-len(events) // 40))))
        batch: list[_Event] = []
        for n, event in enumerate(events):
            if event.pay_ahead or n in mistakes:
                self.post_batch(batch, accounts)
                self.post_one(event, accounts[event.household.account_id], mistake=n in mistakes)
                continue
            if batch and batch[-1].day != event.day:
                self.post_batch(batch, accounts)
            batch.append(event)
        self.post_batch(batch, accounts)
        if last:
            self.refund_some(events)

    def post_batch(self, batch: list[_Event], accounts: dict[int, Account]) -> None:
        """A set of one day's payments, in the order given (receipt numbers in that order)."""
        if not batch:
            return
        results = payments_record_many(
            user=self.h.cashier,
            project=self.project,
            requests=[
                PaymentRequest(
                    account=accounts[e.household.account_id],
                    lines=e.lines,
                    business_date=e.day,
                    include_late_fees=True,
                )
                for e in batch
            ],
        )
        for event, payment in zip(batch, results, strict=True):
            if isinstance(payment, ValidationFailed):
                raise payment
            h = event.household
            shares, deposit = h.pay(event.amount)
            h.prepaid += deposit
            self.after_payment(accounts[h.account_id], payment, event.lines[0][0])
        self.write_prints()
        batch.clear()

    def post_one(self, event: _Event, account: Account, *, mistake: bool) -> None:
        """A payment with a story, through ``payment_record`` (and ``pay_ahead``, ``payment_reverse``)."""
        cashier, supervisor = self.h.cashier, self.h.supervisor
        h = event.household
        if event.pay_ahead:
            try:
                result = pay_ahead.pay_ahead(
                    user=cashier,
                    account=account,
                    fee_item=self.property_fee,
                    months=12,
                    on_date=event.day,
                )
            except ValidationFailed:
                pass  # e.g. the developer pays part of the year: they prepay as usual
            else:
                amount = money(h.outstanding() + result.amount_due)
                event = _Event(event.day, h, amount, self.lines(h, amount, event.day))
        if mistake:
            wrong = event.amount + Decimal(self.rng.choice([100, 200, 1000]))
            typo = payment_record(
                user=cashier,
                account=account,
                lines=[(event.lines[0][0], wrong, event.lines[0][2])],
                business_date=event.day,
                include_late_fees=False,
            )
            payment_reverse(
                user=cashier,
                payment=typo,
                reason=self.rng.choice(REVERSAL_REASONS),
                approved_by=supervisor,
                business_date=event.day,
            )
        payment = payment_record(
            user=cashier,
            account=account,
            lines=event.lines,
            business_date=event.day,
            include_late_fees=True,
        )
        shares, deposit = h.pay(event.amount)
        h.prepaid += deposit
        self.after_payment(account, payment, event.lines[0][0])
        self.write_prints()

    def after_payment(self, account: Account, payment: Payment, method: str) -> None:
        """Receipts printed at the window (a few reprinted: 补打; kept for ``write_prints``) and
        invoice requests."""
        rng = self.rng
        if method in (PaymentMethod.CASH, PaymentMethod.CARD) or rng.random() < 0.15:
            self.prints.append((payment, rng.choice(["roll", "roll", "a4"])))
            if rng.random() < 0.03:
                self.prints.append((payment, "a4"))
        payer = account.payer
        organisation = payer.kind == PersonKind.ORGANISATION
        if (organisation and rng.random() < 0.6) or rng.random() < 0.03:
            phone = (
                Phone.objects.filter(person=payer, number__startswith="1")
                .values_list("number", flat=True)
                .first()
            )
            invoice_request_create(
                user=self.h.cashier,
                payment=payment,
                title=payer.name,
                tax_number=payer.id_number if organisation else "",
                email="" if phone else f"fapiao{account.pk}@example.com",
                phone=phone or "",
            )

    def write_prints(self) -> None:
        """The prints ``after_payment`` kept, with the rows and audit entries
        ``receipt_print_record`` writes (a payment's second print is its 补打), in two inserts."""
        if not self.prints:
            return
        cashier = self.h.cashier
        seen: set[int] = set()
        rows, entries = [], []
        for payment, paper in self.prints:
            is_reprint = payment.pk in seen
            seen.add(payment.pk)
            rows.append(
                ReceiptPrint(
                    payment=payment, printed_by=cashier, is_reprint=is_reprint, paper=paper
                )
            )
            entries.append(
                audit_entry(
                    user=cashier,
                    action="补打收据" if is_reprint else "打印收据",
                    obj=payment,
                    project=self.project.pk,
                    changes={"paper": paper, "is_reprint": is_reprint},
                )
            )
        ReceiptPrint.objects.bulk_create(rows, batch_size=1000)
        AuditEntry.objects.bulk_create(entries, batch_size=1000)
        self.prints = []

    def refund_some(self, events: list[_Event]) -> None:
        """A few households with prepaid balance get it back (sold the flat, tenant moved out)."""
        day = min(self.h.today, max((e.day for e in events), default=self.h.today))
        candidates = [
            h
            for h in self.households.values()
            if h.behaviour == PROMPT and h.cycle >= 6 and h.prepaid > 100
        ]
        accounts = Account.objects.select_related("project").in_bulk(
            [h.account_id for h in candidates[:30]]
        )
        for h in candidates[:30]:
            if self.refunds >= 3:
                break
            account = accounts[h.account_id]
            available = prepaid_available(account, day)
            if available <= 0:
                continue
            prepaid_refund(
                user=self.h.cashier,
                account=account,
                amount=available,
                method=self.rng.choice([PaymentMethod.TRANSFER, PaymentMethod.CASH]),
                reason=self.rng.choice(REFUND_REASONS),
                approved_by=self.h.supervisor,
                business_date=day,
            )
            h.prepaid = ZERO
            self.refunds += 1

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
