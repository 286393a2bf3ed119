"""收费项目、收费标准与收费设置 (fee items, fee standards, a project's billing settings).

A standard is never edited once bills used it: a new standard starts where the old one ends.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.db import transaction

from wuye.billing import calc
from wuye.billing.checks import (
    _decimal,
)
from wuye.billing.enums import (
    AreaBasis,
    ChargeMethod,
    Cycle,
    NotHandedOverPolicy,
    VacancyPolicy,
)
from wuye.billing.models import (
    FeeItem,
    FeeStandard,
    ProjectBillingSettings,
)
from wuye.billing.run_planning import _num
from wuye.core.audit import audit_record, diff, snapshot
from wuye.core.errors import ValidationFailed, fields_allowed, full_clean
from wuye.core.models import Project, User
from wuye.registry.enums import RoomUse

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
    fields_allowed(changes, FEE_ITEM_FIELDS)
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
    fields_allowed(changes, allowed)
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
