"""Reads of billing: fee items, runs, what a bill still asks for, late-fee terms and figures, readings.

A bill's balance is a sum, never a stored field: amount − adjustments (reversal, discount, waiver,
compensation) − net allocations (the ledger's 核销, negative when a payment is reversed).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import (
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils.module_loading import import_string

from wuye.billing.enums import AdjustmentKind, BillKind
from wuye.billing.models import (
    Account,
    Bill,
    BillAdjustment,
    BillingRun,
    FeeItem,
    FeeStandard,
    LprRate,
    MeterReading,
    ProjectBillingSettings,
)
from wuye.core.models import Project
from wuye.core.money import ZERO
from wuye.registry.models import Building, Room

# The one-year LPR in force since May 2025 (3.00%), used only while a company has not entered its own
# figure under 一年期LPR; the cap of LAW.md §6 needs some LPR, and a missing one must not lift the cap.
DEFAULT_LPR = Decimal("0.0300")
DEFAULT_CAP_MULTIPLIER = Decimal("1.5")
DEFAULT_MAX_PREPAY_MONTHS = 12

_MONEY_FIELD = DecimalField(max_digits=14, decimal_places=2)


# --- fee items and runs --------------------------------------------------------------------------


def fee_items_for(project: Project | int, *, active_only: bool = False) -> QuerySet[FeeItem]:
    """A project's fee items with their standards (two queries)."""
    items = FeeItem.objects.filter(project=project).prefetch_related(
        Prefetch("standards", queryset=FeeStandard.objects.order_by("room_use", "valid_from"))
    )
    return items.filter(is_active=True) if active_only else items


def runs_for(project: Project | int) -> QuerySet[BillingRun]:
    return BillingRun.objects.filter(project=project).select_related("created_by", "reversed_by")


def run_in_project(project: Project | int, run_id: int) -> BillingRun | None:
    return runs_for(project).filter(pk=run_id).first()


def billing_settings(project: Project | int) -> ProjectBillingSettings:
    """The project's billing switches, or the defaults when none were saved."""
    project_id = project.pk if isinstance(project, Project) else project
    found = ProjectBillingSettings.objects.filter(project_id=project_id).first()
    return found or ProjectBillingSettings(
        project_id=project_id, max_prepay_months=DEFAULT_MAX_PREPAY_MONTHS
    )


def latest_revision(project: Project | int, period_start: datetime.date) -> BillingRun | None:
    return (
        BillingRun.objects.filter(project=project, period_start=period_start)
        .order_by("-revision")
        .first()
    )


def revision_for(project: Project | int, period_start: datetime.date) -> int:
    """The bill revision new charges of a month get: the latest run's, or the next one after a
    reversal (0 for a month never billed)."""
    run = latest_revision(project, period_start)
    if run is None:
        return 0
    return run.revision + 1 if run.status == "reversed" else run.revision


# --- balances ------------------------------------------------------------------------------------


def _sum_of(model, field: str = "amount", **filters) -> Coalesce:
    rows = (
        model.objects.filter(bill=OuterRef("pk"), **filters)
        .order_by()
        .values("bill")
        .annotate(total=Sum(field))
        .values("total")
    )
    return Coalesce(
        Subquery(rows, output_field=_MONEY_FIELD), Value(ZERO), output_field=_MONEY_FIELD
    )


def with_balance(bills: QuerySet[Bill]) -> QuerySet[Bill]:
    """Annotates ``adjusted`` (all adjustments), ``allocated`` (net allocations) and ``outstanding``."""
    from django.apps import apps

    allocation = apps.get_model("ledger", "Allocation")
    return bills.annotate(
        adjusted=_sum_of(BillAdjustment),
        allocated=_sum_of(allocation),
    ).annotate(
        outstanding=ExpressionWrapper(
            F("amount") - F("adjusted") - F("allocated"), output_field=_MONEY_FIELD
        )
    )


def not_reversed(bills: QuerySet[Bill]) -> QuerySet[Bill]:
    reversal = BillAdjustment.objects.filter(bill=OuterRef("pk"), kind=AdjustmentKind.REVERSAL)
    return bills.filter(~Exists(reversal))


