"""The payer account (缴费账户) of a room and fee item: found, or opened on the first bill or payment."""

from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from wuye.billing.models import (
    Account,
)
from wuye.core.audit import audit_record
from wuye.core.errors import ValidationFailed
from wuye.core.models import User
from wuye.registry.models import Room
from wuye.registry.selectors import room_payer

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
