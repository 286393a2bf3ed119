"""The people of a project: the developer, owners, co-owners, tenants and residents with their
ID numbers, addresses and phones, and their ties to the rooms (exactly one current payer a room)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from wuye.core.models import Project
from wuye.demo.draws import Draws, surname_of
from wuye.demo.rooms import RoomPlan
from wuye.registry.enums import (
    IdType,
    OccupancyRole,
    OccupancyState,
    PersonKind,
    PhoneLabel,
    PhoneValidity,
    RoomUse,
)

CONTACT_TIMES = [
    "早出晚归，晚上7点后",
    "工作日白天不方便，周末可联系",
    "上午10点前",
    "中午12点至1点",
    "晚上8点后",
    "只接短信，勿电话",
    "周末上午",
    "下午3点后",
]
PERSON_NOTES = [
    "常年在外地工作",
    "老人独居，可联系其女儿",
    "房屋由亲戚代管",
    "对物业服务意见较大",
    "做生意，经常出差",
    "要求缴费前先电话通知",
    "曾反映电梯噪音问题",
    "由中介代为出租",
]
RESIDENT_NOTES = ["业主父母", "业主子女", "业主亲属", "保姆"]


@dataclass
class PersonPlan:
    fields: dict[str, Any]  # a Person row, attname → value
    phones: list[tuple[str, str, str, dt.datetime | None, str]] = field(default_factory=list)


class PeoplePlanner(Draws):
    """Owners (people, companies, investors with several flats), co-owners, tenants, residents and
    the developer, with their phones; who pays for each room."""

    def developer(self, project: Project) -> PersonPlan:
        name = f"{project.name[:2]}置业发展有限公司"
        person = dict(
            project_id=project.pk,
            kind=PersonKind.ORGANISATION,
            name=name,
            is_developer=True,
            id_type=IdType.CREDIT_CODE,
            id_number=self.credit_code(),
            work_address=self.local_address(),
            mailing_address=self.local_address(),
            notes="开发建设单位：未收楼房屋的物业费由其承担。对接人：开发商客服部刘经理",
            **self.search_keys(name),
        )
        checked = self.at(self.days_ago(1, 90))
        return PersonPlan(
            person,
            [
                (self.landline(), PhoneLabel.WORK, PhoneValidity.OK, checked, "开发商客服部"),
                (self.mobile(), PhoneLabel.MOBILE, PhoneValidity.OK, checked, "刘经理"),
            ],
        )

    def individual(
        self,
        project: Project,
        role: str,
        *,
        surname: str | None = None,
        lives_elsewhere: bool = False,
    ) -> PersonPlan:
        rng = self.rng
        name, gender = self.name(surname)
        if role in (OccupancyRole.OWNER, OccupancyRole.CO_OWNER):
            id_chance, born = 0.9, (1950, 1995)
        elif role == OccupancyRole.TENANT:
            id_chance, born = 0.6, (1970, 2003)
        else:
            id_chance, born = 0.25, (1950, 2003)
        id_type, id_number = IdType.ID_CARD, ""
        roll = rng.random()
        if roll < 0.01:
            id_type = IdType.HK_MO_TW
            id_number = rng.choice("HM") + f"{rng.randrange(10**8):08d}"
        elif roll < 0.015:
            id_type = IdType.PASSPORT
            id_number = "E" + f"{rng.randrange(10**8):08d}"
        elif roll < id_chance:
            id_number = self.id_number(gender, *born)
        home = ""
        mailing = ""
        if lives_elsewhere:
            home = self.other_city_address() if self.chance(0.3) else self.local_address()
            if self.chance(0.4):
                mailing = self.other_city_address()
        elif self.chance(0.04):
            mailing = self.other_city_address()
        owner = role == OccupancyRole.OWNER
        person = dict(
            project_id=project.pk,
            kind=PersonKind.INDIVIDUAL,
            name=name,
            id_type=id_type,
            id_number=id_number,
            home_address=home,
            work_address=self.work_address() if self.chance(0.25) else "",
            mailing_address=mailing,
            preferred_contact_times=rng.choice(CONTACT_TIMES) if self.chance(0.12) else "",
            written_contact_only=owner and self.chance(0.01),
            notes=rng.choice(PERSON_NOTES) if owner and self.chance(0.04) else "",
            **self.search_keys(name),
        )
        plan = PersonPlan(person)
        no_phone = {OccupancyRole.RESIDENT: 0.4, OccupancyRole.TENANT: 0.05}.get(role, 0.01)
        if not self.chance(no_phone):
            plan.phones.append((self.mobile(), PhoneLabel.MOBILE, *self.phone_validity()))
            if self.chance(0.18):
                plan.phones.append((self.mobile(), PhoneLabel.MOBILE, *self.phone_validity()))
            if role != OccupancyRole.RESIDENT and self.chance(0.08):
                label = PhoneLabel.HOME if self.chance(0.6) else PhoneLabel.WORK
                plan.phones.append((self.landline(), label, *self.phone_validity()))
        return plan

    def organisation(self, project: Project) -> PersonPlan:
        name = self.rng.choice(self.companies)
        contact, _gender = self.name()
        person = dict(
            project_id=project.pk,
            kind=PersonKind.ORGANISATION,
            name=name,
            id_type=IdType.CREDIT_CODE,
            id_number=self.credit_code(),
            work_address=self.local_address(),
            notes=f"联系人：{contact}",
            **self.search_keys(name),
        )
        return PersonPlan(
            person,
            [
                (self.mobile(), PhoneLabel.MOBILE, *self.phone_validity()),
                (self.landline(), PhoneLabel.WORK, *self.phone_validity()),
            ],
        )

    def plan_households(
        self,
        project: Project,
        rooms: list[RoomPlan],
        people: list[PersonPlan],
        occupancies: list[tuple[int, int, str, dt.date | None, dt.date | None, bool]],
        owner_of: dict[int, int],
        payer_of: dict[int, int],
    ) -> None:
        """Owners, co-owners, tenants and residents of every handed-over room; exactly one current payer.

        Rooms not handed over have nobody: the developer pays for them (``room_payer``).
        """
        rng = self.rng
        investors: list[list[int]] = []  # [person index, rooms they may still buy]

        def add(plan: PersonPlan) -> int:
            people.append(plan)
            return len(people) - 1

        for r, room in enumerate(rooms):
            if not room.handed_over:
                continue
            assert room.handover_date is not None
            lives_elsewhere = room.state in (OccupancyState.VACANT, OccupancyState.RENTED)
            commercial = room.use in (RoomUse.SHOP, RoomUse.OFFICE)
            if investors and self.chance(0.25 if lives_elsewhere else 0.03):
                slot = rng.randrange(len(investors))
                owner = investors[slot][0]
                investors[slot][1] -= 1
                if investors[slot][1] == 0:
                    investors.pop(slot)
            elif commercial and self.chance(0.3):
                owner = add(self.organisation(project))
            else:
                investor = self.chance(0.05)
                owner = add(
                    self.individual(
                        project, OccupancyRole.OWNER, lives_elsewhere=lives_elsewhere or investor
                    )
                )
                if investor:
                    investors.append([owner, rng.choice([1, 1, 2])])
            owner_of[r] = owner
            owner_since = room.handover_date
            # A resale: the first owner's tie has ended, the new owner pays from the transfer.
            if (self.today - room.handover_date).days > 730 and self.chance(0.03):
                first = add(self.individual(project, OccupancyRole.OWNER, lives_elsewhere=True))
                sold_on = self.between(
                    room.handover_date + dt.timedelta(days=365), self.today - dt.timedelta(days=60)
                )
                occupancies.append(
                    (r, first, OccupancyRole.OWNER, room.handover_date, sold_on, True)
                )
                owner_since = sold_on + dt.timedelta(days=1)
            payer = owner
            occupancies_of_room = [(owner, OccupancyRole.OWNER)]
            if people[owner].fields["kind"] == PersonKind.INDIVIDUAL and self.chance(0.15):
                occupancies_of_room.append(
                    (
                        add(
                            self.individual(
                                project, OccupancyRole.CO_OWNER, lives_elsewhere=lives_elsewhere
                            )
                        ),
                        OccupancyRole.CO_OWNER,
                    )
                )
            for person, role in occupancies_of_room:
                occupancies.append((r, person, role, owner_since, None, False))
            if room.state == OccupancyState.RENTED:
                tenant = add(self.individual(project, OccupancyRole.TENANT))
                start = self.between(
                    max(owner_since + dt.timedelta(days=30), self.today - dt.timedelta(days=730)),
                    self.today - dt.timedelta(days=15),
                )
                tenant_pays = self.chance(0.4)
                occupancies.append((r, tenant, OccupancyRole.TENANT, start, None, tenant_pays))
                if tenant_pays:
                    payer = tenant
            elif room.state == OccupancyState.OCCUPIED and not commercial and self.chance(0.35):
                surname = surname_of(people[owner].fields["name"]) if self.chance(0.5) else None
                resident = add(self.individual(project, OccupancyRole.RESIDENT, surname=surname))
                people[resident].fields["notes"] = rng.choice(RESIDENT_NOTES)
                occupancies.append((r, resident, OccupancyRole.RESIDENT, owner_since, None, False))
            if payer == owner:
                # Mark the owner's current row (appended above) as the payer.
                for i in range(len(occupancies) - 1, -1, -1):
                    o = occupancies[i]
                    if o[0] == r and o[1] == owner and o[4] is None:
                        occupancies[i] = (*o[:5], True)
                        break
            payer_of[r] = payer
