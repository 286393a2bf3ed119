"""Billing runs (计费批次): plan a month's bills for a project, preview them, commit them in chunks, reverse.

One planner (``plan_month``) serves the preview, the commit and pay-ahead, so they cannot disagree. It
reads everything it needs in a fixed number of queries (rooms, payers, parking, readings, shared
charges, standards) and computes in Python; the commit writes with bulk inserts in chunks of rooms, each
chunk in its own transaction.

Idempotent: a bill's key is (account, fee item, period start, revision), held by a unique constraint.
The commit skips keys that already exist — from an earlier attempt that crashed half-way, or from a
pay-ahead that billed the month early — so a rerun fills only the gaps. A reversed run leaves its
bills in place with a reversal entry each; the month's next run uses the next revision.
"""

from __future__ import annotations

import datetime
import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from operator import attrgetter

from django.conf import settings
from django.db import connection, transaction
from django.db.models import CharField, Exists, F, OuterRef, Q, Sum
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.module_loading import import_string

from wuye.billing import calc
from wuye.billing.checks import check_approver, require_reason
from wuye.billing.enums import (
    AdjustmentKind,
    AreaBasis,
    BillKind,
    ChargeMethod,
    RunStatus,
)
from wuye.billing.models import (
    Account,
    Bill,
    BillAdjustment,
    BillingRun,
    FeeItem,
    FeeStandard,
    MeterReading,
    SharedCharge,
)
from wuye.billing.selectors import latest_revision, with_balance
from wuye.core.audit import audit_record
from wuye.core.errors import ValidationFailed
from wuye.core.models import Project, User
from wuye.core.money import ZERO
from wuye.registry.enums import OccupancyState
from wuye.registry.models import Building, Occupancy, ParkingSpace, Person, Room

logger = logging.getLogger(__name__)

# Rooms per committed chunk: each chunk is one transaction, and progress moves once per chunk.
CHUNK_ROOMS = 2000
# Rows per bulk_create statement (new accounts, reversal entries).
INSERT_BATCH = 1000
# Exceptions kept in a preview (all are counted; the first ones are listed).
PREVIEW_EXCEPTIONS = 500

EXCEPTION_LABELS = {
    "no_area": "未登记面积",
    "no_standard": "无适用的收费标准",
    "no_payer": "无缴费人",
    "no_developer": "未登记开发建设单位",
    "no_reading": "缺少抄表读数",
    "no_shared_charge": "未登记公摊总额",
    "shared_no_area": "无可分摊面积",
}
SKIP_LABELS = {
    "exempt": "按政策免收",
    "zero": "金额为 0",
    "existing": "已出账（跳过）",
}


# --- what the planner reads ----------------------------------------------------------------------


@dataclass(slots=True)
class RoomFacts:
    id: int
    code: str
    building_id: int
    use: str
    gross_area: Decimal | None
    inner_area: Decimal | None
    handed_over: bool
    handover_date: datetime.date | None
    occupancy_state: str

    def area(self, basis: str) -> Decimal | None:
        return self.inner_area if basis == AreaBasis.INNER else self.gross_area


class PayerBook:
    """Who pays for each room on a day, for many rooms at once; the same rule as
    ``registry.selectors.room_payer`` (developer before handover, then the occupancy marked as payer,
    else the owner — the first by role, then id).

    The payers on the run's first day come from one query that does the date test in SQL; a room whose
    buyer's part starts later (a handover inside the period) is looked up with its dated rows.
    """

    def __init__(self, project_id: int, developer_id: int | None, base_day: datetime.date):
        self.project_id = project_id
        self.developer_id = developer_id
        self.base_day = base_day
        self.base: dict[int, int] = {}
        self.dated: dict[int, list[tuple]] = {}
        self.changed: set[int] | None = None  # rooms whose payer may differ after ``base_day``

    def load_base(self, room_ids: Sequence[int] | None) -> None:
        self.base = _payers_on(self.project_id, room_ids, self.base_day)

    def _load_changed(self) -> None:
        """The dated rows of every room with an occupancy that starts after ``base_day`` or ends on
        or after it, in one query: only these rooms can have another payer later in the period.
        (One query per such room cost a 100,000-room run several seconds: issue 16 item 5.)"""
        changing = (
            Occupancy.objects.filter(room__project_id=self.project_id)
            .filter(Q(start_date__gt=self.base_day) | Q(end_date__gte=self.base_day))
            .values("room_id")
        )
        self.changed = set()
        for room_id, *row in (
            Occupancy.objects.filter(room_id__in=changing)
            .filter(Q(is_payer=True) | Q(role="owner"))
            .order_by("room_id", "role", "id")
            .values_list("room_id", "person_id", "role", "is_payer", "start_date", "end_date")
            .iterator(chunk_size=20_000)
        ):
            self.changed.add(room_id)
            self.dated.setdefault(room_id, []).append(tuple(row))

    def occupant(self, room_id: int, day: datetime.date) -> int | None:
        if day == self.base_day:
            return self.base.get(room_id)
        if day > self.base_day:
            if self.changed is None:
                self._load_changed()
            if room_id not in self.changed:
                return self.base.get(room_id)
        rows = self.dated.get(room_id)
        if rows is None:
            rows = self.dated[room_id] = list(
                Occupancy.objects.filter(room_id=room_id)
                .filter(Q(is_payer=True) | Q(role="owner"))
                .order_by("role", "id")
                .values_list("person_id", "role", "is_payer", "start_date", "end_date")
            )
        owner = None
        for person_id, role, is_payer, start, end in rows:
            if (start is not None and start > day) or (end is not None and end < day):
                continue
            if is_payer:
                return person_id
            if owner is None and role == "owner":
                owner = person_id
        return owner


