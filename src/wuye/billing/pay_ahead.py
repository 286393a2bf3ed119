"""预缴 (paying ahead): the pay-ahead offers of a fee item and billing months ahead of their period.

The bills come from the same planner as the billing run (``run_planning.plan_month``).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from wuye.billing import calc, run_planning, run_writing
from wuye.billing.checks import (
    _decimal,
    _real,
    _same_project,
    check_approver,
)
from wuye.billing.enums import (
    AdjustmentKind,
    BillKind,
    ChargeMethod,
)
from wuye.billing.models import (
    Account,
    Bill,
    BillAdjustment,
    FeeItem,
    PayAheadRule,
)
from wuye.billing.selectors import (
    billed_periods,
    billing_settings,
    revision_for,
)
from wuye.core.audit import audit_record, snapshot
from wuye.core.errors import ValidationFailed, full_clean
from wuye.core.models import User
from wuye.core.money import ZERO, money

# --- pay ahead -----------------------------------------------------------------------------------


def pay_ahead_rule_add(
    *,
    user: User | None,
    fee_item: FeeItem,
    name: str,
    min_months: int,
    valid_from: datetime.date,
    approved_by: User,
    discount_rate: Decimal | str = "0",
    free_months: int = 0,
    valid_to: datetime.date | None = None,
) -> PayAheadRule:
    """A pay-ahead incentive (e.g. 12 months → 5% off, or one month free), approved by the manager."""
    check_approver(approved_by, fee_item.project_id)
    rate = _decimal(discount_rate, "discount_rate", "折扣比例")
    if not (name or "").strip():
        raise ValidationFailed("请填写优惠名称", field="name")
    if rate == 0 and free_months == 0:
        raise ValidationFailed("请填写折扣比例或赠送月数", field="discount_rate")
    with transaction.atomic():
        rule = PayAheadRule(
            project_id=fee_item.project_id,
            fee_item=fee_item,
            name=name.strip(),
            min_months=min_months,
            discount_rate=rate,
            free_months=free_months,
            valid_from=valid_from,
            valid_to=valid_to,
            approved_by=approved_by,
        )
        full_clean(rule)
        rule.save()
        audit_record(
            user=user,
            action="预交优惠新增",
            obj=rule,
            project=fee_item.project_id,
            changes=snapshot(rule),
        )
    return rule


@dataclass
class PayAheadResult:
    bills: list[Bill]
    adjustments: list[BillAdjustment] = field(default_factory=list)
    rule: PayAheadRule | None = None

    @property
    def billed(self) -> Decimal:
        return sum((b.amount for b in self.bills), ZERO)

    @property
    def discount(self) -> Decimal:
        return sum((a.amount for a in self.adjustments), ZERO)

    @property
    def amount_due(self) -> Decimal:
        """What the household pays now for these bills."""
        return self.billed - self.discount


PAY_AHEAD_METHODS = frozenset({ChargeMethod.AREA, ChargeMethod.FIXED, ChargeMethod.PARKING})
PAY_AHEAD_HORIZON = 120  # periods looked ahead for unbilled ones


# The most generous rule first: the longest minimum, then the largest discount, the most free months.
MOST_GENEROUS_FIRST = ("-min_months", "-discount_rate", "-free_months", "-id")


def rules_in_force(on: datetime.date) -> QuerySet[PayAheadRule]:
    return PayAheadRule.objects.filter(valid_from__lte=on).exclude(valid_to__lt=on)


def pay_ahead_rule_for(fee_item: FeeItem, months: int, on: datetime.date) -> PayAheadRule | None:
    """The most generous rule a prepayment of ``months`` qualifies for on ``on``."""
    rules = rules_in_force(on).filter(fee_item=fee_item, min_months__lte=months)
    return rules.order_by(*MOST_GENEROUS_FIRST).first()


def _horizon_check(
    fee_item: FeeItem,
    billed: set[datetime.date],
    periods: list[calc.Period],
    *,
    months: int,
    cap: int,
    on: datetime.date,
) -> None:
    """The cap binds how far ahead the household has paid, not each prepayment alone: the months
    billed after the current period (earlier prepayments, their free months included) and the paid
    months this one adds after it stay within ``cap``."""
    current = calc.period_of(fee_item.cycle, on)
    ahead = sorted(start for start in billed if start > current.start)
    before = sum(calc.period_of(fee_item.cycle, start).months for start in ahead)
    if not before:
        return
    adds = months - sum(p.months for p in periods if p.start <= current.start)
    if before + max(adds, 0) > cap:
        last = calc.period_of(fee_item.cycle, ahead[-1])
        room_left = max(cap - before, 0)
        raise ValidationFailed(
            f"本户{fee_item.name}已预交至 {last.end:%Y-%m}（本期以后 {before} 个月），"
            f"再预交 {months} 个月将超过本项目预收上限 {cap} 个月（地方规定可限制预收物业费的月数）"
            + (f"；现在最多可再预交 {room_left} 个月" if room_left else "；请到期后再预交"),
            field="months",
        )


def pay_ahead(
    *,
    user: User | None,
    account: Account,
    fee_item: FeeItem,
    months: int,
    on_date: datetime.date | None = None,
) -> PayAheadResult:
    """Bills ``months`` of future periods for an account now (预交), with the same planner as the billing
    run — so the month's run later finds them and skips them — and applies the pay-ahead rule the
    prepayment qualifies for (a discount per bill, or free months billed and fully discounted).

    Refused beyond the project's prepayment cap (LAW.md §11: local rules may cap prepayment), also
    counting the months already billed ahead of the current period (``_horizon_check``).
    """
    on = on_date or timezone.localdate()
    _same_project(fee_item.project_id, account.project_id, "收费项目")
    if fee_item.method not in PAY_AHEAD_METHODS:
        raise ValidationFailed(f"{fee_item.name}按实际用量或分摊计费，不能预交", field="fee_item")
    if not fee_item.is_active:
        raise ValidationFailed(f"{fee_item.name}已停用", field="fee_item")
    if months < 1:
        raise ValidationFailed("预交月数至少为 1", field="months")
    cap = billing_settings(account.project_id).max_prepay_months
    if months > cap:
        raise ValidationFailed(
            f"预交月数 {months} 超过本项目预收上限 {cap} 个月（地方规定可限制预收物业费，"
            "地方规定可能限制预收月数；上限可在项目收费设置中调整）",
            field="months",
        )
    step = calc.cycle_months(fee_item.cycle)
    rule = pay_ahead_rule_for(fee_item, months, on)
    free = rule.free_months if rule else 0
    if months % step or (months + free) % step:
        raise ValidationFailed(
            f"{fee_item.name}按{fee_item.get_cycle_display()}计费，预交月数须是 {step} 的倍数",
            field="months",
        )
    room = account.room
    with transaction.atomic():
        Account.objects.select_for_update().filter(pk=account.pk).first()
        billed = billed_periods(account, fee_item)
        periods: list[calc.Period] = []
        period = calc.period_of(fee_item.cycle, on)
        for _ in range(PAY_AHEAD_HORIZON):
            if sum(p.months for p in periods) >= months + free:
                break
            if period.start not in billed:
                periods.append(period)
            period = calc.next_period(fee_item.cycle, period)
        _horizon_check(fee_item, billed, periods, months=months, cap=cap, on=on)
        created: list[Bill] = []
        for period in periods:
            plan = run_planning.plan_month(
                account.project_id, period.start, room_ids=[room.pk], fee_items=[fee_item]
            )
            if plan.exceptions:
                raise ValidationFailed(f"{period}：{plan.exceptions[0]['message']}", field="months")
            if not plan.bills:
                raise ValidationFailed(
                    f"{period}：该户{fee_item.name}按政策免收或金额为 0，无需预交", field="months"
                )
            for planned in plan.bills:
                if planned.payer_id != account.payer_id:
                    raise ValidationFailed(
                        f"{period} 的{fee_item.name}应由其他缴费人缴纳（如未收楼期间由开发建设单位缴纳），"
                        "不能由本账户预交",
                        field="account",
                    )
            bills = run_writing.bill_objects(
                plan.bills,
                {(room.pk, account.payer_id): account.pk},
                project_id=account.project_id,
                revision=revision_for(account.project_id, period.start),
                run_id=None,
                user_id=_real(user).pk if _real(user) else None,
            )
            try:
                with transaction.atomic():
                    created.extend(Bill.objects.bulk_create(bills))
            except IntegrityError as exc:
                raise ValidationFailed(f"{period} 已出账，请刷新后重试", field="months") from exc
        adjustments: list[BillAdjustment] = []
        if rule is not None:
            paid_months = 0
            for bill in created:
                months_of_bill = calc.period_of(fee_item.cycle, bill.period_start).months
                free_bill = paid_months >= months
                paid_months += months_of_bill
                if free_bill:
                    value, text = bill.amount, f"预交赠送月份：{rule.name}"
                elif rule.discount_rate > 0:
                    value = money(bill.amount * rule.discount_rate, fee_item.rounding)
                    text = f"预交 {months} 个月优惠：{rule.name}"
                else:
                    continue
                if value <= 0:
                    continue
                adjustments.append(
                    BillAdjustment(
                        bill=bill,
                        kind=AdjustmentKind.DISCOUNT,
                        amount=value,
                        effective_date=on,
                        reason=text[:200],
                        approved_by_id=rule.approved_by_id,
                        created_by=_real(user),
                    )
                )
            BillAdjustment.objects.bulk_create(adjustments)
        result = PayAheadResult(bills=created, adjustments=adjustments, rule=rule)
        audit_record(
            user=user,
            action="预交出账",
            obj=account,
            project=account.project_id,
            changes={
                "fee_item": fee_item.pk,
                "months": months,
                "free_months": free,
                "periods": [f"{p.start:%Y-%m}" for p in periods],
                "billed": result.billed,
                "discount": result.discount,
                "rule": rule.pk if rule else None,
            },
        )
    return result


class _QuoteOnly(Exception):
    """Rolls back the bills a quote made (``pay_ahead_quote``)."""

    def __init__(self, result: PayAheadResult):
        super().__init__("quote")
        self.result = result


def pay_ahead_quote(
    *,
    account: Account,
    fee_item: FeeItem,
    months: int,
    on_date: datetime.date | None = None,
) -> PayAheadResult:
    """What ``pay_ahead`` would bill and discount right now, without keeping anything: the very same
    service runs inside a savepoint that is rolled back, so a quote cannot drift from what the
    window (or a later online settlement) bills. The result's bills and adjustments are not saved;
    read its ``billed``, ``discount``, ``amount_due`` and ``rule``. Refused exactly as ``pay_ahead``."""
    try:
        with transaction.atomic():
            result = pay_ahead(
                user=None, account=account, fee_item=fee_item, months=months, on_date=on_date
            )
            raise _QuoteOnly(result)
    except _QuoteOnly as done:
        return done.result


def pay_ahead_items(project_id: int, on: datetime.date) -> list[FeeItem]:
    """The active fee items of a project that may be paid ahead and have a pay-ahead rule in force on
    ``on`` (what an owner may prepay online), in the project's order."""
    rules = rules_in_force(on).filter(project_id=project_id)
    return list(
        FeeItem.objects.filter(
            pk__in=rules.values("fee_item_id"), is_active=True, method__in=PAY_AHEAD_METHODS
        ).order_by("sort", "id")
    )


