"""抄表录入与公摊 (meter readings and shared charges), one by one or a whole sheet at once."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from wuye.billing import calc
from wuye.billing.checks import (
    _decimal,
    _real,
    _same_project,
)
from wuye.billing.enums import (
    AdjustmentKind,
    BillKind,
    ChargeMethod,
)
from wuye.billing.models import (
    Bill,
    BillAdjustment,
    FeeItem,
    MeterReading,
    SharedCharge,
)
from wuye.billing.run_planning import _num
from wuye.billing.selectors import (
    last_reading,
)
from wuye.core.audit import audit_record, diff, snapshot
from wuye.core.errors import ValidationFailed, full_clean
from wuye.core.models import User
from wuye.core.money import money
from wuye.registry.enums import RoomUse
from wuye.registry.models import Building, Room

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