def _payers_on(
    project_id: int, room_ids: Sequence[int] | None, day: datetime.date
) -> dict[int, int]:
    """room id → the person who pays on ``day`` (occupancies only; the developer is decided apart)."""
    occupancies = Occupancy.objects.filter(
        Q(start_date__isnull=True) | Q(start_date__lte=day),
        Q(end_date__isnull=True) | Q(end_date__gte=day),
        Q(is_payer=True) | Q(role="owner"),
        room__project_id=project_id,
    )
    if room_ids is not None:
        occupancies = occupancies.filter(room_id__in=room_ids)
    payer: dict[int, int] = {}
    owner: dict[int, int] = {}
    for room_id, person_id, role, is_payer in (
        occupancies.order_by("room_id", "role", "id")
        .values_list("room_id", "person_id", "role", "is_payer")
        .iterator(chunk_size=20_000)
    ):
        if is_payer:
            payer.setdefault(room_id, person_id)
        elif role == "owner":
            owner.setdefault(room_id, person_id)
    owner.update(payer)
    return owner


def load_payers(project_id: int, room_ids: Sequence[int] | None, day: datetime.date) -> PayerBook:
    developer_id = (
        Person.objects.filter(project_id=project_id, is_developer=True)
        .values_list("id", flat=True)
        .first()
    )
    book = PayerBook(project_id, developer_id, day)
    book.load_base(room_ids)
    return book


def load_rooms(project_id: int, room_ids: Sequence[int] | None = None) -> list[RoomFacts]:
    """The facts billing needs about every room, in one query. Areas and dates are read as text and
    converted here: exact, and several times cheaper than the per-row field converters."""
    rooms = Room.objects.filter(project_id=project_id)
    if room_ids is not None:
        rooms = rooms.filter(id__in=room_ids)
    result = []
    decimals: dict[
        str, Decimal
    ] = {}  # areas repeat (a building has a few layouts): parse each once

    def area(text: str | None) -> Decimal | None:
        if text is None:
            return None
        value = decimals.get(text)
        if value is None:
            value = decimals[text] = Decimal(text)
        return value

    for rid, code, building_id, use, gross, inner, handed_over, handover_date, state in (
        rooms.order_by("building_id", "code")
        .values_list(
            "id",
            "code",
            "building_id",
            "use",
            Cast("gross_area", CharField()),
            Cast("inner_area", CharField()),
            "handed_over",
            Cast("handover_date", CharField()),
            "occupancy_state",
        )
        .iterator(chunk_size=20_000)
    ):
        result.append(
            RoomFacts(
                rid,
                code,
                building_id,
                use,
                area(gross),
                area(inner),
                handed_over,
                datetime.date.fromisoformat(handover_date) if handover_date else None,
                state,
            )
        )
    return result


# --- the plan ------------------------------------------------------------------------------------


@dataclass(slots=True)
class PlannedBill:
    room_id: int
    building_id: int
    payer_id: int
    fee_item_id: int
    period_start: datetime.date
    period_end: datetime.date
    due_date: datetime.date
    quantity: Decimal | None
    unit_price: Decimal | None
    amount: Decimal
    description: str


@dataclass
class Plan:
    project_id: int
    month: datetime.date
    items: list[FeeItem]  # items whose period starts this month
    not_due: list[FeeItem]  # active items billed in other months
    bills: list[PlannedBill] = field(default_factory=list)
    exceptions: list[dict] = field(default_factory=list)
    exception_counts: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)

    def exception(self, kind: str, message: str, *, room: RoomFacts | None = None, item=None):
        self.exception_counts[kind] += 1
        if len(self.exceptions) < PREVIEW_EXCEPTIONS:
            self.exceptions.append(
                {
                    "kind": kind,
                    "label": EXCEPTION_LABELS.get(kind, kind),
                    "room_id": room.id if room else None,
                    "room": room.code if room else "",
                    "fee_item": item.name if item else "",
                    "message": message,
                }
            )

    @property
    def total_amount(self) -> Decimal:
        return sum((b.amount for b in self.bills), ZERO)


def _num(value: Decimal | Fraction) -> str:
    """2.5000 → 2.5, 100 → 100: figures as people write them."""
    if isinstance(value, Fraction):
        return f"{float(value):.4g}"
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _span_text(item: FeeItem, period: calc.Period, seg: calc.Segment) -> str:
    if seg.start == period.start and seg.end == period.end:
        return str(period)
    return f"{seg.start:%Y-%m-%d}至{seg.end:%Y-%m-%d}"


_UNIT = {
    ChargeMethod.AREA: "元/㎡·月",
    ChargeMethod.FIXED: "元/月",
    ChargeMethod.PARKING: "元/车位·月",
}


