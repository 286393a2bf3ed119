"""Reads of the owner page: only ever the one account of the link (LAW.md §2)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone

from wuye.billing.calc import cycle_months
from wuye.billing.enums import BillKind
from wuye.billing.models import Account, PayAheadRule
from wuye.billing.selectors import billing_settings
from wuye.core.errors import ValidationFailed
from wuye.core.masking import mask_name
from wuye.core.money import ZERO, money
from wuye.ledger.models import Payment
from wuye.ledger.selectors.payments import payments_of_account
from wuye.ledger.selectors.prepaid import prepaid_balance
from wuye.ledger.selectors.receipts import period_text
from wuye.ledger.selectors.window import unpaid_bills
from wuye.owner.models import OwnerCode, OwnerInvoiceRequest, OwnerLink
from wuye.payments.ahead import ahead_items
from wuye.registry.enums import DEAD_PHONE_MARKS
from wuye.registry.models import Phone, ServiceTicket

OWNER_TICKET_PREFIX = "业主自助："  # the subject of a ticket an owner opened on the owner page


def owner_tickets_since(account: Account, since: datetime.datetime) -> int:
    """Tickets opened from the owner page on the account's room since ``since``."""
    return ServiceTicket.objects.filter(
        room_id=account.room_id, subject__startswith=OWNER_TICKET_PREFIX, opened_at__gt=since
    ).count()


def wrong_code_tries_since(account: Account, since: datetime.datetime) -> int:
    """Wrong SMS code tries of the household on codes sent since ``since`` (a used code's last try
    was the right one)."""
    codes = OwnerCode.objects.filter(link__account_id=account.pk, created_at__gt=since)
    found = codes.aggregate(tries=Sum("tries"), used=Count("id", filter=Q(used_at__isnull=False)))
    return (found["tries"] or 0) - (found["used"] or 0)


def phones_on_file(account: Account) -> list[Phone]:
    """The payer's working phone numbers: where a code may be sent."""
    return [
        p
        for p in account.payer.phones.order_by("-is_primary", "id")
        if p.validity not in DEAD_PHONE_MARKS
    ]


@dataclass
class BillLine:
    id: int
    item: str
    period: str
    month: str  # YYYY-MM of the period's start: what "pay up to" chooses
    due_date: datetime.date
    outstanding: Decimal
    late_fee: Decimal  # the capped figure still due (LAW.md §6), what the window would charge
    total: Decimal


@dataclass
class OwnerPage:
    room_code: str
    payer_masked: str
    project: str
    service_phone: str
    owed: Decimal  # Σ outstanding + Σ capped late fees due
    bills: list[BillLine] = field(default_factory=list)
    months: list[str] = field(default_factory=list)
    prepaid_balance: Decimal = ZERO
    max_prepay_months: int = 0
    pay_ahead_rules: list[str] = field(default_factory=list)
    # 预交 online: (months, label) the owner may choose; empty = no pay-ahead rule applies here
    ahead_choices: list[tuple[int, str]] = field(default_factory=list)


def _lines(account: Account, on: datetime.date) -> list[BillLine]:
    lines = []
    for bill in unpaid_bills(account, on):
        late = bill.late_fee.due
        item = bill.fee_item.name + ("滞纳金" if bill.kind == BillKind.LATE_FEE else "")
        lines.append(
            BillLine(
                id=bill.pk,
                item=item,
                period=period_text(bill),
                month=f"{bill.period_start:%Y-%m}",
                due_date=bill.due_date,
                outstanding=bill.outstanding,
                late_fee=late,
                total=money(bill.outstanding + late),
            )
        )
    return lines