# --- 预交 at the fee window ----------------------------------------------------------------------

# The lengths a window offers besides the rules' own (a cashier picks one; the cap still binds).
WINDOW_MONTHS = (1, 3, 6, 12, 24, 36)


@dataclass(frozen=True)
class AheadChoice:
    """One way this household may pay ahead at the window: a fee item and a number of months."""

    fee_item: FeeItem
    months: int
    rule: PayAheadRule | None

    @property
    def value(self) -> str:
        return f"{self.fee_item.pk}:{self.months}"

    @property
    def label(self) -> str:
        text = f"{self.fee_item.name} 预交 {self.months} 个月"
        return f"{text}（{self.rule.name}）" if self.rule else text


def window_ahead_choices(account: Account, on: datetime.date) -> list[AheadChoice]:
    """What the window offers to pay ahead: each active fee item the household is billed for (by
    unit price, not by usage or sharing), for the usual lengths and each rule's own length, in
    whole periods of the item and within the project's prepayment cap — with the rule each length
    qualifies for."""
    cap = billing_settings(account.project_id).max_prepay_months
    billed = Bill.objects.filter(account=account, kind=BillKind.CHARGE).values("fee_item_id")
    items = list(
        FeeItem.objects.filter(
            pk__in=billed, is_active=True, method__in=PAY_AHEAD_METHODS
        ).order_by("sort", "id")
    )
    # Every rule in force for these items at once (the window opens for every household).
    in_force: dict[int, list[PayAheadRule]] = {item.pk: [] for item in items}
    for rule in rules_in_force(on).filter(fee_item__in=items).order_by(*MOST_GENEROUS_FIRST):
        in_force[rule.fee_item_id].append(rule)
    choices: list[AheadChoice] = []
    for item in items:
        step = calc.cycle_months(item.cycle)
        lengths = set(WINDOW_MONTHS) | {rule.min_months for rule in in_force[item.pk]}
        for months in sorted(m for m in lengths if m <= cap and m % step == 0):
            # As pay_ahead_rule_for: the first rule, most generous first, this length qualifies for.
            rule = next((r for r in in_force[item.pk] if r.min_months <= months), None)
            if rule is not None and (months + rule.free_months) % step:
                continue  # pay_ahead would refuse it: free months that are not whole periods
            choices.append(AheadChoice(item, months, rule))
    return choices


def window_ahead_choice(account: Account, value: str, on: datetime.date) -> AheadChoice | None:
    """The choice the window's form names (``"fee item id:months"``; empty: none); refuses a value
    that is not one of ``window_ahead_choices`` — a form sent with other figures."""
    if not (value or "").strip():
        return None
    for choice in window_ahead_choices(account, on):
        if choice.value == value.strip():
            return choice
    raise ValidationFailed("预交选项无效或已不适用，请重新选择", field="ahead")