def plan_month(
    project: Project | int,
    month: datetime.date,
    *,
    room_ids: Sequence[int] | None = None,
    fee_items: Sequence[FeeItem] | None = None,
) -> Plan:
    """Every bill a run for ``month`` would create (for all rooms, or only ``room_ids``; for the active
    items whose period starts in that month, or only ``fee_items``), plus the exceptions that block one.
    """
    project_id = project.pk if isinstance(project, Project) else project
    month = calc.month_start(month)
    if fee_items is None:
        fee_items = list(FeeItem.objects.filter(project_id=project_id, is_active=True))
    due = calc.items_starting_in(fee_items, month)
    plan = Plan(
        project_id=project_id,
        month=month,
        items=due,
        not_due=[i for i in fee_items if i not in due],
    )
    if not due:
        return plan
    standards: dict[int, list[FeeStandard]] = defaultdict(list)
    for standard in FeeStandard.objects.filter(fee_item__in=due):
        standards[standard.fee_item_id].append(standard)

    rooms = load_rooms(project_id, room_ids)
    payers = load_payers(project_id, room_ids, month)
    methods = {item.method for item in due}
    spaces: Counter = Counter()
    if ChargeMethod.PARKING in methods:
        parking = ParkingSpace.objects.filter(project_id=project_id, room__isnull=False)
        if room_ids is not None:
            parking = parking.filter(room_id__in=room_ids)
        spaces.update(parking.values_list("room_id", flat=True))

    for item in due:
        period = calc.period_of(item.cycle, month)
        if item.method in calc.POLICY_METHODS:
            _plan_periodic(plan, item, period, rooms, standards[item.id], payers, spaces)
        elif item.method == ChargeMethod.METERED:
            _plan_metered(plan, item, period, rooms, standards[item.id], payers)
        elif item.method == ChargeMethod.SHARED:
            _plan_shared(plan, item, period, rooms, payers, whole_project=room_ids is None)
    return plan


def _payer_for(
    plan: Plan, item, room: RoomFacts, seg: calc.Segment, payers: PayerBook
) -> int | None:
    if seg.developer:
        if payers.developer_id is None:
            plan.exception(
                "no_developer",
                f"房屋 {room.code} 未收楼，应由开发建设单位缴费，但本项目未登记开发建设单位",
                room=room,
                item=item,
            )
        return payers.developer_id
    payer = payers.occupant(room.id, seg.start)
    if payer is None:
        plan.exception(
            "no_payer",
            f"房屋 {room.code} 在 {seg.start:%Y-%m-%d} 没有业主或缴费人",
            room=room,
            item=item,
        )
    return payer


@dataclass(slots=True)
class _Rate:
    """What one unit costs over a segment, computed once per (use, segment) and reused for every room."""

    rate: Fraction | Decimal
    price: Decimal | None
    found: bool
    prefix: str
    suffix: str
    amounts: dict = field(default_factory=dict)  # (quantity, factor) → rounded amount


def _rate_for(item: FeeItem, period: calc.Period, standards, use: str, seg: calc.Segment) -> _Rate:
    spans = calc.price_spans(standards, use, seg.start, seg.end)
    price = calc.single_price(spans)
    months = calc.month_fraction(seg.start, seg.end)
    suffix = f" × {_num(price)}{_UNIT[item.method]}" if price is not None else " 分段计价（含调价）"
    if months != 1:
        suffix += f" × {_num(months)}个月"
    return _Rate(
        rate=calc.exact_rate(calc.monthly_rate(spans)),
        price=price,
        found=bool(spans),
        prefix=f"{item.name} {_span_text(item, period, seg)}",
        suffix=suffix,
    )


