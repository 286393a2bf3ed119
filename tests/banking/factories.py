"""Banking test data: households through the registry and billing services, statement lines as the
parsers hand them over."""

from __future__ import annotations

import datetime
import itertools
from decimal import Decimal

from tests.ledger.factories import account, bill, fee_item, monthly_bills, pay  # noqa: F401
from wuye.banking.enums import Direction
from wuye.banking.lines import ParsedLine
from wuye.banking.models import BankAccount
from wuye.registry import services as registry

D = datetime.date
_rows = itertools.count(1)


def bank(project, number: str = "6222020200112233445") -> BankAccount:
    return BankAccount.objects.create(project=project, number=number, bank="工商银行")


def line(
    amount,
    *,
    name: str = "",
    card: str = "",
    remark: str = "",
    summary: str = "转账",
    day: datetime.date | None = None,
    serial: str | None = None,
    direction: str = Direction.IN,
) -> ParsedLine:
    n = next(_rows)
    return ParsedLine(
        row_no=n,
        direction=direction,
        txn_date=day or datetime.date.today() - datetime.timedelta(days=1),
        amount=Decimal(str(amount)),
        serial=f"SN{n:08d}" if serial is None else serial,
        counterparty_name=name,
        counterparty_account=card,
        summary=summary,
        remark=remark,
    )


def add_occupant(household, name: str, role: str):
    person = registry.person_create(user=None, project=household.room.project, name=name)
    registry.occupancy_create(
        user=None, room=household.room, person=person, role=role, start_date=D(2020, 1, 1)
    )
    return person


def second_room(project, owner_account, code: str):
    """Another room of the same owner (one payer, several rooms)."""
    from wuye.billing import accounts

    room = registry.room_create(user=None, project=project, code=code, gross_area=Decimal("80"))
    registry.occupancy_create(
        user=None,
        room=room,
        person=owner_account.payer,
        role="owner",
        is_payer=True,
        start_date=D(2020, 1, 1),
    )
    return accounts.account_for(room, D(2024, 1, 1))
