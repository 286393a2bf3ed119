"""Every write of billing: validated, in one transaction, with its audit entry.

Bills are never edited or deleted. What a bill asks for is lowered by a ``BillAdjustment`` — a reversal
(冲红), a discount (优惠), a waiver (减免) or a compensation (补偿) — each with a reason and an approver who
is the project's manager or a company administrator.

Billing runs live in ``runs`` (``run_preview``, ``run_commit``, ``run_reverse``, re-exported here).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from wuye.billing import calc, runs
from wuye.billing.checks import (  # noqa: F401  (APPROVER_ROLES is re-exported)
    APPROVER_ROLES,
    check_approver,
    require_reason,
)
from wuye.billing.enums import (
    AdjustmentKind,
    AreaBasis,
    BillKind,
    ChargeMethod,
    Cycle,
    NotHandedOverPolicy,
    VacancyPolicy,
)
from wuye.billing.models import (
    LAW_MAX_CAP_MULTIPLIER,
    Account,
    Bill,
    BillAdjustment,
    FeeItem,
    FeeStandard,
    LateFeeRule,
    LateFeeWaiver,
    LprRate,
    MeterReading,
    PayAheadRule,
    ProjectBillingSettings,
    SharedCharge,
)
from wuye.billing.runs import run_commit, run_preview, run_reverse  # noqa: F401  (re-exported)
from wuye.billing.selectors import (
    bill_balance,
    billed_periods,
    billing_settings,
    last_reading,
    late_fees_due,
    open_bills,
    revision_for,
)
from wuye.core.audit import audit_record, diff, snapshot
from wuye.core.errors import ValidationFailed, full_clean
from wuye.core.models import Company, Project, User
from wuye.core.money import ZERO, money, to_decimal
from wuye.core.roles import Role
from wuye.registry.enums import RoomUse
from wuye.registry.models import Building, Room
from wuye.registry.selectors import room_payer

# Who may approve a reversal, reduction, compensation or late-fee waiver, and change fee settings.
# Who may preview and commit billing runs and record readings and shared charges.
RUN_ROLES = frozenset({Role.PROJECT_MANAGER, Role.COMPANY_ADMIN, Role.FINANCE})
READING_ROLES = frozenset(
    {Role.PROJECT_MANAGER, Role.COMPANY_ADMIN, Role.FINANCE, Role.SUPERVISOR, Role.STEWARD}
)


# --- helpers -------------------------------------------------------------------------------------


def _real(user: User | None) -> User | None:
    return user if user is not None and user.is_authenticated else None


def _decimal(value: object, field: str, label: str) -> Decimal:
    try:
        return to_decimal(value)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValidationFailed(f"{label}：“{value}”不是有效的数字", field=field) from exc


def _amount(value: object, field: str = "amount", label: str = "金额") -> Decimal:
    amount = _decimal(value, field, label)
    if amount <= 0:
        raise ValidationFailed(f"{label}须大于 0", field=field)
    if amount != money(amount):
        raise ValidationFailed(f"{label}最多两位小数（到分）", field=field)
    return amount


def _num(value: Decimal) -> str:
    return runs._num(value)


def _same_project(obj_project_id: int, project_id: int, what: str) -> None:
    if obj_project_id != project_id:
        raise ValidationFailed(f"{what}不属于本项目")


# --- fee items and standards ---------------------------------------------------------------------

FEE_ITEM_FIELDS = (
    "name",
    "area_basis",
    "cycle",
    "due_days",
    "rounding",
    "uses",
    "vacancy_policy",
    "vacancy_rate",
    "not_handed_over_policy",
    "not_handed_over_rate",
    "prorate_from_handover",
    "late_fee_applies",
    "is_active",
    "sort",
)


def _clean_uses(uses: Iterable[str] | None) -> list[str]:
    uses = list(dict.fromkeys(uses or []))
    unknown = [u for u in uses if u not in RoomUse.values]
    if unknown:
        raise ValidationFailed(f"适用房屋用途：未知用途 {', '.join(unknown)}", field="uses")
    return uses


def fee_item_create(
    *,
    user: User | None,
    project: Project,
    code: str,
    name: str,
    method: str,
    cycle: str = Cycle.MONTH,
    area_basis: str = AreaBasis.GROSS,
    due_days: int = 14,
    rounding: str = "half_up",
    uses: Sequence[str] | None = None,
    vacancy_policy: str = VacancyPolicy.FULL,
    vacancy_rate: Decimal | str | int = 1,
    not_handed_over_policy: str = NotHandedOverPolicy.DEVELOPER,
    not_handed_over_rate: Decimal | str | int = 1,
    prorate_from_handover: bool = True,
    late_fee_applies: bool = True,
    sort: int = 0,
) -> FeeItem:
    code, name = (code or "").strip(), (name or "").strip()
    if not code:
        raise ValidationFailed("项目编码不能为空", field="code")
    if not name:
        raise ValidationFailed("收费项目名称不能为空", field="name")
    if method not in ChargeMethod.values:
        raise ValidationFailed(f"计费方式：未知的方式 {method}", field="method")
    with transaction.atomic():
        if FeeItem.objects.filter(project=project, code=code).exists():
            raise ValidationFailed(f"项目编码 {code} 已存在", field="code")
        item = FeeItem(
            project=project,
            code=code,
            name=name,
            method=method,
            cycle=cycle,
            area_basis=area_basis,
            due_days=due_days,
            rounding=rounding,
            uses=_clean_uses(uses),
            vacancy_policy=vacancy_policy,
            vacancy_rate=_decimal(vacancy_rate, "vacancy_rate", "空置房收费比例"),
            not_handed_over_policy=not_handed_over_policy,
            not_handed_over_rate=_decimal(
                not_handed_over_rate, "not_handed_over_rate", "未收楼收费比例"
            ),
            prorate_from_handover=prorate_from_handover,
            late_fee_applies=late_fee_applies,
            sort=sort,
        )
        full_clean(item)
        item.save()
        audit_record(
            user=user, action="收费项目新增", obj=item, project=project, changes=snapshot(item)
        )
    return item


def fee_item_update(*, user: User | None, fee_item: FeeItem, **changes: Any) -> FeeItem:
    unknown = set(changes) - set(FEE_ITEM_FIELDS)
    if unknown:
        raise ValidationFailed(f"不能修改字段：{', '.join(sorted(unknown))}")
    with transaction.atomic():
        item = FeeItem.objects.select_for_update().get(pk=fee_item.pk)
        before = snapshot(item)
        if "cycle" in changes and changes["cycle"] != item.cycle and item.bills.exists():
            raise ValidationFailed(
                "该收费项目已有账单，不能修改计费周期；请停用它并新建收费项目", field="cycle"
            )
        for key, value in changes.items():
            if key == "uses":
                value = _clean_uses(value)
            elif key in ("vacancy_rate", "not_handed_over_rate"):
                value = _decimal(value, key, item._meta.get_field(key).verbose_name)
            elif key == "name":
                value = (value or "").strip()
            setattr(item, key, value)
        full_clean(item)
        item.save()
        changed = diff(before, snapshot(item))
        if changed:
            audit_record(
                user=user, action="收费项目修改", obj=item, project=item.project_id, changes=changed
            )
    return item


def _range_text(s: FeeStandard) -> str:
    end = f"至 {s.valid_to:%Y-%m-%d}" if s.valid_to else "起长期有效"
    use = RoomUse(s.room_use).label if s.room_use else "所有用途"
    return f"{use} {s.valid_from:%Y-%m-%d} {end}，单价 {_num(s.unit_price)}"


def fee_standard_add(
    *,
    user: User | None,
    fee_item: FeeItem,
    unit_price: Decimal | str,
    valid_from: datetime.date,
    valid_to: datetime.date | None = None,
    room_use: str = "",
    note: str = "",
    close_previous: bool = False,
) -> FeeStandard:
    """Adds a price from a date. Ranges of the same item and use may not overlap; ``close_previous``
    ends an open-ended earlier standard the day before (a price change, 调价)."""
    price = _decimal(unit_price, "unit_price", "单价")
    if price < 0:
        raise ValidationFailed("单价不能为负", field="unit_price")
    if room_use and room_use not in RoomUse.values:
        raise ValidationFailed(f"房屋用途：未知用途 {room_use}", field="room_use")
    if valid_to is not None and valid_to < valid_from:
        raise ValidationFailed("失效日期不能早于生效日期", field="valid_to")
    with transaction.atomic():
        FeeItem.objects.select_for_update().get(pk=fee_item.pk)
        same = FeeStandard.objects.filter(fee_item=fee_item, room_use=room_use)
        overlapping = [
            s
            for s in same
            if (valid_to is None or s.valid_from <= valid_to)
            and (s.valid_to is None or valid_from <= s.valid_to)
        ]
        if close_previous:
            closable = [s for s in overlapping if s.valid_to is None and s.valid_from < valid_from]
            for s in closable:
                old = s.valid_to
                s.valid_to = valid_from - calc.ONE_DAY
                s.save(update_fields=["valid_to"])
                audit_record(
                    user=user,
                    action="收费标准结束",
                    obj=s,
                    project=fee_item.project_id,
                    changes={"valid_to": [old, s.valid_to]},
                )
            overlapping = [s for s in overlapping if s not in closable]
        if overlapping:
            listed = "；".join(_range_text(s) for s in overlapping)
            raise ValidationFailed(
                f"生效日期：与已有收费标准的时间重叠（{listed}）。调价请先设置原标准的失效日期，"
                "或选择“自动结束原标准”",
                field="valid_from",
            )
        standard = FeeStandard(
            fee_item=fee_item,
            room_use=room_use,
            unit_price=price,
            valid_from=valid_from,
            valid_to=valid_to,
            note=note.strip(),
        )
        full_clean(standard)
        standard.save()
        audit_record(
            user=user,
            action="收费标准新增",
            obj=standard,
            project=fee_item.project_id,
            changes=snapshot(standard),
        )
    return standard


def fee_standard_end(
    *, user: User | None, standard: FeeStandard, valid_to: datetime.date
) -> FeeStandard:
    """Sets the last day of a standard (its price stops after that day)."""
    with transaction.atomic():
        standard = FeeStandard.objects.select_for_update().get(pk=standard.pk)
        if valid_to < standard.valid_from:
            raise ValidationFailed("失效日期不能早于生效日期", field="valid_to")
        old = standard.valid_to
        standard.valid_to = valid_to
        standard.save(update_fields=["valid_to"])
        audit_record(
            user=user,
            action="收费标准结束",
            obj=standard,
            project=standard.fee_item.project_id,
            changes={"valid_to": [old, valid_to]},
        )
    return standard


# --- readings and shared charges -----------------------------------------------------------------


def _period_start(item: FeeItem, period_start: datetime.date) -> datetime.date:
    if period_start.day != 1 or not calc.is_period_start(item.cycle, period_start):
        period = calc.period_of(item.cycle, period_start)
        raise ValidationFailed(
            f"账期：{item.name}按{item.get_cycle_display()}计费，账期应从 {period.start:%Y-%m-%d} 开始",
            field="period_start",
        )
    return period_start


def _billed(room_id: int | None, item: FeeItem, period_start: datetime.date) -> bool:
    bills = Bill.objects.filter(fee_item=item, period_start=period_start, kind=BillKind.CHARGE)
    if room_id is not None:
        bills = bills.filter(room_id=room_id)
    reversal = BillAdjustment.objects.filter(bill=OuterRef("pk"), kind=AdjustmentKind.REVERSAL)
    return bills.filter(~Exists(reversal)).exists()


def meter_reading_record(
    *,
    user: User | None,
    room: Room,
    fee_item: FeeItem,
    period_start: datetime.date,
    current: Decimal | str,
    read_on: datetime.date | None = None,
    previous: Decimal | str | None = None,
    replaced: bool = False,
    old_meter_final: Decimal | str | None = None,
    new_meter_start: Decimal | str | None = None,
) -> MeterReading:
    """Records (or, before it is billed, corrects) a room's reading for a period.

    ``previous`` defaults to the last reading's current figure. A reading below it is refused unless a
    meter replacement is recorded (the old meter's final figure and the new meter's start).
    """
    if fee_item.method != ChargeMethod.METERED:
        raise ValidationFailed(f"{fee_item.name}不是抄表计费项目", field="fee_item")
    _same_project(room.project_id, fee_item.project_id, "房屋")
    if not calc.applies_to(fee_item, room.use):
        raise ValidationFailed(
            f"{fee_item.name}不适用于{RoomUse(room.use).label}房屋 {room.code}", field="room"
        )
    period_start = _period_start(fee_item, period_start)
    current_value = _decimal(current, "current", "本期读数")
    if current_value < 0:
        raise ValidationFailed("本期读数不能为负", field="current")
    with transaction.atomic():
        existing = (
            MeterReading.objects.select_for_update()
            .filter(room=room, fee_item=fee_item, period_start=period_start)
            .first()
        )
        if existing is not None and _billed(room.pk, fee_item, period_start):
            raise ValidationFailed(
                f"{room.code} {period_start:%Y-%m} 的读数已出账，不能修改；如有错误请冲红账单后再改",
                field="current",
            )
        if previous is None or previous == "":
            if existing is not None:
                previous_value = existing.previous
            else:
                last = last_reading(room, fee_item, period_start)
                if last is None:
                    raise ValidationFailed(
                        f"{room.code} 首次抄表，请填写上期读数（起码）", field="previous"
                    )
                previous_value = last.current
        else:
            previous_value = _decimal(previous, "previous", "上期读数")
        final = start = None
        if replaced:
            if old_meter_final in (None, "") or new_meter_start in (None, ""):
                raise ValidationFailed("换表须登记旧表止码和新表起码", field="old_meter_final")
            final = _decimal(old_meter_final, "old_meter_final", "旧表止码")
            start = _decimal(new_meter_start, "new_meter_start", "新表起码")
            if final < previous_value:
                raise ValidationFailed(
                    f"旧表止码 {_num(final)} 低于上期读数 {_num(previous_value)}",
                    field="old_meter_final",
                )
            if current_value < start:
                raise ValidationFailed(
                    f"本期读数 {_num(current_value)} 低于新表起码 {_num(start)}", field="current"
                )
        elif current_value < previous_value:
            raise ValidationFailed(
                f"本期读数 {_num(current_value)} 低于上期读数 {_num(previous_value)}，"
                "如已换表请登记换表读数",
                field="current",
            )
        reading = existing or MeterReading(
            project_id=room.project_id, room=room, fee_item=fee_item, period_start=period_start
        )
        before = snapshot(reading) if existing else {}
        reading.previous = previous_value
        reading.current = current_value
        reading.replaced = replaced
        reading.old_meter_final = final
        reading.new_meter_start = start
        reading.read_on = read_on or timezone.localdate()
        if existing is None:
            reading.created_by = _real(user)
        full_clean(reading)
        reading.save()
        audit_record(
            user=user,
            action="抄表修改" if existing else "抄表登记",
            obj=reading,
            project=room.project_id,
            changes=diff(before, snapshot(reading)) if existing else snapshot(reading),
        )
    return reading


class BatchFailed(ValidationFailed):
    """Some rows of a batch were refused; nothing was written. ``errors`` maps row keys to messages."""

    code = "wuye.batch_invalid"

    def __init__(self, errors: dict[Any, str]):
        first = next(iter(errors.values()))
        super().__init__(f"{len(errors)} 行有错误，全部未保存。第一处：{first}")
        self.errors = errors


@dataclass
class ReadingEntry:
    room: Room
    current: Decimal | str
    previous: Decimal | str | None = None
    replaced: bool = False
    old_meter_final: Decimal | str | None = None
    new_meter_start: Decimal | str | None = None


def meter_readings_record_many(
    *,
    user: User | None,
    fee_item: FeeItem,
    period_start: datetime.date,
    entries: Sequence[ReadingEntry],
    read_on: datetime.date | None = None,
) -> list[MeterReading]:
    """A building's readings at once, all or nothing: any refused row leaves nothing written."""
    errors: dict[int, str] = {}
    saved: list[MeterReading] = []
    with transaction.atomic():
        for entry in entries:
            try:
                with transaction.atomic():
                    saved.append(
                        meter_reading_record(
                            user=user,
                            room=entry.room,
                            fee_item=fee_item,
                            period_start=period_start,
                            current=entry.current,
                            previous=entry.previous,
                            replaced=entry.replaced,
                            old_meter_final=entry.old_meter_final,
                            new_meter_start=entry.new_meter_start,
                            read_on=read_on,
                        )
                    )
            except ValidationFailed as exc:
                errors[entry.room.pk] = f"{entry.room.code}：{exc.message}"
        if errors:
            transaction.set_rollback(True)
    if errors:
        raise BatchFailed(errors)
    return saved