def _plan_periodic(
    plan: Plan,
    item: FeeItem,
    period: calc.Period,
    rooms: list[RoomFacts],
    standards: list[FeeStandard],
    payers: PayerBook,
    spaces: Counter,
) -> None:
    """AREA, FIXED and PARKING: quantity × Σ(price × months) × policy share, rounded once.

    The hot loop of a run: everything that depends only on the room's use and the billed days (the
    price schedule, the months, the description's wording) is computed once per distinct value.
    """
    rates: dict[tuple, _Rate] = {}
    texts: dict[Decimal, str] = {}
    due = calc.due_date(period.start, item.due_days)
    whole = [calc.Segment(period.start, period.end, False)]
    uses = set(item.uses or ())
    method = item.method
    rounding = item.rounding
    one = Decimal(1)
    for room in rooms:
        if uses and room.use not in uses:
            continue
        if method == ChargeMethod.AREA:
            quantity = room.area(item.area_basis)
            if not quantity:  # blank or 0: a data gap to fix, never a silent free month
                plan.exception(
                    "no_area",
                    f"房屋 {room.code} 未登记{AreaBasis(item.area_basis).label}，不能计算{item.name}",
                    room=room,
                    item=item,
                )
                continue
            quantity_text = texts.get(quantity)
            if quantity_text is None:
                quantity_text = texts[quantity] = f" {_num(quantity)}㎡"
        elif method == ChargeMethod.PARKING:
            count = spaces.get(room.id, 0)
            if not count:
                continue
            quantity = Decimal(count)
            quantity_text = f" {count}个车位"
        else:
            quantity = one
            quantity_text = ""
        if room.handed_over and (room.handover_date is None or room.handover_date <= period.start):
            segments = whole
        else:
            segments = calc.payer_segments(room, period, item.prorate_from_handover)
        vacant = room.occupancy_state == OccupancyState.VACANT
        for seg in segments:
            if seg.developer or vacant:
                factor = calc.policy_factor(item, developer=seg.developer, vacant=vacant)
                if factor is None:
                    plan.skipped["exempt"] += 1
                    continue
            else:
                factor = one
            key = (room.use, seg.start, seg.end)
            rate = rates.get(key)
            if rate is None:
                rate = rates[key] = _rate_for(item, period, standards, room.use, seg)
            if not rate.found:
                plan.exception(
                    "no_standard",
                    f"{item.name}没有适用于{_use_label(room.use)}房屋 {room.code} 的收费标准"
                    f"（{seg.start:%Y-%m-%d}至{seg.end:%Y-%m-%d}）",
                    room=room,
                    item=item,
                )
                continue
            amount = rate.amounts.get((quantity, factor))
            if amount is None:
                amount = rate.amounts[(quantity, factor)] = calc.charge(
                    quantity, rate.rate, factor, rounding
                )
            if not amount:
                plan.skipped["zero"] += 1
                continue
            if seg.developer or seg.start != payers.base_day:
                payer = _payer_for(plan, item, room, seg, payers)
            else:
                payer = payers.base.get(room.id)
                if payer is None:
                    payer = _payer_for(plan, item, room, seg, payers)  # reports the exception
            if payer is None:
                continue
            text = rate.prefix + quantity_text + rate.suffix
            if factor != 1:
                text += f" × {_num(factor)}（{'开发建设单位' if seg.developer else '空置'}比例）"
            elif seg.developer:
                text += "（未收楼，开发建设单位缴纳）"
            plan.bills.append(
                PlannedBill(
                    room_id=room.id,
                    building_id=room.building_id,
                    payer_id=payer,
                    fee_item_id=item.id,
                    period_start=period.start,
                    period_end=seg.end if seg.developer else period.end,
                    due_date=due,
                    quantity=quantity if method != ChargeMethod.FIXED else None,
                    unit_price=rate.price,
                    amount=amount,
                    description=text[:200],
                )
            )


def _use_label(use: str) -> str:
    from wuye.registry.enums import RoomUse

    try:
        return RoomUse(use).label
    except ValueError:
        return use


def _plan_metered(
    plan: Plan,
    item: FeeItem,
    period: calc.Period,
    rooms: list[RoomFacts],
    standards: list[FeeStandard],
    payers: PayerBook,
) -> None:
    """usage × price; a price change inside the period weighs each price by its days."""
    readings = {
        r.room_id: r for r in MeterReading.objects.filter(fee_item=item, period_start=period.start)
    }
    due = calc.due_date(period.start, item.due_days)
    prices: dict[str, tuple[Fraction, Decimal | None, list]] = {}
    for room in rooms:
        if not calc.applies_to(item, room.use):
            continue
        reading = readings.get(room.id)
        if reading is None:
            plan.exception(
                "no_reading",
                f"房屋 {room.code} 缺少 {period} 的{item.name}抄表读数",
                room=room,
                item=item,
            )
            continue
        cached = prices.get(room.use)
        if cached is None:
            spans = calc.price_spans(standards, room.use, period.start, period.end)
            avg = calc.average_price(spans, period.start, period.end) if spans else Fraction(0)
            cached = prices[room.use] = (avg, calc.single_price(spans), spans)
        avg, price, spans = cached
        if not spans:
            plan.exception(
                "no_standard",
                f"{item.name}没有适用于房屋 {room.code} 的收费标准",
                room=room,
                item=item,
            )
            continue
        usage = calc.metered_usage(reading)
        amount = calc.charge(usage, avg, Decimal(1), item.rounding)
        if amount <= 0:
            plan.skipped["zero"] += 1
            continue
        seg = calc.payer_segments(room, period, False)[0]
        payer = _payer_for(plan, item, room, seg, payers)
        if payer is None:
            continue
        text = f"{item.name} {period} 用量 {_num(usage)}"
        if reading.replaced:
            text += "（含换表）"
        text += f" × {_num(price)}元" if price is not None else " × 加权单价（含调价）"
        plan.bills.append(
            PlannedBill(
                room_id=room.id,
                building_id=room.building_id,
                payer_id=payer,
                fee_item_id=item.id,
                period_start=period.start,
                period_end=period.end,
                due_date=due,
                quantity=usage,
                unit_price=price,
                amount=amount,
                description=text[:200],
            )
        )


