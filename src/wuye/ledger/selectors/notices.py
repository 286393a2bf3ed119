"""缴费通知单 (docs/user/缴费通知单.md): one notice per household that owes money in a building."""

from __future__ import annotations

import datetime
from collections import defaultdict
from typing import TYPE_CHECKING

from wuye.billing.enums import BillKind
from wuye.billing.models import Account, Bill
from wuye.billing.selectors import billing_settings
from wuye.core import hooks
from wuye.core.models import Project
from wuye.core.money import ZERO, money
from wuye.core.sorting import natural_sort_key

if TYPE_CHECKING:
    from wuye.ledger.pdf import NoticeData
from wuye.ledger.selectors.late_fees import late_fees_for
from wuye.ledger.selectors.outstanding import bill_outstanding, today
from wuye.ledger.selectors.receipts import period_text


def notices_for(
    project: Project,
    *,
    building_id: int,
    unit_id: int | None = None,
    as_of: datetime.date | None = None,
    period_to: datetime.date | None = None,
) -> list[NoticeData]:
    """缴费通知单 of a building (or one of its units): one ``NoticeData`` per payer account that owes
    money on ``as_of`` (default today), with each unpaid bill (late-fee bills included), the capped
    late fee still to be charged, the total, and the project's payment instructions. Only bills whose
    period starts on or before ``period_to`` count, when given. Each notice carries only its own
    account's bills (LAW.md §2). A fixed number of queries (ten with a late-fee rule) for any size.
    """
    from wuye.ledger.pdf import NoticeData, NoticeLine

    on = as_of or today()
    rows = Bill.objects.filter(project=project, room__building_id=building_id)
    if unit_id:
        rows = rows.filter(room__unit_id=unit_id)
    if period_to is not None:
        rows = rows.filter(period_start__lte=period_to)
    bills = list(
        bill_outstanding(rows, on)
        .filter(outstanding__gt=0)
        .prefetch_related("fee_item")  # one FeeItem per item, not one per bill
        .order_by("account_id", "due_date", "period_start", "id")
    )
    if not bills:
        return []
    fees = late_fees_for(project, bills, on)
    accounts = {
        a.pk: a
        for a in Account.objects.filter(pk__in={b.account_id for b in bills}).select_related(
            "payer", "room__unit"
        )
    }
    company = project.company.name
    instructions = billing_settings(project).payment_instructions
    # How to pay by bank transfer, from the app that keeps the receiving accounts (banking, above).
    bank_details = "".join(hooks.call_each("WUYE_NOTICE_BANK_DETAILS", project=project))
    # Each household's own page (an app above the ledger signs the link): WUYE_NOTICE_PAY_LINK hooks
    # answer {account_id: url} for accounts=, printed as a QR code below the fold.
    pay_links: dict[int, str] = {}
    for answer in hooks.call_each("WUYE_NOTICE_PAY_LINK", accounts=list(accounts.values())):
        pay_links.update(answer)
    by_account: dict[int, list[Bill]] = defaultdict(list)
    for bill in bills:
        by_account[bill.account_id].append(bill)
    notices = []
    for account_id, own in by_account.items():
        account = accounts[account_id]
        lines = [
            NoticeLine(
                item=bill.fee_item.name + ("滞纳金" if bill.kind == BillKind.LATE_FEE else ""),
                period=period_text(bill),
                due_date=bill.due_date,
                amount=money(bill.outstanding),
            )
            for bill in own
        ]
        notices.append(
            NoticeData(
                company=company,
                project=project.name,
                room_code=account.room.code,
                payer=account.payer.name,
                issued_on=on,
                lines=lines,
                total=sum((line.amount for line in lines), ZERO),
                late_fee=sum((fees[b.pk].due for b in own if b.pk in fees), ZERO),
                payment_instructions=instructions,
                service_phone=project.service_phone,
                bank_details=bank_details.replace("{room}", account.room.code),
                pay_link=pay_links.get(account_id, ""),
            )
        )
    # Walking order of whoever delivers them: by room code, naturally (2-1-902 before 2-1-1001).
    notices.sort(key=lambda n: natural_sort_key(n.room_code))
    return notices