def shared_charge_record(
    *,
    user: User | None,
    fee_item: FeeItem,
    period_start: datetime.date,
    total: Decimal | str,
    building: Building | None = None,
    note: str = "",
) -> SharedCharge:
    """Registers a common meter's cost for a period (公摊), for the project or one building; before the
    period is billed it may be registered again to correct it."""
    if fee_item.method != ChargeMethod.SHARED:
        raise ValidationFailed(f"{fee_item.name}不是公摊计费项目", field="fee_item")
    if building is not None:
        _same_project(building.project_id, fee_item.project_id, "楼栋")
    period_start = _period_start(fee_item, period_start)
    amount = _decimal(total, "total", "分摊总额")
    if amount < 0:
        raise ValidationFailed("分摊总额不能为负", field="total")
    if amount != money(amount):
        raise ValidationFailed("分摊总额最多两位小数（到分）", field="total")
    with transaction.atomic():
        existing = (
            SharedCharge.objects.select_for_update()
            .filter(fee_item=fee_item, period_start=period_start, building=building)
            .first()
        )
        if existing is not None and _billed(None, fee_item, period_start):
            raise ValidationFailed(
                f"{fee_item.name} {period_start:%Y-%m} 已出账，不能修改分摊总额", field="total"
            )
        charge = existing or SharedCharge(
            project_id=fee_item.project_id,
            fee_item=fee_item,
            period_start=period_start,
            building=building,
            created_by=_real(user),
        )
        before = snapshot(charge) if existing else {}
        charge.total = amount
        charge.note = note.strip()
        full_clean(charge, exclude=["building"] if building is None else None)
        charge.save()
        audit_record(
            user=user,
            action="公摊修改" if existing else "公摊登记",
            obj=charge,
            project=fee_item.project_id,
            changes=diff(before, snapshot(charge)) if existing else snapshot(charge),
        )
    return charge


