"""Dunning test data: households and bills through the ledger factories, cases through the real run."""

from __future__ import annotations

import datetime

from django.utils import timezone

from tests.factories import household
from tests.ledger.factories import bill, fee_item, pay  # noqa: F401  (re-exported for the tests)
from wuye.billing import accounts
from wuye.billing.models import Account
from wuye.dunning.daily_run import dunning_run
from wuye.dunning.models import ArrearsCase
from wuye.registry import services as registry

D = datetime.date


def today() -> datetime.date:
    return timezone.localdate()


def debtor(
    project, code: str, *, steward=None, owner: str = "张三", phones=("13812345678",)
) -> Account:
    room, _ = household(project, code=code, owner=owner, phones=phones)
    if steward is not None:
        registry.building_assign_steward(user=None, building=room.building, steward=steward)
    return accounts.account_for(room, D(2024, 1, 1))


def run(project, on: datetime.date | None = None, **kwargs):
    return dunning_run(project=project, on=on or today(), **kwargs)


def case_of(account: Account) -> ArrearsCase | None:
    return ArrearsCase.objects.filter(account=account).order_by("-id").first()


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))