def _plan_shared(
    plan: Plan,
    item: FeeItem,
    period: calc.Period,
    rooms: list[RoomFacts],
    payers: PayerBook,
    *,
    whole_project: bool,
) -> None:
    """Each registered total split over its scope's rooms by area (largest remainder, exact)."""
    charges = list(SharedCharge.objects.filter(fee_item=item, period_start=period.start))
    if not charges:
        plan.exception("no_shared_charge", f"{item.name} {period} 未登记公摊总额", item=item)
        return
    scope_rooms = rooms
    if not whole_project:
        # A pay-ahead plans one room, but its share depends on every room of the scope.
        scope_rooms = load_rooms(plan.project_id)
    wanted = {r.id for r in rooms}
    shares: dict[int, Decimal] = defaultdict(Decimal)
    by_id = {r.id: r for r in scope_rooms}
    reported: set[int] = set()
    for charge_row in charges:
        members = [
            r
            for r in scope_rooms
            if calc.applies_to(item, r.use)
            and (charge_row.building_id is None or r.building_id == charge_row.building_id)
        ]
        weighted = []
        for r in members:
            area = r.area(item.area_basis)
            if not area:
                if r.id in wanted and r.id not in reported:
                    reported.add(r.id)
                    plan.exception(
                        "no_area",
                        f"房屋 {r.code} 未登记面积，不参与{item.name}分摊",
                        room=r,
                        item=item,
                    )
                continue
            weighted.append((r, area))
        if not weighted or sum(a for _, a in weighted) == 0:
            plan.exception(
                "shared_no_area", f"{item.name} {period} 分摊范围内没有登记面积的房屋", item=item
            )
            continue
        for (r, _area), share in zip(
            weighted, calc.shared_split(charge_row.total, [a for _, a in weighted]), strict=True
        ):
            if r.id in wanted:
                shares[r.id] += share
    due = calc.due_date(period.start, item.due_days)
    for room_id, amount in shares.items():
        room = by_id[room_id]
        if amount <= 0:
            plan.skipped["zero"] += 1
            continue
        seg = calc.payer_segments(room, period, False)[0]
        payer = _payer_for(plan, item, room, seg, payers)
        if payer is None:
            continue
        plan.bills.append(
            PlannedBill(
                room_id=room.id,
                building_id=room.building_id,
                payer_id=payer,
                fee_item_id=item.id,
                period_start=period.start,
                period_end=period.end,
                due_date=due,
                quantity=room.area(item.area_basis),
                unit_price=None,
                amount=amount,
                description=f"{item.name} {period} 按面积分摊 {_num(room.area(item.area_basis))}㎡"[
                    :200
                ],
            )
        )


# --- accounts and existing bills -----------------------------------------------------------------


def account_index(project_id: int) -> dict[tuple[int, int], int]:
    """(room id, payer id) → account id for every account of a project."""
    return {
        (room_id, payer_id): account_id
        for account_id, room_id, payer_id in Account.objects.filter(project_id=project_id)
        .values_list("id", "room_id", "payer_id")
        .iterator(chunk_size=20_000)
    }


def accounts_ensure(
    project_id: int, pairs: Iterable[tuple[int, int]], *, user: User | None = None
) -> dict[tuple[int, int], int]:
    """Creates the missing accounts for (room, payer) pairs in bulk; returns the whole index."""
    index = account_index(project_id)
    missing = sorted(set(pairs) - index.keys())
    if not missing:
        return index
    with transaction.atomic():
        Account.objects.bulk_create(
            [Account(project_id=project_id, room_id=r, payer_id=p) for r, p in missing],
            batch_size=INSERT_BATCH,
            ignore_conflicts=True,
        )
        audit_record(
            user=user,
            action="缴费账户批量新增",
            project=project_id,
            model="billing.Account",
            changes={"count": len(missing)},
        )
    return account_index(project_id)


def existing_keys(
    project_id: int, month: datetime.date, item_ids: Sequence[int], revision: int
) -> set[tuple[int, int]]:
    """(account, fee item) of the month's charges that a new run must not bill again: every bill of
    this revision (the unique key), and live (not reversed) bills of any revision (a pay-ahead)."""
    reversal = BillAdjustment.objects.filter(bill=OuterRef("pk"), kind=AdjustmentKind.REVERSAL)
    rows = (
        Bill.objects.filter(
            project_id=project_id,
            kind=BillKind.CHARGE,
            period_start=month,
            fee_item_id__in=item_ids,
        )
        .annotate(reversed=Exists(reversal))
        .values_list("account_id", "fee_item_id", "revision", "reversed")
    )
    return {(a, i) for a, i, rev, was_reversed in rows if rev == revision or not was_reversed}


# --- writing bills -------------------------------------------------------------------------------


def bill_objects(
    planned: Iterable[PlannedBill],
    accounts: dict[tuple[int, int], int],
    *,
    project_id: int,
    revision: int,
    run_id: int | None,
    user_id: int | None,
) -> list[Bill]:
    """Planned bills as unsaved model instances (for small writes that need the new ids back)."""
    now = timezone.now()
    return [
        Bill(
            project_id=project_id,
            account_id=accounts[(p.room_id, p.payer_id)],
            room_id=p.room_id,
            fee_item_id=p.fee_item_id,
            kind=BillKind.CHARGE,
            period_start=p.period_start,
            period_end=p.period_end,
            quantity=p.quantity,
            unit_price=p.unit_price,
            amount=p.amount,
            due_date=p.due_date,
            description=p.description,
            run_id=run_id,
            revision=revision,
            created_by_id=user_id,
            created_at=now,
        )
        for p in planned
    ]


BILL_COLUMNS = (
    "project_id",
    "account_id",
    "room_id",
    "fee_item_id",
    "kind",
    "period_start",
    "period_end",
    "quantity",
    "unit_price",
    "amount",
    "due_date",
    "description",
    "run_id",
    "revision",
    "created_by_id",
    "created_at",
)


