"""Billing's late-fee writes: the late-fee rule (滞纳金规则), the LPR rate, the waiver (减免滞纳金).

The other billing writes live by job: ``fee_settings`` (收费项目、收费标准、收费设置), ``readings`` (抄表录入,
公摊), ``adjustments`` (冲红、优惠、减免、补偿), ``pay_ahead`` (预缴), ``accounts`` (the payer account of a room
and fee item); billing runs in ``runs``.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from wuye.billing.checks import _amount, _decimal, _real, check_approver, require_reason
from wuye.billing.models import (
    LAW_MAX_CAP_MULTIPLIER,
    Bill,
    LateFeeRule,
    LateFeeWaiver,
    LprRate,
)
from wuye.billing.selectors import (
    late_fees_due,
)
from wuye.core.audit import audit_record, diff, snapshot
from wuye.core.errors import ValidationFailed, full_clean
from wuye.core.models import Company, Project, User

# --- late fees -----------------------------------------------------------------------------------


def late_fee_rule_set(
    *,
    user: User | None,
    project: Project,
    enabled: bool,
    daily_rate: Decimal | str,
    start_date: datetime.date,
    grace_days: int = 30,
    cap_multiplier: Decimal | str = "1.5",
) -> LateFeeRule:
    """The contract's late-fee terms for a project (LAW.md §6: only where the contract sets them)."""
    rate = _decimal(daily_rate, "daily_rate", "合同日利率")
    if rate < 0 or rate >= 1:
        raise ValidationFailed(
            "合同日利率须在 0 与 1 之间，如 0.0003 表示每日万分之三", field="daily_rate"
        )
    multiplier = _decimal(cap_multiplier, "cap_multiplier", "上限倍数")
    if multiplier <= 0:
        raise ValidationFailed("上限倍数须大于 0", field="cap_multiplier")
    if multiplier > LAW_MAX_CAP_MULTIPLIER:
        raise ValidationFailed(
            f"滞纳金上限不得超过一年期 LPR 的 {LAW_MAX_CAP_MULTIPLIER} 倍：违约金过分高于实际损失的，"
            "法院会予以调减（《民法典》第五百八十五条；最高人民法院关于适用《民法典》合同编通则"
            "若干问题的解释第六十五条）。本项目只能调低该倍数。",
            field="cap_multiplier",
        )
    with transaction.atomic():
        rule = LateFeeRule.objects.select_for_update().filter(project=project).first()
        before = snapshot(rule) if rule else {}
        rule = rule or LateFeeRule(project=project, start_date=start_date)
        rule.enabled = enabled
        rule.daily_rate = rate
        rule.grace_days = grace_days
        rule.start_date = start_date
        rule.cap_multiplier = multiplier
        full_clean(rule)
        rule.save()
        audit_record(
            user=user,
            action="滞纳金规则",
            obj=rule,
            project=project,
            changes=diff(before, snapshot(rule)),
        )
    return rule


def lpr_rate_set(
    *,
    user: User | None,
    company: Company,
    effective_from: datetime.date,
    annual_rate: Decimal | str,
) -> LprRate:
    """Records the one-year LPR from a date (LAW.md §6 keeps it editable)."""
    rate = _decimal(annual_rate, "annual_rate", "一年期LPR")
    if not Decimal(0) < rate < Decimal(1):
        raise ValidationFailed(
            "一年期LPR 须在 0 与 1 之间，如 0.0300 表示 3.00%", field="annual_rate"
        )
    with transaction.atomic():
        lpr, created = LprRate.objects.update_or_create(
            company=company, effective_from=effective_from, defaults={"annual_rate": rate}
        )
        audit_record(
            user=user,
            action="LPR登记",
            obj=lpr,
            changes={"effective_from": effective_from, "annual_rate": rate},
        )
    return lpr


def late_fee_waive(
    *,
    user: User | None,
    bill: Bill,
    amount: Decimal | str,
    reason: str,
    approved_by: User,
    as_of: datetime.date | None = None,
) -> LateFeeWaiver:
    """Forgives accrued late fee on a bill (at most the capped figure not yet waived)."""
    value = _amount(amount, label="减免金额")
    reason = require_reason(reason)
    check_approver(approved_by, bill.project_id, requested_by=_real(user), four_eyes=True)
    on = as_of or timezone.localdate()
    with transaction.atomic():
        Bill.objects.select_for_update().filter(pk=bill.pk).first()
        # One late-fee computation for the whole system: the ledger's, which knows allocations.
        accrued = late_fees_due(bill.project, [bill], on).get(bill.pk)
        if accrued is None or accrued.capped == 0:
            raise ValidationFailed(
                "该账单没有滞纳金（合同未约定、仍在宽限期或已按期缴清）", field="bill"
            )
        if value > accrued.due:
            raise ValidationFailed(
                f"减免金额 {value} 元超过该账单可减免的滞纳金 {accrued.due} 元", field="amount"
            )
        waiver = LateFeeWaiver.objects.create(
            bill=bill,
            amount=value,
            effective_date=on,
            reason=reason,
            approved_by=approved_by,
            created_by=_real(user),
        )
        audit_record(
            user=user,
            action="滞纳金减免",
            obj=bill,
            project=bill.project_id,
            changes={"amount": value, "reason": reason, "approved_by": approved_by.pk},
        )
    return waiver
