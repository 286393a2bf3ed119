"""Registry API: every call is limited to the caller's projects and masks what the role may not see."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from wuye.core.errors import NotInScope
from wuye.core.masking import mask_id_number, mask_phone
from wuye.core.scope import (
    access_project,
    can_see_id_numbers,
    can_see_phones,
    project_ids_for,
    projects_for,
)
from wuye.registry.models import Room
from wuye.registry.selectors import household_file, search_households

router = Router(tags=["registry 房产与客户"])


class ProjectOut(Schema):
    id: int
    code: str
    name: str


class SearchHitOut(Schema):
    room_id: int
    code: str
    building: str
    people: list[str]
    phones: list[str]


class RoomOut(Schema):
    id: int
    code: str
    building: str
    unit: str
    floor: int | None
    gross_area: Decimal | None
    inner_area: Decimal | None
    use: str
    handed_over: bool
    handover_date: datetime.date | None
    occupancy_state: str

    @staticmethod
    def resolve_building(obj: Room) -> str:
        return obj.building.name

    @staticmethod
    def resolve_unit(obj: Room) -> str:
        return obj.unit.name if obj.unit else ""


class PhoneOut(Schema):
    number: str
    label: str
    validity: str


class PersonOut(Schema):
    id: int
    name: str
    role: str
    is_payer: bool
    id_number: str
    written_contact_only: bool
    preferred_contact_times: str
    phones: list[PhoneOut]


class HouseholdOut(Schema):
    room: RoomOut
    payer: str | None
    people: list[PersonOut]
    open_legacy_issues: int
    open_tickets: int


@router.get("/projects", response=list[ProjectOut], summary="我能看到的项目")
def list_projects(request: HttpRequest):
    return list(projects_for(request.user).order_by("id"))


@router.get(
    "/search", response=list[SearchHitOut], summary="按房号、姓名、拼音首字母或电话尾号查找住户"
)
def search(request: HttpRequest, project: int, q: str):
    obj = access_project(request.user, project)
    show = can_see_phones(request.user, obj)
    return [
        SearchHitOut(
            room_id=h.room_id,
            code=h.code,
            building=h.building,
            people=h.people,
            phones=[p if show else mask_phone(p) for p in h.phones],
        )
        for h in search_households(project=obj, text=q, full_phone=show)
    ]


@router.get("/projects/{project_id}/rooms", response=list[RoomOut], summary="项目的房屋列表")
@paginate(LimitOffsetPagination)
def list_rooms(request: HttpRequest, project_id: int, building: str | None = None):
    obj = access_project(request.user, project_id)
    rooms = Room.objects.filter(project=obj).select_related("building", "unit").order_by("code")
    if building:
        rooms = rooms.filter(building__code=building)
    return rooms


@router.get("/rooms/{room_id}", response=HouseholdOut, summary="一户一档")
def get_household(request: HttpRequest, room_id: int):
    data = household_file(room_id, project_ids_for(request.user))
    if data is None:
        raise NotInScope("房屋不存在或不在您的项目范围内。")
    project_id = data.room.project_id
    show_phones = can_see_phones(request.user, project_id)
    show_ids = can_see_id_numbers(request.user, project_id)
    people = [
        PersonOut(
            id=o.person.id,
            name=o.person.name,
            role=o.role,
            is_payer=o.is_payer,
            id_number=o.person.id_number if show_ids else mask_id_number(o.person.id_number),
            written_contact_only=o.person.written_contact_only,
            preferred_contact_times=o.person.preferred_contact_times,
            phones=[
                PhoneOut(
                    number=ph.number if show_phones else mask_phone(ph.number),
                    label=ph.label,
                    validity=ph.validity,
                )
                for ph in o.person.phones.all()
            ],
        )
        for o in data.current
    ]
    return HouseholdOut(
        room=data.room,
        payer=data.payer.name if data.payer else None,
        people=people,
        open_legacy_issues=data.open_issue_count,
        open_tickets=data.open_ticket_count,
    )