def bill_rows(
    planned: Iterable[PlannedBill],
    accounts: dict[tuple[int, int], int],
    *,
    project_id: int,
    revision: int,
    run_id: int | None,
    user_id: int | None,
) -> list[tuple]:
    """Planned bills as parameter tuples in ``BILL_COLUMNS`` order, adapted for the database the way
    Django adapts them (dates and datetimes through the backend's operations)."""
    ops = connection.ops
    dates: dict[datetime.date, object] = {}

    def day(value: datetime.date):
        adapted = dates.get(value)
        if adapted is None:
            adapted = dates[value] = ops.adapt_datefield_value(value)
        return adapted

    now = ops.adapt_datetimefield_value(timezone.now())
    charge_kind = str(BillKind.CHARGE)
    return [
        (
            project_id,
            accounts[(p.room_id, p.payer_id)],
            p.room_id,
            p.fee_item_id,
            charge_kind,
            day(p.period_start),
            day(p.period_end),
            p.quantity,
            p.unit_price,
            p.amount,
            day(p.due_date),
            p.description,
            run_id,
            revision,
            user_id,
            now,
        )
        for p in planned
    ]


def insert_bills(rows: list[tuple]) -> None:
    """One chunk's bills in bulk: ``INSERT … ON CONFLICT DO NOTHING``, so a key that exists already
    (written by an earlier attempt or a concurrent one) is skipped, and only a uniqueness conflict is —
    a CHECK violation still fails the chunk. SQLite: one ``executemany``; PostgreSQL: one statement
    per chunk that reads the rows from one binary array per column (``unnest``).

    On PostgreSQL the multi-row ``VALUES`` statements this replaced (1,000 rows, 16,000 parameters
    each, quoted into the text by Django's client-side binding) took twice as long for a
    100,000-room run (docs/operations/benchmarks.md)."""
    if not rows:
        return
    qn = connection.ops.quote_name
    columns = ", ".join(qn(c) for c in BILL_COLUMNS)
    # Table and column names come from the model, never from input.
    head = f"INSERT INTO {qn(Bill._meta.db_table)} ({columns}) "  # noqa: S608
    tail = " ON CONFLICT DO NOTHING"
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            one = "(" + ", ".join(["%s"] * len(BILL_COLUMNS)) + ")"
            cursor.executemany(head + "VALUES " + one + tail, rows)
            return
        # Types come from the model's fields; the rows are parameters: one array literal per column.
        columns = _bill_columns()
        arrays = ", ".join(f"%s::{db_type}[]" for db_type, _text in columns)
        sql = head + f"SELECT * FROM unnest({arrays})" + tail  # noqa: S608
        cursor.execute(
            sql,
            [
                _array_literal(values, text)
                for values, (_db_type, text) in zip(zip(*rows, strict=True), columns, strict=True)
            ],
        )


def _bill_columns() -> list[tuple[str, bool]]:
    """(database type, is text) of each of ``BILL_COLUMNS``."""
    fields = {f.column: f for f in Bill._meta.concrete_fields}
    return [
        (fields[c].cast_db_type(connection), fields[c].get_internal_type() == "CharField")
        for c in BILL_COLUMNS
    ]


def _array_literal(values: Sequence, text: bool) -> str:
    """A PostgreSQL array literal (``{1,2,NULL}``) of one column's values: built with ``str`` and one
    join, many times faster than the driver adapting each element. Text elements are double-quoted
    with backslash escapes, so any character is safe; numbers, dates and datetimes print as
    PostgreSQL reads them. Each distinct value is formatted once (most columns of a chunk repeat a
    few values: the project, the run, the period, the prices), and ids are joined through ``map``."""
    if not text and all(type(v) is int for v in values):
        return "{" + ",".join(map(str, values)) + "}"
    literal: dict = {}
    for v in set(values):
        if v is None:
            literal[v] = "NULL"
        elif text:
            literal[v] = '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        else:
            literal[v] = format(v, "f") if isinstance(v, Decimal) else str(v)
    return "{" + ",".join(map(literal.__getitem__, values)) + "}"


def chunks_by_room(planned: list[PlannedBill], rooms_per_chunk: int) -> list[list[PlannedBill]]:
    chunks: list[list[PlannedBill]] = []
    current: list[PlannedBill] = []
    seen: set[int] = set()
    for p in planned:
        if p.room_id not in seen and len(seen) >= rooms_per_chunk:
            chunks.append(current)
            current, seen = [], set()
        seen.add(p.room_id)
        current.append(p)
    if current:
        chunks.append(current)
    return chunks


# --- preview -------------------------------------------------------------------------------------


