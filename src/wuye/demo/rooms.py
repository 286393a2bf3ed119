"""The plan of a project's buildings and rooms: towers of typical flat sizes, apartments, offices,
shops; handover dates and how each room is used (occupied, rented, vacant, decorating)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from wuye.demo.draws import Draws
from wuye.registry.enums import (
    OccupancyState,
    RoomUse,
)
from wuye.registry.normalize import room_code

# Typical flat sizes (m² gross) and how often they occur.
HOME_LAYOUTS = [56, 72, 89, 98, 105, 118, 128, 143, 165, 178]
HOME_LAYOUT_WEIGHTS = [5, 10, 18, 14, 10, 13, 11, 9, 6, 4]
FLOOR_CHOICES = [11, 11, 12, 15, 17, 18, 18, 24, 26, 28, 32, 33]
PER_FLOOR_CHOICES = [2, 2, 2, 3, 4]


@dataclass
class BuildingPlan:
    code: str
    name: str
    use: str
    unit_codes: list[str]  # empty for a building without entrances (shops, an office tower)
    floors: int
    per_floor: int
    rooms: int
    sort: int
    delivered: dt.date
    first_floor: int = 1


@dataclass
class RoomPlan:
    building: int  # index into the project's buildings
    unit: int | None  # index into the project's units
    code: str
    number: str
    floor: int
    gross: Decimal
    inner: Decimal
    use: str
    handed_over: bool
    handover_date: dt.date | None
    state: str


class RoomPlanner(Draws):
    """Buildings (residential towers, apartments, an office tower, shops) and their rooms: sizes,
    handover, occupancy."""

    def plan_buildings(self, n_rooms: int) -> list[BuildingPlan]:
        """Residential towers first (numbered 1, 2, …), then apartments, offices and shops."""
        rng = self.rng
        shops = min(max(4, round(n_rooms * 0.02)), n_rooms // 5)
        apartments = round(n_rooms * 0.04) if n_rooms >= 1000 else 0
        offices = round(n_rooms * 0.02) if n_rooms >= 5000 else 0
        homes = n_rooms - shops - apartments - offices
        plans: list[BuildingPlan] = []
        number = 0
        while homes > 0:
            number += 1
            units = rng.choice([2, 2, 2, 3])
            floors = rng.choice(FLOOR_CHOICES)
            per_floor = rng.choice(PER_FLOOR_CHOICES)
            size = min(units * floors * per_floor, homes)
            floors = -(-size // (units * per_floor))  # the last building may end on a partial floor
            plans.append(
                BuildingPlan(
                    code=str(number),
                    name=f"{number}栋",
                    use=RoomUse.RESIDENCE,
                    unit_codes=[str(u) for u in range(1, units + 1)],
                    floors=floors,
                    per_floor=per_floor,
                    rooms=size,
                    sort=number,
                    delivered=self.days_ago(180, 8 * 365),
                )
            )
            homes -= size
        for size in split_evenly(apartments, 10 * 30):
            number += 1
            plans.append(
                BuildingPlan(
                    code=str(number),
                    name=f"{number}栋（公寓）",
                    use=RoomUse.APARTMENT,
                    unit_codes=["1"],
                    floors=-(-size // 10),
                    per_floor=10,
                    rooms=size,
                    sort=number,
                    delivered=self.days_ago(180, 5 * 365),
                )
            )
        towers = split_evenly(offices, 8 * 30)
        for i, size in enumerate(towers):
            code = "T" if len(towers) == 1 else f"T{i + 1}"
            plans.append(
                BuildingPlan(
                    code=code,
                    name="写字楼" if len(towers) == 1 else f"写字楼{i + 1}座",
                    use=RoomUse.OFFICE,
                    unit_codes=[],
                    floors=-(-size // 8),
                    per_floor=8,
                    rooms=size,
                    sort=9_000 + i,
                    delivered=self.days_ago(365, 6 * 365),
                    first_floor=3,
                )
            )
        rows = split_evenly(
            shops, 80
        )  # a row of shops: two floors, up to 40 shops a floor (S-101 … S-240)
        for i, size in enumerate(rows):
            per_floor = max(2, -(-size // 2))
            code = "S" if len(rows) == 1 else f"S{i + 1}"
            plans.append(
                BuildingPlan(
                    code=code,
                    name="沿街商铺" if len(rows) == 1 else f"沿街商铺{i + 1}区",
                    use=RoomUse.SHOP,
                    unit_codes=[],
                    floors=-(-size // per_floor),
                    per_floor=per_floor,
                    rooms=size,
                    sort=10_000 + i,
                    delivered=self.days_ago(365, 8 * 365),
                )
            )
        return plans

    def plan_rooms(
        self, plans: list[BuildingPlan], unit_index: dict[tuple[int, str], int]
    ) -> list[RoomPlan]:
        rng = self.rng
        rooms: list[RoomPlan] = []
        for b, plan in enumerate(plans):
            # Same position on every floor, same flat: 3-2-1502 and 3-2-1602 have one layout.
            layouts: dict[tuple[str, int], tuple[Decimal, Decimal]] = {}
            for unit in plan.unit_codes or [""]:
                for position in range(1, plan.per_floor + 1):
                    layouts[(unit, position)] = self.layout(plan.use)
            made = 0
            for floor in range(plan.first_floor, plan.first_floor + plan.floors):
                for unit in plan.unit_codes or [""]:
                    for position in range(1, plan.per_floor + 1):
                        if made == plan.rooms:
                            break
                        made += 1
                        number = f"{floor}{position:02d}"
                        gross, inner = layouts[(unit, position)]
                        handed_over = not self.chance(0.04)
                        handover_date = None
                        state = OccupancyState.VACANT
                        if handed_over:
                            late = rng.randint(180, 900) if self.chance(0.05) else 0
                            handover_date = min(
                                plan.delivered
                                + dt.timedelta(days=int(rng.expovariate(1 / 30)) + late),
                                self.today - dt.timedelta(days=1),
                            )
                            state = self.occupancy_state(plan.use)
                        rooms.append(
                            RoomPlan(
                                building=b,
                                unit=unit_index[(b, unit)] if unit else None,
                                code=room_code(plan.code, unit, number),
                                number=number,
                                floor=floor,
                                gross=gross,
                                inner=inner,
                                use=plan.use,
                                handed_over=handed_over,
                                handover_date=handover_date,
                                state=state,
                            )
                        )
        return rooms

    def layout(self, use: str) -> tuple[Decimal, Decimal]:
        rng = self.rng
        if use == RoomUse.RESIDENCE:
            base = rng.choices(HOME_LAYOUTS, weights=HOME_LAYOUT_WEIGHTS)[0]
            gross = min(180.0, max(50.0, base + rng.uniform(-2.5, 2.5)))
            ratio = rng.uniform(0.75, 0.85)
        elif use == RoomUse.APARTMENT:
            gross, ratio = rng.uniform(35, 70), rng.uniform(0.70, 0.80)
        elif use == RoomUse.OFFICE:
            gross, ratio = rng.uniform(80, 400), rng.uniform(0.65, 0.75)
        else:
            gross, ratio = rng.uniform(60, 320), rng.uniform(0.80, 0.92)
        gross_d = Decimal(f"{gross:.2f}")
        return gross_d, Decimal(f"{gross * ratio:.2f}")

    def occupancy_state(self, use: str) -> str:
        roll = self.rng.random()
        if use in (RoomUse.SHOP, RoomUse.OFFICE):
            rented, vacant, decorating = 0.45, 0.15, 0.03
        elif use == RoomUse.APARTMENT:
            rented, vacant, decorating = 0.35, 0.10, 0.03
        else:
            rented, vacant, decorating = 0.10, 0.10, 0.03
        if roll < vacant:
            return OccupancyState.VACANT
        if roll < vacant + decorating:
            return OccupancyState.DECORATING
        if roll < vacant + decorating + rented:
            return OccupancyState.RENTED
        return OccupancyState.OCCUPIED


def split_evenly(total: int, most: int) -> list[int]:
    """``total`` rooms in as few buildings of at most ``most`` as possible, sizes as even as can be."""
    if total <= 0:
        return []
    parts = -(-total // most)
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]
