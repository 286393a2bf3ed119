"""Parking spaces (owned, rented, public), legacy issues (历史遗留问题) with their steps, and repair
and complaint tickets (报修/投诉) of a project."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from wuye.core.models import Project, User
from wuye.demo.draws import Draws
from wuye.demo.rooms import RoomPlan
from wuye.demo.writer import Writer
from wuye.registry.enums import (
    IssueState,
    ParkingKind,
    ResponsibleParty,
    RoomUse,
    TicketCategory,
    TicketState,
)
from wuye.registry.models import (
    LegacyIssue,
    LegacyIssueEvent,
    ParkingSpace,
    ServiceTicket,
)

PLATE_PREFIX = "粤B"
PLATE_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"

# (title, description, responsible party)
LEGACY_ISSUES = [
    ("外墙渗水", "客厅外墙雨天渗水，墙皮起鼓发霉。", ResponsibleParty.DEVELOPER),
    ("卫生间漏水至楼下", "卫生间防水层破损，楼下天花板渗水。", ResponsibleParty.OWNER),
    ("地砖空鼓开裂", "客厅地砖多处空鼓开裂，属交房质量问题。", ResponsibleParty.DEVELOPER),
    (
        "开发商承诺赠送花园未兑现",
        "购房时销售承诺赠送入户花园，交房后未兑现。",
        ResponsibleParty.DEVELOPER,
    ),
    ("车位产权纠纷", "业主认为所购车位被他人长期占用，产权存在争议。", ResponsibleParty.DEVELOPER),
    ("窗户密封不严", "铝合金窗密封条老化，刮风漏风漏雨。", ResponsibleParty.DEVELOPER),
    (
        "房屋面积与合同不符",
        "业主实测面积小于合同面积，要求开发商补差。",
        ResponsibleParty.DEVELOPER,
    ),
    ("入户门变形", "入户防盗门变形，无法正常关闭。", ResponsibleParty.DEVELOPER),
    ("电梯噪音影响休息", "夜间电梯运行噪音大，业主多次投诉。", ResponsibleParty.COMPANY),
    ("楼道照明长期损坏", "楼道声控灯损坏，维修不及时。", ResponsibleParty.COMPANY),
    ("公共区域绿化被毁", "楼前绿化带被破坏，业主要求恢复。", ResponsibleParty.COMPANY),
    ("阳台私自封闭", "业主私自封闭阳台，影响外立面，需整改。", ResponsibleParty.OWNER),
    ("楼上住户噪音扰民", "楼上住户夜间噪音，双方多次协调未果。", ResponsibleParty.OTHER),
]
ISSUE_PROGRESS_NOTES = [
    "已联系开发商工程部现场查看",
    "已报开发商，等待维修排期",
    "物业工程部已到场查看，制定维修方案",
    "已约业主协商处理方案",
]
ISSUE_RESOLVED_NOTES = [
    "维修完成，业主签字确认",
    "开发商已给予补偿，业主同意结案",
    "已整改完毕，回访业主无异议",
    "双方达成和解",
]
ISSUE_PATH = [IssueState.OPEN, IssueState.IN_PROGRESS, IssueState.RESOLVED, IssueState.CLOSED]
ISSUE_NOTES = {
    IssueState.IN_PROGRESS: ISSUE_PROGRESS_NOTES,
    IssueState.RESOLVED: ISSUE_RESOLVED_NOTES,
    IssueState.CLOSED: ["业主确认，结案"],
}

# (category, subject, description)
TICKETS = [
    (TicketCategory.REPAIR, "厨房水管漏水", "厨房洗菜盆下水管接口漏水。"),
    (TicketCategory.REPAIR, "下水道堵塞", "卫生间下水道堵塞，排水缓慢。"),
    (TicketCategory.REPAIR, "门禁卡失效", "单元门禁卡无法刷开，需重新授权。"),
    (TicketCategory.REPAIR, "入户门锁损坏", "入户门锁芯卡住，无法开锁。"),
    (TicketCategory.REPAIR, "电梯故障", "电梯停在半层，按钮无反应。"),
    (TicketCategory.REPAIR, "楼道灯不亮", "本层楼道灯不亮。"),
    (TicketCategory.REPAIR, "墙面脱落", "卧室墙面腻子脱落。"),
    (TicketCategory.REPAIR, "对讲机无法使用", "可视对讲无画面。"),
    (TicketCategory.COMPLAINT, "保洁不及时", "楼道垃圾两天未清理。"),
    (TicketCategory.COMPLAINT, "噪音扰民", "楼上装修周末早上施工。"),
    (TicketCategory.COMPLAINT, "车辆乱停放", "消防通道经常被车辆占用。"),
    (TicketCategory.COMPLAINT, "维修不及时", "报修三天无人上门。"),
    (TicketCategory.COMPLAINT, "保安服务态度差", "门岗保安态度生硬。"),
    (TicketCategory.COMPLAINT, "宠物粪便无人清理", "小区草坪宠物粪便多。"),
    (TicketCategory.SUGGESTION, "建议增设充电桩", "地下车库希望增加电动车充电桩。"),
    (TicketCategory.SUGGESTION, "建议增加儿童游乐设施", "小区儿童活动区域太小。"),
    (TicketCategory.OTHER, "咨询装修手续", "咨询装修申报需要哪些材料。"),
]
TICKET_WEIGHTS = [8, 7, 5, 4, 4, 5, 3, 3, 5, 5, 4, 4, 3, 3, 2, 1, 2]


class ParkingIssuesTickets(Draws, Writer):
    """A project's parking spaces, legacy issues (历史遗留问题, with their steps) and service tickets."""

    def make_parking(
        self,
        project: Project,
        plans: list[RoomPlan],
        room_ids: list[int],
        person_ids: list[int],
        owner_of: dict[int, int],
    ) -> None:
        rng = self.rng
        homes = [r for r, p in enumerate(plans) if p.use == RoomUse.RESIDENCE and r in owner_of]
        with_space = rng.sample(homes, k=int(len(homes) * 0.3))
        public = max(2, len(with_space) // 20)
        spaces = []
        for i in range(len(with_space) + public):
            level, zone = 1 + i // 1500, "ABCD"[(i // 300) % 4]
            space = {
                "project_id": project.pk,
                "code": f"B{level}-{i + 1:04d}",
                "location": f"地下{'一二三四五六七八九十'[min(level, 10) - 1]}层{zone}区",
                "area": Decimal(f"{rng.uniform(12, 15):.2f}"),
                "kind": ParkingKind.PUBLIC,
            }
            if i < len(with_space):
                r = with_space[i]
                space["kind"] = ParkingKind.OWNED if self.chance(0.7) else ParkingKind.RENTED
                space["room_id"] = room_ids[r]
                space["person_id"] = person_ids[owner_of[r]]
                if self.chance(0.85):
                    space["plate"] = PLATE_PREFIX + "".join(
                        rng.choice(PLATE_CHARS) for _ in range(5)
                    )
            spaces.append(space)
        self.insert_rows(ParkingSpace, spaces)

    def make_legacy_issues(
        self, project: Project, plans: list[RoomPlan], room_ids: list[int], users: dict[str, User]
    ) -> None:
        rng = self.rng
        handed = [r for r, p in enumerate(plans) if p.handed_over]
        chosen = sorted(rng.sample(handed, k=max(1, round(len(plans) * 0.02))))
        staff = [users["supervisor"], users["steward1"], users["steward2"], users["steward3"]]
        now = timezone.now()
        issues: list[dict[str, Any]] = []
        history: list[list[tuple[str, str, str, dt.datetime]]] = []
        for r in chosen:
            handover = plans[r].handover_date
            assert handover is not None
            title, description, party = rng.choice(LEGACY_ISSUES)
            state = rng.choices(ISSUE_PATH, weights=[40, 25, 25, 10])[0]
            reported = self.between(
                handover + dt.timedelta(days=15), self.today - dt.timedelta(days=10)
            )
            reported = min(reported, self.today)
            steps = [("", IssueState.OPEN, "登记", min(self.at(reported), now))]
            day = reported
            resolved_on = None
            for to_state in ISSUE_PATH[1 : ISSUE_PATH.index(state) + 1]:
                day = min(day + dt.timedelta(days=rng.randint(1, 90)), self.today)
                note = rng.choice(ISSUE_NOTES[to_state])
                steps.append((steps[-1][1], to_state, note, min(self.at(day), now)))
                if to_state == IssueState.RESOLVED:
                    resolved_on = day
            issues.append(
                {
                    "project_id": project.pk,
                    "room_id": room_ids[r],
                    "title": title,
                    "description": description,
                    "responsible_party": party,
                    "state": state,
                    "reported_on": reported,
                    "resolved_on": resolved_on,
                }
            )
            history.append(steps)
        issue_ids = self.insert_rows(LegacyIssue, issues)
        events = [
            {
                "issue_id": issue_id,
                "at": at,  # the history's own dates, not the time of the run
                "user_id": rng.choice(staff).pk,
                "from_state": from_state,
                "to_state": to_state,
                "note": note,
            }
            for issue_id, steps in zip(issue_ids, history, strict=True)
            for from_state, to_state, note, at in steps
        ]
        self.insert_rows(LegacyIssueEvent, events)

    def make_tickets(
        self,
        project: Project,
        plans: list[RoomPlan],
        room_ids: list[int],
        person_ids: list[int],
        payer_of: dict[int, int],
    ) -> None:
        rng = self.rng
        now = timezone.now()
        handed = [r for r, p in enumerate(plans) if p.handed_over]
        chosen = sorted(rng.sample(handed, k=max(1, round(len(plans) * 0.10))))
        tickets = []
        for r in chosen:
            handover = plans[r].handover_date
            assert handover is not None
            category, subject, description = rng.choices(TICKETS, weights=TICKET_WEIGHTS)[0]
            state = rng.choices(
                [
                    TicketState.CLOSED,
                    TicketState.RESOLVED,
                    TicketState.PROCESSING,
                    TicketState.OPEN,
                ],
                weights=[55, 20, 10, 15],
            )[0]
            if state in (TicketState.OPEN, TicketState.PROCESSING):
                opened = self.at(
                    self.between(max(handover, self.today - dt.timedelta(days=60)), self.today)
                )
            else:
                opened = self.at(
                    self.between(max(handover, self.today - dt.timedelta(days=3 * 365)), self.today)
                )
            opened = min(opened, now)
            closed_at = None
            satisfaction = None
            if state in (TicketState.RESOLVED, TicketState.CLOSED):
                closed_at = min(opened + dt.timedelta(hours=rng.randint(2, 24 * 20)), now)
            if state == TicketState.CLOSED:
                low = 0.35 if category == TicketCategory.COMPLAINT else 0.12
                satisfaction = (
                    rng.choice([1, 2]) if self.chance(low) else rng.choice([3, 4, 4, 5, 5, 5])
                )
            tickets.append(
                {
                    "project_id": project.pk,
                    "room_id": room_ids[r],
                    "person_id": person_ids[payer_of[r]],
                    "category": category,
                    "subject": subject,
                    "description": description,
                    "state": state,
                    "opened_at": opened,
                    "closed_at": closed_at,
                    "satisfaction": satisfaction,
                }
            )
        self.insert_rows(ServiceTicket, tickets)
