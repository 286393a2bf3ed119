"""计费批次的计划 (a billing run's plan): what the planner reads and the bills it plans for a month.

``plan_month`` serves the preview, the commit and pay-ahead, so they cannot disagree: it reads rooms,
payers, parking, readings, shared charges and standards in a fixed number of queries and computes
periodic (area, fixed, parking), metered and shared charges in Python, with the exceptions (no area,
no standard, no payer …) the preview lists.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from django.db.models import CharField, Q
from django.db.models.functions import Cast

from wuye.billing import calc
from wuye.billing.enums import (
    AreaBasis,
    ChargeMethod,
)
from wuye.billing.models import (
    FeeItem,
    FeeStandard,
    MeterReading,
    SharedCharge,
)
from wuye.core.models import Project
from wuye.core.money import ZERO
from wuye.registry.enums import OccupancyState
from wuye.registry.models import Occupancy, ParkingSpace, Person, Room

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
        text = f"{item.name} {period} 用量 {_num(usage)}"
        if reading.replaced:
            text += "（含换表）"
        text += f" × {_num(price)}元" if price is not None else " × 加权单价（含调价）"
        _plan_whole_period(
            plan, item, period, room, payers, due, usage, price, amount, description=text
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
        area = room.area(item.area_basis)
        _plan_whole_period(
            plan,
            item,
            period,
            room,
            payers,
            due,
            area,
            None,
            amount,
            description=f"{item.name} {period} 按面积分摊 {_num(area)}㎡",
        )


def _plan_whole_period(
    plan: Plan,
    item: FeeItem,
    period: calc.Period,
    room: RoomFacts,
    payers: PayerBook,
    due: datetime.date,
    quantity: Decimal,
    unit_price: Decimal | None,
    amount: Decimal,
    *,
    description: str,
) -> None:
    """One bill of a metered or shared charge: the whole period, to whoever pays for the room on its
    first day (the developer while it is not handed over); a zero amount is skipped."""
    if amount <= 0:
        plan.skipped["zero"] += 1
        return
    seg = calc.payer_segments(room, period, False)[0]
    payer = _payer_for(plan, item, room, seg, payers)
    if payer is None:
        return
    plan.bills.append(
        PlannedBill(
            room_id=room.id,
            building_id=room.building_id,
            payer_id=payer,
            fee_item_id=item.id,
            period_start=period.start,
            period_end=period.end,
            due_date=due,
            quantity=quantity,
            unit_price=unit_price,
            amount=amount,
            description=description[:200],
        )
    )
