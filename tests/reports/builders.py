"""Small hand-built ledgers for the report tests: accounts through the real services, bills written
directly (as the ledger tests do), payments, reversals, prepaid and adjustments through the services."""

from __future__ import annotations

import datetime
from decimal import Decimal

from tests.ledger import factories
from tests.ledger.factories import D, bill, fee_item, pay  # noqa: F401 (re-exported)
from wuye.billing import adjustments
from wuye.billing.calc import month_end
from wuye.billing.models import Account, Bill
from wuye.ledger.services.reversals import payment_reverse
from wuye.registry import services as registry
from wuye.registry.models import Building
from wuye.reports.sql import ReportScope, Window


def account(project, code: str, owner: str = "张三") -> Account:
    return factories.account(project, code, owner)


def developer_account(project, code: str) -> Account:
    room = registry.room_create(user=None, project=project, code=code, handed_over=False)
    dev = registry.person_create(
        user=None,
        project=project,
        name="某某房地产开发有限公司",
        kind="organisation",
        is_developer=True,
    )
    return Account.objects.create(project=project, room=room, payer=dev)


def late_fee_bill(of: Bill, amount: str, on: datetime.date) -> Bill:
    return Bill.objects.create(
        project_id=of.project_id,
        account_id=of.account_id,
        room_id=of.room_id,
        fee_item_id=of.fee_item_id,
        kind="late_fee",
        late_fee_for=of,
        period_start=on,
        period_end=on,
        amount=Decimal(amount),
        due_date=on,
    )


def month(year: int, m: int) -> Window:
    first = D(year, m, 1)
    return Window(first, month_end(first))


def reverse(payment, user, approver, on: datetime.date):
    return payment_reverse(
        user=user, payment=payment, reason="收错户", approved_by=approver, business_date=on
    )


def adjust(bill_, user, kind: str, amount: str, on: datetime.date):
    return adjustments.bill_adjust(
        user=None,  # entered by the system; ``user`` approves it (四眼原则: never both)
        bill=bill_,
        kind=kind,
        amount=amount,
        reason="测试调整",
        approved_by=user,
        effective_date=on,
    )


def building_of(acct: Account) -> Building:
    return acct.room.building


def scope(*projects, **kwargs) -> ReportScope:
    return ReportScope(project_ids=tuple(p.pk for p in projects), **kwargs)


def bill_on(acct, item, room_id, first, amount="100.00", due=None) -> Bill:
    """A principal bill of ``acct`` naming the room ``room_id`` (maybe not its account's: a room
    change, a shared payer)."""
    return Bill.objects.create(
        project_id=acct.project_id,
        account=acct,
        room_id=room_id,
        fee_item=item,
        period_start=first,
        period_end=month_end(first),
        amount=amount,
        due_date=due or first + datetime.timedelta(days=14),
    )