def owner_page(link: OwnerLink, *, verified: bool, on: datetime.date | None = None) -> OwnerPage:
    """What the page shows: unverified only the room, the masked payer and the total owed."""
    on = on or timezone.localdate()
    account = link.account
    lines = _lines(account, on)
    page = OwnerPage(
        room_code=account.room.code,
        payer_masked=mask_name(account.payer.name),
        project=link.project.name,
        service_phone=link.project.service_phone,
        owed=sum((line.total for line in lines), ZERO),
    )
    if not verified:
        return page
    page.bills = lines
    page.months = sorted({line.month for line in lines})
    page.prepaid_balance = prepaid_balance(account, on)
    page.max_prepay_months = billing_settings(link.project_id).max_prepay_months
    rules = (
        PayAheadRule.objects.filter(project_id=link.project_id, valid_from__lte=on)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))
        .select_related("fee_item")
        .order_by("min_months")
    )
    rules = list(rules)
    for rule in rules:
        page.pay_ahead_rules.append(
            f"{rule.fee_item.name}预交满 {rule.min_months} 个月{_offer(rule)}"
        )
    page.ahead_choices = _ahead_choices(account, rules, page.max_prepay_months, on)
    return page


def _offer(rule: PayAheadRule) -> str:
    gift = f"，赠送 {rule.free_months} 个月" if rule.free_months else ""
    off = f"，优惠 {rule.discount_rate * 100:.0f}%" if rule.discount_rate else ""
    return f"{off}{gift}"


def _ahead_choices(
    account: Account, rules: list[PayAheadRule], cap: int, on: datetime.date
) -> list[tuple[int, str]]:
    """Months an owner may prepay online (multiples of the longest billing cycle of the fee items
    with a rule, up to the cap), each labelled with the best offer it reaches. The amount itself is
    computed by the server when the order is made (``payments.ahead``)."""
    if not rules:
        return []
    items = {i.pk: i for i in ahead_items(account, on)}
    rules = [r for r in rules if r.fee_item_id in items]
    if not rules:
        return []
    step = max(cycle_months(i.cycle) for i in items.values())
    choices = []
    for months in range(step, cap + 1, step):
        best = [r for r in rules if r.min_months <= months]
        best.sort(key=lambda r: (r.min_months, r.discount_rate, r.free_months, r.pk))
        label = f"{months} 个月" + (f"（{best[-1].name}{_offer(best[-1])}）" if best else "")
        choices.append((months, label))
    return choices


def chosen_bill_ids(
    link: OwnerLink, *, up_to: str = "", bill_ids: list[int] | None = None
) -> list[int]:
    """The bills an owner's choice pays: all (nothing chosen), the oldest up to the month ``up_to``
    (YYYY-MM), or the ``bill_ids`` chosen (``wuye.payments`` refuses a skipped older bill unless
    the project allows it). Never a bill of another account: ids not among the household's unpaid
    bills are refused."""
    lines = _lines(link.account, timezone.localdate())
    ids = [line.id for line in lines]
    if bill_ids:
        unknown = set(bill_ids) - set(ids)
        if unknown:
            raise ValidationFailed("所选账单不是本户的未缴账单，请刷新页面后重试", field="bill_ids")
        return [i for i in ids if i in set(bill_ids)]
    if up_to:
        chosen = [line.id for line in lines if line.month <= up_to]
        if not chosen:
            raise ValidationFailed("请选择要缴到的月份", field="up_to")
        # Late-fee bills of earlier months sort by their issue date; keep the oldest-first prefix.
        return [i for i in ids if i in set(chosen)]
    return ids


def payments_of(link: OwnerLink, limit: int = 50) -> list[Payment]:
    return payments_of_account(link.account, limit)


def payment_of(link: OwnerLink, payment_id: int) -> Payment | None:
    """One payment of the link's household, or ``None`` (another household's id finds nothing)."""
    return Payment.objects.filter(pk=payment_id, account_id=link.account_id).first()


def invoice_requests(project_ids: list[int], status: str = ""):
    rows = OwnerInvoiceRequest.objects.filter(project_id__in=project_ids).select_related(
        "payment__account__room", "issued_by"
    )
    return rows.filter(status=status) if status else rows