# --- accounts ------------------------------------------------------------------------------------


def account_for(
    room: Room, on_date: datetime.date | None = None, *, user: User | None = None
) -> Account:
    """The payer account of ``room`` on ``on_date`` (the developer before handover, else the payer or
    owner), created when it does not exist yet."""
    on = on_date or timezone.localdate()
    payer = room_payer(room, on)
    if payer is None:
        raise ValidationFailed(
            f"房屋 {room.code} 在 {on:%Y-%m-%d} 没有缴费人（业主或指定的缴费人），请先在一户一档中登记",
            field="room",
        )
    account = Account.objects.filter(room=room, payer=payer).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            account = Account.objects.create(project_id=room.project_id, room=room, payer=payer)
            audit_record(user=user, action="缴费账户新增", obj=account, project=room.project_id)
    except IntegrityError:  # created by someone else a moment ago
        account = Account.objects.get(room=room, payer=payer)
    return account


# --- reversals, reductions, compensations --------------------------------------------------------


def _locked_bill(bill: Bill) -> Bill:
    Bill.objects.select_for_update().filter(pk=bill.pk).first()
    return bill_balance(bill)


def bill_reverse(
    *, user: User | None, bill: Bill, reason: str, approved_by: User
) -> BillAdjustment:
    """冲红 of one bill: a reversal entry for all it still asks for. Refused while money is applied to it."""
    reason = require_reason(reason)
    check_approver(approved_by, bill.project_id, requested_by=_real(user), four_eyes=True)
    with transaction.atomic():
        current = _locked_bill(bill)
        if current.adjustments.filter(kind=AdjustmentKind.REVERSAL).exists():
            raise ValidationFailed("该账单已冲红", field="bill")
        if current.allocated != 0:
            raise ValidationFailed("该账单已有收款核销，请先冲红收款", field="bill")
        remaining = current.amount - current.adjusted
        if remaining <= 0:
            raise ValidationFailed("该账单已全部减免，没有可冲红的金额", field="bill")
        adjustment = BillAdjustment.objects.create(
            bill=current,
            kind=AdjustmentKind.REVERSAL,
            amount=remaining,
            effective_date=timezone.localdate(),
            reason=reason,
            approved_by=approved_by,
            created_by=_real(user),
        )
        audit_record(
            user=user,
            action="账单冲红",
            obj=current,
            project=current.project_id,
            changes={"amount": remaining, "reason": reason, "approved_by": approved_by.pk},
        )
    return adjustment


