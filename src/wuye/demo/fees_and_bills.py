"""The demo's fee settings — 物业服务费 by use (raised mid-history), 公摊电费, 车位管理费, 垃圾清运费, the
late-fee rule and the pay-ahead discount — and each month's billing through the real engine
(``shared_charge_record``, ``run_preview``, ``run_execute``)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

from django.db.models import Sum

from wuye.billing import calc, fee_settings, pay_ahead, readings, runs
from wuye.billing import services as billing
from wuye.billing.enums import ChargeMethod, RunStatus, VacancyPolicy
from wuye.billing.models import (
    Bill,
    BillingRun,
)
from wuye.core.audit import audit_record
from wuye.core.money import ZERO, money
from wuye.ledger.models import (
    Allocation,
)
from wuye.registry.enums import OccupancyRole, RoomUse
from wuye.registry.models import Occupancy, Room

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


class FeesAndBills:
    """The project's fee items, prices and rules, and each month's billing run, read into the
    households' books. Part of ``history._ProjectHistory`` (its ``h``, ``project``, ``rng`` and ``households``)."""

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
