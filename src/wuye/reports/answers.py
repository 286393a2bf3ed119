"""The answers of the reports: the rows a report returns (rates, aging, debtors, breakdowns, promises,
staff, households) and the labels of their groups, sorted as people read them (buildings naturally:
1栋 < 2栋 < 10栋)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from wuye.billing.models import FeeItem
from wuye.core.models import Project, User
from wuye.core.money import ZERO
from wuye.core.sorting import natural_key
from wuye.dunning.models import CollectionTeam
from wuye.registry.models import Building
from wuye.reports.sql import _fen_to_money, _rate

FIGURES = ("current_unpaid", "recovery_unpaid", "not_clear", "aging", "class", "reason", "top")
NO_REASON = ""
NO_REASON_LABEL = "未说明拒缴理由"
NO_CLASS_LABEL = "未分类"


# --- the answers -----------------------------------------------------------------------------------


@dataclass
class RateRow:
    key: int | None
    label: str
    current_billed: Decimal = ZERO
    current_received: Decimal = ZERO
    current_rate: Decimal | None = None
    opening_arrears: Decimal = ZERO
    recovered: Decimal = ZERO
    recovery_rate: Decimal | None = None
    overall_rate: Decimal | None = None
    households_billed: int = 0
    households_clear: int = 0  # nothing overdue on the window's bills (GLOSSARY: 户数收缴率)
    household_rate: Decimal | None = None
    late_fee_billed: Decimal = ZERO
    late_fee_received: Decimal = ZERO
    # Owe nothing at all on the window's bills, due or not (None: not computed, e.g. the trend).
    households_paid: int | None = None

    def figures(self) -> tuple:
        """Every number of the row (for comparing two computations)."""
        return (
            self.current_billed,
            self.current_received,
            self.opening_arrears,
            self.recovered,
            self.households_billed,
            self.households_clear,
            self.households_paid,
            self.late_fee_billed,
            self.late_fee_received,
        )

    @property
    def paid_rate(self) -> Decimal | None:
        if self.households_paid is None:
            return None
        return _rate(self.households_paid, self.households_billed)

    @property
    def household_not_due(self) -> bool:
        """Nobody is behind only because nothing owed is due yet: the household rate would read
        100% early in a month, so the pages show 未到期 and the share that has paid everything."""
        return (
            self.households_paid is not None
            and self.households_billed > 0
            and self.households_clear == self.households_billed
            and self.households_paid < self.households_billed
        )

    @property
    def window_open(self) -> bool:
        """Some households with nothing overdue still owe bills not yet due: both figures differ and
        are shown side by side."""
        return (
            self.households_paid is not None
            and self.households_paid < self.households_clear
            and not self.household_not_due
        )


@dataclass
class AgingRow:
    key: int | None
    label: str
    developer: bool | None
    buckets: list[Decimal] = field(default_factory=lambda: [ZERO] * 6)
    counts: list[int] = field(default_factory=lambda: [0] * 6)  # accounts with money in the bucket
    total: Decimal = ZERO
    accounts: int = 0  # accounts with any overdue money (one account may sit in several buckets)


@dataclass
class DebtorRow:
    account_id: int
    room_id: int
    room_code: str
    payer_id: int
    payer_name: str  # the view masks it per role
    project_id: int
    project_name: str
    building_name: str
    developer: bool
    outstanding: Decimal
    oldest_due_date: datetime.date | None
    late_fee_outstanding: Decimal
    case_id: int | None = None
    case_class: str = ""
    case_class_label: str = ""
    stage: str = ""
    stage_label: str = ""


@dataclass
class BreakdownRow:
    key: str  # case class letter or refusal reason code; "" for none
    label: str
    cases: int
    amount: Decimal  # overdue principal of those cases' accounts as of the report date


@dataclass
class PromiseRow:
    key: int
    label: str
    promises: int
    kept: int
    rate: Decimal | None


@dataclass
class StaffRow:
    key: int | None
    label: str
    current_billed: Decimal
    current_received: Decimal
    recovered: Decimal
    received: Decimal  # current_received + recovered
    current_rate: Decimal | None
    contacts: int
    promises: int
    promises_kept: int
    promise_rate: Decimal | None


@dataclass
class AccountRow:
    """One household behind a figure (for click-through)."""

    account_id: int
    room_id: int
    room_code: str
    payer_id: int
    payer_name: str
    project_id: int
    project_name: str
    building_name: str
    developer: bool
    amount: Decimal
    oldest_due_date: datetime.date | None
    bills: int
    case_id: int | None = None
    case_class: str = ""
    stage: str = ""


# --- labels ----------------------------------------------------------------------------------------


def group_labels(group_by: str, keys: Iterable[int | None]) -> dict[int | None, str]:
    keys = [k for k in keys if k]
    if group_by == "company":
        return {None: "全公司"}
    if group_by == "project":
        return dict(Project.objects.filter(pk__in=keys).values_list("pk", "name"))
    if group_by == "building":
        return {
            pk: f"{project} {name}"
            for pk, project, name in Building.objects.filter(pk__in=keys).values_list(
                "pk", "project__name", "name"
            )
        }
    if group_by == "steward":
        labels = {
            pk: display or username
            for pk, display, username in User.objects.filter(pk__in=keys).values_list(
                "pk", "display_name", "username"
            )
        }
        labels[None] = "（未指定楼管）"
        return labels
    if group_by == "team":
        return dict(CollectionTeam.objects.filter(pk__in=keys).values_list("pk", "name"))
    if group_by == "fee_item":
        rows = list(FeeItem.objects.filter(pk__in=keys).values_list("pk", "name", "project__name"))
        several = len({r[2] for r in rows}) > 1
        return {pk: f"{name}（{project}）" if several else name for pk, name, project in rows}
    raise ValueError(f"unknown group {group_by!r}")


def _key(group_by: str, value: Any) -> int | None:
    if group_by == "company" or not value:
        return None
    return int(value)


def _sorted(rows: list, group_by: str) -> list:
    if group_by == "company":
        return rows
    return sorted(rows, key=lambda r: (r.key is None, natural_key(r.label), r.label, r.key or 0))


def rate_row(key: int | None, label: str, sums: dict[str, Any] | None) -> RateRow:
    """A RateRow from sums in fen (``cb`` current billed, ``cr`` current received, ``oa`` opening
    arrears, ``rec`` recovered, ``lb``/``lr`` late fees, ``n``/``clear`` households)."""
    s = sums or {}
    row = RateRow(
        key=key,
        label=label,
        current_billed=_fen_to_money(s.get("cb")),
        current_received=_fen_to_money(s.get("cr")),
        opening_arrears=_fen_to_money(s.get("oa")),
        recovered=_fen_to_money(s.get("rec")),
        households_billed=int(s.get("n") or 0),
        households_clear=int(s.get("clear") or 0),
        late_fee_billed=_fen_to_money(s.get("lb")),
        late_fee_received=_fen_to_money(s.get("lr")),
    )
    row.current_rate = _rate(row.current_received, row.current_billed)
    row.recovery_rate = _rate(row.recovered, row.opening_arrears)
    row.overall_rate = _rate(
        row.current_received + row.recovered, row.current_billed + row.opening_arrears
    )
    row.household_rate = _rate(row.households_clear, row.households_billed)
    if row.households_billed and s.get("paid") is not None:
        row.households_paid = int(s["paid"])
    return row


def _user_labels(ids: Iterable[int | None]) -> dict[int | None, str]:
    return group_labels("steward", ids)


def sum_rows(rows: Sequence[RateRow]) -> dict[str, Decimal]:
    """Money totals of rate rows (households are not additive across groups)."""
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for r in rows:
        for name in ("current_billed", "current_received", "opening_arrears", "recovered"):
            totals[name] += getattr(r, name)
    return dict(totals)