ADJUST_KINDS = {
    AdjustmentKind.DISCOUNT: "优惠",
    AdjustmentKind.WAIVER: "减免",
    AdjustmentKind.COMPENSATION: "补偿抵扣",
}


def bill_adjust(
    *,
    user: User | None,
    bill: Bill,
    kind: str,
    amount: Decimal | str,
    reason: str,
    approved_by: User,
    effective_date: datetime.date | None = None,
) -> BillAdjustment:
    """A discount, a one-off reduction (减免) or a compensation on one bill, at most what it still asks for."""
    if kind not in ADJUST_KINDS:
        raise ValidationFailed("类型须为优惠、减免或补偿抵扣；冲红请用“冲红”", field="kind")
    value = _amount(amount, label=f"{ADJUST_KINDS[kind]}金额")
    reason = require_reason(reason)
    check_approver(approved_by, bill.project_id, requested_by=_real(user), four_eyes=True)
    with transaction.atomic():
        current = _locked_bill(bill)
        if current.adjustments.filter(kind=AdjustmentKind.REVERSAL).exists():
            raise ValidationFailed("该账单已冲红，不能再调整", field="bill")
        if value > current.outstanding:
            raise ValidationFailed(
                f"{ADJUST_KINDS[kind]}金额 {value} 元超过该账单未缴金额 {current.outstanding} 元",
                field="amount",
            )
        adjustment = BillAdjustment.objects.create(
            bill=current,
            kind=kind,
            amount=value,
            effective_date=effective_date or timezone.localdate(),
            reason=reason,
            approved_by=approved_by,
            created_by=_real(user),
        )
        audit_record(
            user=user,
            action=f"账单{ADJUST_KINDS[kind]}",
            obj=current,
            project=current.project_id,
            changes={
                "kind": kind,
                "amount": value,
                "reason": reason,
                "approved_by": approved_by.pk,
            },
        )
    return adjustment