def summarize(plan: Plan, existing: set[tuple[int, int]], accounts: dict) -> dict:
    """The preview shown before a commit: counts and totals by item and building, exceptions."""
    building_names = dict(
        Building.objects.filter(project_id=plan.project_id).values_list("id", "name")
    )
    building_order = {
        b: n
        for n, b in enumerate(
            Building.objects.filter(project_id=plan.project_id)
            .order_by("sort", "code")
            .values_list("id", flat=True)
        )
    }
    items = {i.id: i for i in plan.items}
    by_item: dict[int, list] = {i.id: [0, ZERO, 0] for i in plan.items}
    by_building: dict[int, list] = {}
    new_count = 0
    for p in plan.bills:
        account = accounts.get((p.room_id, p.payer_id))
        is_new = account is None or (account, p.fee_item_id) not in existing
        new_count += is_new
        row = by_item[p.fee_item_id]
        row[0] += 1
        row[1] += p.amount
        row[2] += is_new
        row = by_building.setdefault(p.building_id, [0, ZERO])
        row[0] += 1
        row[1] += p.amount
    return {
        "period": f"{plan.month:%Y-%m}",
        "total_count": len(plan.bills),
        "new_count": new_count,
        "existing_count": len(plan.bills) - new_count,
        "total_amount": str(plan.total_amount),
        "room_count": len({p.room_id for p in plan.bills}),
        "by_item": [
            {
                "fee_item_id": item_id,
                "name": items[item_id].name,
                "method": items[item_id].get_method_display(),
                "cycle": items[item_id].get_cycle_display(),
                "count": row[0],
                "new_count": row[2],
                "amount": str(row[1]),
            }
            for item_id, row in by_item.items()
        ],
        "by_building": [
            {
                "building_id": building_id,
                "name": building_names.get(building_id, str(building_id)),
                "count": row[0],
                "amount": str(row[1]),
            }
            for building_id, row in sorted(
                by_building.items(), key=lambda kv: building_order.get(kv[0], 0)
            )
        ],
        "not_due": [{"name": i.name, "cycle": i.get_cycle_display()} for i in plan.not_due],
        "exceptions": plan.exceptions,
        "exception_count": sum(plan.exception_counts.values()),
        "exception_counts": [
            {"kind": k, "label": EXCEPTION_LABELS.get(k, k), "count": n}
            for k, n in sorted(plan.exception_counts.items())
        ],
        "skipped": [
            {"kind": k, "label": SKIP_LABELS.get(k, k), "count": n}
            for k, n in sorted(plan.skipped.items())
        ],
    }


def _month_of(period_start: datetime.date) -> datetime.date:
    if period_start.day != 1:
        raise ValidationFailed("账期须为某月 1 日（如 2026-11-01）", field="period_start")
    return period_start


def run_preview(*, project: Project, period_start: datetime.date, user: User | None) -> BillingRun:
    """Plans the month and stores the preview on the month's run (a new one, or the open one again)."""
    month = _month_of(period_start)
    with transaction.atomic():
        latest = (
            BillingRun.objects.select_for_update()
            .filter(project=project, period_start=month)
            .order_by("-revision")
            .first()
        )
        if latest is not None and latest.status in (RunStatus.QUEUED, RunStatus.RUNNING):
            raise ValidationFailed(
                f"{month:%Y-%m} 的计费批次正在生成中，请等待完成后再预览", field="period_start"
            )
        if latest is None or latest.status == RunStatus.REVERSED:
            run = BillingRun(
                project=project,
                period_start=month,
                revision=0 if latest is None else latest.revision + 1,
                created_by=user if user and user.is_authenticated else None,
            )
        else:
            run = latest
        plan = plan_month(project, month)
        accounts = account_index(project.pk)
        existing = existing_keys(project.pk, month, [i.id for i in plan.items], run.revision)
        run.preview = summarize(plan, existing, accounts)
        run.total_count = len(plan.bills)
        run.total_amount = plan.total_amount
        if run.status != RunStatus.COMMITTED:
            run.status = RunStatus.PREVIEWED
            run.done_count = 0
        run.save()
        audit_record(
            user=user,
            action="计费预览",
            obj=run,
            project=project,
            changes={
                "period": f"{month:%Y-%m}",
                "revision": run.revision,
                "count": run.total_count,
                "new": run.preview["new_count"],
                "amount": run.total_amount,
                "exceptions": run.preview["exception_count"],
            },
        )
    return run


# --- commit --------------------------------------------------------------------------------------

COMMITTABLE = (RunStatus.PREVIEWED, RunStatus.FAILED, RunStatus.COMMITTED)


def run_commit(*, run: BillingRun, user: User | None, enqueue: bool = True) -> BillingRun:
    """Queues the run's bills to be written by a background task (progress on the run page).

    ``enqueue=False`` only marks the run queued: the caller then runs ``run_execute`` itself (the
    ``billing_run`` command, which prints the progress as it goes). The queueing itself is the
    ``WUYE_BILLING_RUN_QUEUED`` hooks' (``billing.tasks.after_run_queued``): tasks call runs, runs
    never import tasks."""
    with transaction.atomic():
        run = BillingRun.objects.select_for_update().get(pk=run.pk)
        if run.status not in COMMITTABLE:
            raise ValidationFailed(
                f"批次状态为“{run.get_status_display()}”，不能生成账单", field="status"
            )
        newest = latest_revision(run.project_id, run.period_start)
        if newest is not None and newest.pk != run.pk:
            raise ValidationFailed("该批次已被后来的批次取代，请重新预览", field="revision")
        run.status = RunStatus.QUEUED
        run.error = ""
        run.save(update_fields=["status", "error"])
        audit_record(user=user, action="计费生成", obj=run, project=run.project_id)
    user_id = user.pk if user is not None and user.is_authenticated else None
    if enqueue:
        for path in getattr(settings, "WUYE_BILLING_RUN_QUEUED", []):
            import_string(path)(run_id=run.pk, user_id=user_id)
    run.refresh_from_db()
    return run


