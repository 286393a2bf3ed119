"""One project's registry: its buildings, units and rooms, its people with their phones and ties to
the rooms, then parking, legacy issues and tickets — planned in Python, written in bulk, with the
search keys the registry's services would have written."""

from __future__ import annotations

import datetime as dt

from wuye.core.models import Project, User
from wuye.demo.parking_issues_tickets import ParkingIssuesTickets
from wuye.demo.people import PeoplePlanner, PersonPlan
from wuye.demo.rooms import RoomPlanner
from wuye.registry.models import (
    Building,
    Occupancy,
    Person,
    Phone,
    Room,
    Unit,
)
from wuye.registry.services import phone_search_key, room_search_keys


class ProjectRegistry(RoomPlanner, PeoplePlanner, ParkingIssuesTickets):
    """One project's registry, written in bulk."""

    def make_project_data(self, project: Project, n_rooms: int, users: dict[str, User]) -> None:
        plans = self.plan_buildings(n_rooms)
        stewards = [u for name, u in users.items() if name.startswith("steward")]
        buildings = [
            Building(
                project=project,
                code=plan.code,
                name=plan.name,
                floors=plan.floors + plan.first_floor - 1,
                steward=stewards[i * len(stewards) // len(plans)],
                sort=plan.sort,
            )
            for i, plan in enumerate(plans)
        ]
        self.insert(Building, buildings)
        units: list[Unit] = []
        unit_index: dict[tuple[int, str], int] = {}
        for b, plan in enumerate(plans):
            for code in plan.unit_codes:
                unit_index[(b, code)] = len(units)
                units.append(Unit(building=buildings[b], code=code, name=f"{code}单元"))
        self.insert(Unit, units)

        room_plans = self.plan_rooms(plans, unit_index)
        room_ids = self.insert_rows(
            Room,
            [
                {
                    "project_id": project.pk,
                    "building_id": buildings[r.building].pk,
                    "unit_id": units[r.unit].pk if r.unit is not None else None,
                    "code": r.code,
                    "number": r.number,
                    "floor": r.floor,
                    "gross_area": r.gross,
                    "inner_area": r.inner,
                    "use": r.use,
                    "handed_over": r.handed_over,
                    "handover_date": r.handover_date,
                    "occupancy_state": r.state,
                    **room_search_keys(r.code, r.number),
                }
                for r in room_plans
            ],
        )
        self.log(
            f"{project.name}：{len(buildings)} 栋楼，{len(units)} 个单元，{len(room_ids)} 间房"
        )

        people: list[PersonPlan] = [self.developer(project)]
        occupancies: list[tuple[int, int, str, dt.date | None, dt.date | None, bool]] = []
        owner_of: dict[int, int] = {}
        payer_of: dict[int, int] = {}
        self.plan_households(project, room_plans, people, occupancies, owner_of, payer_of)
        person_ids = self.insert_rows(Person, [plan.fields for plan in people])
        self.log(f"{project.name}：{len(person_ids)} 位客户")
        phones = [
            {
                "person_id": person_id,
                "number": number,
                "label": label,
                "validity": validity,
                "validity_checked_at": checked_at,
                "is_primary": index == 0,
                "note": note,
                "number_rev": phone_search_key(number),
            }
            for plan, person_id in zip(people, person_ids, strict=True)
            for index, (number, label, validity, checked_at, note) in enumerate(plan.phones)
        ]
        self.insert_rows(Phone, phones)
        self.insert_rows(
            Occupancy,
            [
                {
                    "room_id": room_ids[room],
                    "person_id": person_ids[person],
                    "role": role,
                    "start_date": start,
                    "end_date": end,
                    "is_payer": is_payer,
                }
                for room, person, role, start, end, is_payer in occupancies
            ],
        )
        self.log(f"{project.name}：{len(phones)} 个电话，{len(occupancies)} 条房屋关系")

        self.make_parking(project, room_plans, room_ids, person_ids, owner_of)
        self.make_legacy_issues(project, room_plans, room_ids, users)
        self.make_tickets(project, room_plans, room_ids, person_ids, payer_of)
        self.log(f"{project.name}：车位、历史遗留问题、报修投诉")