def account_compensate(
    *,
    user: User | None,
    account: Account,
    amount: Decimal | str,
    reason: str,
    approved_by: User,
    effective_date: datetime.date | None = None,
) -> list[BillAdjustment]:
    """A compensation the company grants a household (e.g. 1,000 yuan to settle a leak dispute), spread
    over its unpaid bills oldest first."""
    value = _amount(amount, label="补偿金额")
    reason = require_reason(reason)
    check_approver(approved_by, account.project_id, requested_by=_real(user), four_eyes=True)
    on = effective_date or timezone.localdate()
    with transaction.atomic():
        Account.objects.select_for_update().filter(pk=account.pk).first()
        bills = open_bills(account)
        owed = sum((b.outstanding for b in bills), ZERO)
        if value > owed:
            raise ValidationFailed(
                f"补偿金额 {value} 元超过该户未缴合计 {owed} 元；多出部分请在收银台作为预存款处理",
                field="amount",
            )
        left = value
        adjustments = []
        for bill in bills:
            if left <= 0:
                break
            share = min(left, bill.outstanding)
            adjustments.append(
                BillAdjustment.objects.create(
                    bill=bill,
                    kind=AdjustmentKind.COMPENSATION,
                    amount=share,
                    effective_date=on,
                    reason=reason,
                    approved_by=approved_by,
                    created_by=_real(user),
                )
            )
            left -= share
        audit_record(
            user=user,
            action="补偿抵扣",
            obj=account,
            project=account.project_id,
            changes={
                "amount": value,
                "reason": reason,
                "approved_by": approved_by.pk,
                "bills": [a.bill_id for a in adjustments],
            },
        )
    return adjustments


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