def billed_periods(account: Account | int, fee_item: FeeItem | int) -> set[datetime.date]:
    """Period starts an account already has a live (not reversed) charge for, for one fee item."""
    return set(
        not_reversed(
            Bill.objects.filter(account=account, fee_item=fee_item, kind=BillKind.CHARGE)
        ).values_list("period_start", flat=True)
    )


def bill_balance(bill: Bill) -> Bill:
    """The bill again, annotated with ``adjusted``, ``allocated`` and ``outstanding``."""
    return with_balance(Bill.objects.filter(pk=bill.pk)).get()


def open_bills(account: Account, *, kind: str | None = BillKind.CHARGE) -> list[Bill]:
    """An account's bills that still ask for money, oldest first (by due date, then id)."""
    bills = with_balance(Bill.objects.filter(account=account)).filter(outstanding__gt=0)
    if kind:
        bills = bills.filter(kind=kind)
    return list(bills.select_related("fee_item", "room").order_by("due_date", "period_start", "id"))


# --- late fees (LAW.md §6) -----------------------------------------------------------------------


def accounts_of_room(room: Room | int) -> list[Account]:
    """Every payer account of a room (the developer before handover, then owners or paying tenants),
    newest first."""
    return list(
        Account.objects.filter(room=room)
        .select_related("payer", "room")
        .order_by("-created_at", "-id")
    )


def late_fees_due(
    project: Project, bills: Sequence[Bill], as_of: datetime.date, **kwargs: Any
) -> dict[int, Any]:
    """The late fee of each bill as of ``as_of`` (``LateFeeDue`` by bill id): the one computation,
    the ledger's (``wuye.ledger.selectors.late_fees``: terms, day count, cap, the allocations), which
    billing sits below, so it asks through the ``WUYE_LATE_FEES`` setting (a dotted path, as the
    hooks of docs/decisions/0005); one call, nothing comes back down (docs/decisions/0011)."""
    return import_string(settings.WUYE_LATE_FEES)(project, bills, as_of, **kwargs)


def lpr_on(company_id: int, on: datetime.date) -> Decimal:
    rate = (
        LprRate.objects.filter(company_id=company_id, effective_from__lte=on)
        .order_by("-effective_from")
        .values_list("annual_rate", flat=True)
        .first()
    )
    return rate if rate is not None else DEFAULT_LPR


# --- meter readings ------------------------------------------------------------------------------


def last_reading(
    room: Room | int, fee_item: FeeItem | int, before: datetime.date
) -> MeterReading | None:
    return (
        MeterReading.objects.filter(room=room, fee_item=fee_item, period_start__lt=before)
        .order_by("-period_start")
        .first()
    )


@dataclass
class ReadingRow:
    room_id: int
    code: str
    previous: Decimal | None  # the last reading's current figure (or this period's previous)
    reading: MeterReading | None  # already recorded for the period


def reading_sheet(
    building: Building, fee_item: FeeItem, period_start: datetime.date
) -> list[ReadingRow]:
    """One row per room of a building the item applies to: the last figure and this period's reading
    (three queries whatever the size of the building)."""
    rooms = list(
        Room.objects.filter(building=building)
        .order_by("unit__code", "floor", "number")
        .values_list("id", "code", "use")
    )
    rooms = [(rid, code) for rid, code, use in rooms if not fee_item.uses or use in fee_item.uses]
    ids = [rid for rid, _ in rooms]
    current = {
        r.room_id: r
        for r in MeterReading.objects.filter(
            room_id__in=ids, fee_item=fee_item, period_start=period_start
        )
    }
    last: dict[int, Decimal] = {}
    for room_id, figure in (
        MeterReading.objects.filter(
            room_id__in=ids, fee_item=fee_item, period_start__lt=period_start
        )
        .order_by("room_id", "-period_start")
        .values_list("room_id", "current")
    ):
        last.setdefault(room_id, figure)
    return [
        ReadingRow(
            room_id=rid,
            code=code,
            previous=current[rid].previous if rid in current else last.get(rid),
            reading=current.get(rid),
        )
        for rid, code in rooms
    ]