def run_execute(
    run_id: int,
    user_id: int | None = None,
    *,
    progress: Callable[[BillingRun], None] | None = None,
) -> BillingRun:
    """Writes a queued run's bills (the task's body; also called by ``billing_run --commit``)."""
    with transaction.atomic():
        run = BillingRun.objects.select_for_update().select_related("project").get(pk=run_id)
        if run.status != RunStatus.QUEUED:
            logger.warning("billing run %s is %s, not queued: nothing to do", run_id, run.status)
            return run
        run.status = RunStatus.RUNNING
        run.done_count = 0
        run.save(update_fields=["status", "done_count"])
    try:
        _write_run(run, user_id, progress)
    except Exception as exc:
        BillingRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        raise
    run.refresh_from_db()
    return run


def _write_run(run: BillingRun, user_id: int | None, progress) -> None:
    project_id = run.project_id
    plan = plan_month(run.project, run.period_start)
    accounts = accounts_ensure(
        project_id,
        {(p.room_id, p.payer_id) for p in plan.bills},
        user=User.objects.filter(pk=user_id).first() if user_id else None,
    )
    existing = existing_keys(project_id, run.period_start, [i.id for i in plan.items], run.revision)
    todo = [
        p for p in plan.bills if (accounts[(p.room_id, p.payer_id)], p.fee_item_id) not in existing
    ]
    todo.sort(key=attrgetter("room_id"))  # a room's bills (every item) land in the same chunk
    run.total_count = len(plan.bills)
    run.done_count = len(plan.bills) - len(todo)
    BillingRun.objects.filter(pk=run.pk).update(
        total_count=run.total_count, done_count=run.done_count
    )
    if progress:
        progress(run)
    for chunk in chunks_by_room(todo, CHUNK_ROOMS):
        with transaction.atomic():
            insert_bills(
                bill_rows(
                    chunk,
                    accounts,
                    project_id=project_id,
                    revision=run.revision,
                    run_id=run.pk,
                    user_id=user_id,
                )
            )
            BillingRun.objects.filter(pk=run.pk).update(done_count=F("done_count") + len(chunk))
        run.done_count += len(chunk)
        if progress:
            progress(run)
    with transaction.atomic():
        totals = Bill.objects.filter(run=run).aggregate(n=Sum("amount"))
        run.status = RunStatus.COMMITTED
        run.committed_at = timezone.now()
        run.total_amount = totals["n"] or ZERO
        run.save(update_fields=["status", "committed_at", "total_amount"])
        audit_record(
            user=User.objects.filter(pk=user_id).first() if user_id else None,
            action="计费完成",
            obj=run,
            project=project_id,
            changes={
                "count": run.total_count,
                "created": len(todo),
                "amount": run.total_amount,
                "exceptions": sum(plan.exception_counts.values()),
            },
        )
        for path in getattr(settings, "WUYE_AFTER_BILLING_RUN", []):
            hook = import_string(path)
            transaction.on_commit(lambda hook=hook: hook(run_id=run.pk))


# --- reversal ------------------------------------------------------------------------------------


def run_reverse(
    *, run: BillingRun, user: User | None, reason: str, approved_by: User
) -> BillingRun:
    """冲红 of a whole committed run: one reversal entry per bill, all or nothing. Refused, listing the
    bills, while any of them has money applied to it (reverse those payments first)."""
    reason = require_reason(reason)
    check_approver(
        approved_by, run.project_id, requested_by=user if user and user.pk else None, four_eyes=True
    )
    with transaction.atomic():
        run = BillingRun.objects.select_for_update().get(pk=run.pk)
        if run.status != RunStatus.COMMITTED:
            raise ValidationFailed(
                f"只有已生成的批次可以冲红（当前：{run.get_status_display()}）", field="status"
            )
        bills = with_balance(
            Bill.objects.filter(run=run).exclude(adjustments__kind=AdjustmentKind.REVERSAL)
        )
        paid = list(
            bills.exclude(allocated=0)
            .order_by("room__code", "fee_item__sort")
            .values_list("room__code", "fee_item__name", "allocated")
        )
        if paid:
            listed = "、".join(
                f"{code} {name}（已核销 {amount} 元）" for code, name, amount in paid[:20]
            )
            more = f" 等 {len(paid)} 张" if len(paid) > 20 else ""
            raise ValidationFailed(
                f"以下账单已有收款核销，整批冲红前请先冲红这些收款：{listed}{more}", field="run"
            )
        today = timezone.localdate()
        adjustments = [
            BillAdjustment(
                bill_id=bill_id,
                kind=AdjustmentKind.REVERSAL,
                amount=amount - adjusted,
                effective_date=today,
                reason=reason,
                approved_by=approved_by,
                created_by=user if user and user.is_authenticated else None,
                run=run,
            )
            for bill_id, amount, adjusted in bills.values_list("id", "amount", "adjusted").iterator(
                chunk_size=10_000
            )
            if amount - adjusted > 0
        ]
        BillAdjustment.objects.bulk_create(adjustments, batch_size=INSERT_BATCH)
        run.status = RunStatus.REVERSED
        run.reversed_at = timezone.now()
        run.reversed_by = user if user and user.is_authenticated else None
        run.reverse_reason = reason
        run.save(update_fields=["status", "reversed_at", "reversed_by", "reverse_reason"])
        audit_record(
            user=user,
            action="计费批次冲红",
            obj=run,
            project=run.project_id,
            changes={
                "reason": reason,
                "approved_by": approved_by.pk,
                "bills": len(adjustments),
                "amount": sum((a.amount for a in adjustments), ZERO),
            },
        )
    return run