def billing_settings_update(
    *, user: User | None, project: Project, **changes: Any
) -> ProjectBillingSettings:
    allowed = {
        "auto_consume_prepaid",
        "max_prepay_months",
        "payment_instructions",
        "auto_billing",
        "auto_billing_day",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed(f"不能修改字段：{', '.join(sorted(unknown))}")
    with transaction.atomic():
        current, _ = ProjectBillingSettings.objects.select_for_update().get_or_create(
            project=project
        )
        before = snapshot(current)
        for key, value in changes.items():
            setattr(current, key, value)
        full_clean(current)
        current.save()
        audit_record(
            user=user,
            action="收费设置",
            obj=current,
            project=project,
            changes=diff(before, snapshot(current)),
        )
    return current


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


def pay_ahead_rule_for(fee_item: FeeItem, months: int, on: datetime.date) -> PayAheadRule | None:
    """The most generous rule a prepayment of ``months`` qualifies for on ``on``."""
    rules = PayAheadRule.objects.filter(
        fee_item=fee_item, min_months__lte=months, valid_from__lte=on
    ).exclude(valid_to__lt=on)
    return rules.order_by("-min_months", "-discount_rate", "-free_months", "-id").first()


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

    Refused beyond the project's prepayment cap (LAW.md §11: local rules may cap prepayment).
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
        created: list[Bill] = []
        for period in periods:
            plan = runs.plan_month(
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
            bills = runs.bill_objects(
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
