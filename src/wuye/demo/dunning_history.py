"""The demo's dunning history: four weeks of stewards' work on the arrears cases.

Four weeks ago a daily run opened cases for the households then in arrears (``open_cases_earlier``);
since then the stewards called, messaged, visited and posted notices (``record_contacts``), each contact
through ``dunning.contacts.contact_record`` with its real past time — inside the legal windows, one
call a day at most — so the guardrails, the class rules and the phone validity marks apply exactly
as at work. After today's run (``generator.open_arrears_cases``) the supervisor and the manager move a
few refusing households on to a written demand, a lawyer letter and the legal stage
(``advance_stages``). Open cases end up in every class (A–E) and every stage.

Deterministic (its own ``random.Random`` from the demo seed; cases taken in id order) and bounded:
at most ``CASES_PER_PROJECT`` cases get a history, a few contacts each, so it takes seconds.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Callable
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from wuye.core.errors import ValidationFailed
from wuye.core.models import Project, User
from wuye.dunning.contacts import contact_record
from wuye.dunning.daily_run import case_refresh_account, dunning_run
from wuye.dunning.enums import CaseState, Channel, DeliveryStatus, Stage
from wuye.dunning.legal_stage import case_set_stage
from wuye.dunning.models import ArrearsCase, ContactRecord
from wuye.dunning.selectors import overdue_by_account
from wuye.ledger.services.payments import payment_record
from wuye.registry.models import Phone

DAY = dt.timedelta(days=1)
HISTORY_DAYS = 28
CASES_PER_PROJECT = 40
# First contacts of the cases opened four weeks ago, at most, a project: what the demo's three
# steward logins call in the four days after opening at about 100 calls a day each. The default
# demo (2,000 rooms, ~250 such cases) calls every one; at 100,000 rooms (~39,000 cases) the rest
# are not contacted yet (their first-call task shows overdue), which keeps the build in minutes:
# each contact goes through ``contact_record`` and its call caps, one at a time.
FIRST_CALLS_MAX = 1_200
# Door visits of the cases the run of two weeks ago moved to the visit stage, at most, a project
# (the same three stewards, two weeks); at 100,000 rooms that run moves ~30,000 cases, whose visits
# one at a time through ``contact_record`` took over half an hour.
VISITS_MAX = 1_200

# The first scripts run once per project so every class and stage occurs; the rest repeat.
SCRIPTS_ONCE = [
    "a",
    "a_broken",
    "a_kept",
    "b_visit",
    "c",
    "d",
    "e",
    "e_demand",
    "e_lawyer",
    "e_legal",
]
SCRIPTS_REPEAT = ["a", "a", "b", "b", "c", "d", "e", "a_broken", "b"]

REFUSALS = [
    ("leak", "卫生间漏水到楼下，物业一直没修好，修好再交。"),
    ("lift", "电梯上个月坏了三天没人修，这钱我不想交。"),
    ("service_quality", "保洁太差，楼道半个月没拖。"),
    ("neighbours", "楼上楼下都没交，凭什么我交。"),
    ("developer_defect", "外墙开裂是开发商的问题，开发商不修我就不交。"),
    ("disputed_amount", "面积算错了，车位费也不该收这么多。"),
]


PROMISES = [
    "这个月工资发了就去交。",
    "下周去物业中心交。",
    "月底前转账过去。",
    "等我回来到窗口交清。",
]
NO_DATE = [
    "知道了，最近手头紧，过段时间再说。",
    "回头看看账单再说。",
    "家里商量一下。",
]


class DunningHistory:
    def __init__(
        self,
        *,
        users: dict[str, User],
        today: dt.date,
        seed: int,
        log: Callable[[str], None],
        count: Callable[[str, int], None],
    ):
        self.users = users
        self.today = today
        self.rng = random.Random(seed * 7919 + 4)
        self.log = log
        self.count = count
        self.tz = timezone.get_current_timezone()
        self.plans: dict[int, str] = {}  # case id → script

    # --- before today's run ----------------------------------------------------------------------

    def open_cases_earlier(self, projects: list[Project]) -> None:
        """The daily run of four weeks ago: the cases the stewards have been working since."""
        start = self.today - HISTORY_DAYS * DAY
        for project in projects:
            result = dunning_run(project=project, on=start, user=self.users["supervisor"])
            self.log(f"{project.name}：{start:%m-%d} 的催缴日跑批，开案 {result.opened} 件")

    def record_contacts(self, projects: list[Project]) -> None:
        for project in projects:
            cases = list(
                ArrearsCase.objects.filter(project=project, state=CaseState.OPEN)
                .select_related("account__payer", "assignee")
                .order_by("id")
            )
            # Households still in arrears today: those who paid meanwhile have no case to work.
            owing = overdue_by_account(project.pk, self.today)
            voice_ok = [
                c
                for c in cases
                if c.account_id in owing and not c.account.payer.written_contact_only
            ]
            chosen = _round_robin(voice_ok)[:CASES_PER_PROJECT]
            n = 0
            for index, case in enumerate(chosen):
                script = (
                    SCRIPTS_ONCE[index]
                    if index < len(SCRIPTS_ONCE)
                    else self.rng.choice(SCRIPTS_REPEAT)
                )
                self.plans[case.pk] = script
                try:
                    n += getattr(self, f"_script_{script}")(case)
                except ValidationFailed as exc:
                    # Paid in full between two of its contacts: the rest would be 误催.
                    if exc.code != "dunning.nothing_overdue":
                        raise
            self.count("催缴记录", n)
            self.log(f"{project.name}：{len(chosen)} 户的催缴记录 {n} 条（近 {HISTORY_DAYS} 天）")

    def first_calls(self, projects: list[Project]) -> None:
        """Every other case still owing got its first contact a few days after it opened, as the
        procedure asks (SPEC §5 step 4): most are classified, refusals carry their reason; a few
        households were still not reached. Owners who asked for written contact only got a message."""
        start = self.today - HISTORY_DAYS * DAY
        for project in projects:
            owing = overdue_by_account(project.pk, self.today)
            cases = list(
                ArrearsCase.objects.filter(project=project, state=CaseState.OPEN, opened_on=start)
                .exclude(pk__in=list(self.plans))
                .select_related("account__payer", "assignee")
                .order_by("id")
            )
            cases = [case for case in cases if case.account_id in owing]
            if len(cases) > FIRST_CALLS_MAX:
                chosen = {c.pk for c in _round_robin(cases)[:FIRST_CALLS_MAX]}
                cases = [case for case in cases if case.pk in chosen]
            n = 0
            for case in cases:
                days_ago = HISTORY_DAYS - self.rng.randint(1, 4)
                self.plans[case.pk] = "first"
                try:
                    n += self._first_contact(case, days_ago)
                except ValidationFailed as exc:
                    if exc.code != "dunning.nothing_overdue":
                        raise
            self.count("催缴记录", n)
            self.log(f"{project.name}：{n} 户的首次联系（立案后 1–4 天）")

    def _first_contact(self, case: ArrearsCase, days_ago: int) -> int:
        if case.account.payer.written_contact_only:
            self._record(
                case, days_ago, channel=Channel.SMS, reached=False, used="催费短信",
                note="业主要求仅书面联系：发送缴费提醒短信",
            )  # fmt: skip
            return 1
        roll = self.rng.random()
        if roll < 0.07:
            return 0  # not contacted yet: the task is overdue on the list, as happens
        if roll < 0.37:
            self._record(
                case,
                days_ago,
                owner_said=self.rng.choice(PROMISES),
                promise_date=self.today + self.rng.randint(-6, 20) * DAY,
                promise_amount=self._amount(case),
            )
        elif roll < 0.60:
            self._record(case, days_ago, owner_said=self.rng.choice(NO_DATE))
        elif roll < 0.74:
            reason = self.rng.choice(["no_answer", "no_answer", "powered_off"])
            self._record(case, days_ago, reached=False, unreached_reason=reason)
        elif roll < 0.79:
            self._record(case, days_ago, reached=False, unreached_reason="disconnected")
        elif roll < 0.85:
            self._record(
                case, days_ago, lives_elsewhere=True, owner_said="在外地工作，过年回来再说。"
            )
        else:
            self._refusal(case, days_ago)
        return 1

    def visit_escalated(self, projects: list[Project]) -> None:
        """A run two weeks ago moved the old debts to door visits (after their first contact); the
        stewards went to most of those doors since (SPEC §5 step 7)."""
        day = self.today - 14 * DAY
        for project in projects:
            dunning_run(project=project, on=day, user=self.users["supervisor"])
            cases = list(
                ArrearsCase.objects.filter(
                    project=project, state=CaseState.OPEN, stage=Stage.VISIT, stage_since=day
                )
                .select_related("account__payer", "assignee")
                .order_by("id")
            )
            owing = overdue_by_account(project.pk, self.today)
            n = 0
            for case in cases:
                if self.plans.get(case.pk) in ("a_broken", "a_kept", "b_visit"):
                    continue  # these scripts tell their own story
                if case.account_id not in owing or self.rng.random() < 0.2:
                    continue  # 80% visited within the 15 days; the rest are still due
                if n >= VISITS_MAX:
                    break  # the stewards' two weeks are full: the rest are not visited yet
                try:
                    n += self._visit(case, self.rng.randint(3, 12))
                except ValidationFailed as exc:
                    if exc.code != "dunning.nothing_overdue":
                        raise
            self.count("催缴记录", n)
            self.log(f"{project.name}：上门 {n} 次（{day:%m-%d} 转上门的 {len(cases)} 件中）")

    def _visit(self, case: ArrearsCase, days_ago: int) -> int:
        roll = self.rng.random()
        kwargs: dict = {"channel": Channel.VISIT_HOME, "afternoon": True, "used": "住所"}
        if roll < 0.4:
            kwargs.update(
                owner_said="当面说好了，月底前一定交。",
                promise_date=self.today + self.rng.randint(1, 20) * DAY,
                promise_amount=self._amount(case),
            )
        elif roll < 0.65:
            kwargs.update(owner_said="人在家，说再考虑考虑。")
        elif roll < 0.85:
            kwargs.update(reached=False, unreached_reason="no_answer", note="敲门无人应答")
        else:
            reason, said = self.rng.choice(REFUSALS)
            kwargs.update(refusal_reason=reason, owner_said=said)
        self._record(case, days_ago, **kwargs)
        return 1

    # --- after today's run -----------------------------------------------------------------------

    def advance_stages(self) -> None:
        """Decisions made on the case page today: visit, written demand, lawyer letter, legal."""
        supervisor, manager = self.users["supervisor"], self.users["manager"]
        steps = {
            "b_visit": [Stage.VISIT],
            "e_demand": [Stage.WRITTEN_DEMAND],
            "e_lawyer": [Stage.WRITTEN_DEMAND, Stage.LAWYER_LETTER],
            "e_legal": [Stage.WRITTEN_DEMAND, Stage.LAWYER_LETTER, Stage.LEGAL],
        }
        reasons = {
            Stage.VISIT: ("上门催缴", "电话多次沟通无进展，安排管家上门", None),
            Stage.WRITTEN_DEMAND: ("书面催告", "业主拒缴，已张贴送达书面催告", 15),
            Stage.LAWYER_LETTER: ("律师函", "书面催告期限已过仍未缴纳，委托律师发函", 15),
            Stage.LEGAL: ("法律程序", "律师函已签收且期限已过，经理批准起诉", None),
        }
        cases = ArrearsCase.objects.filter(
            pk__in=[pk for pk, s in self.plans.items() if s in steps], state=CaseState.OPEN
        ).order_by("id")
        moved = 0
        for case in cases:
            for stage in steps[self.plans[case.pk]]:
                if _after(stage, case.stage):
                    _, reason, days = reasons[stage]
                    user = manager if stage == Stage.LEGAL else supervisor
                    deadline = self.today + days * DAY if days else None
                    case = case_set_stage(
                        user=user, case=case, stage=stage, reason=reason, deadline=deadline
                    )
                    moved += 1
        self.log(f"催缴阶段推进 {moved} 次（上门、书面催告、律师函、法律程序）")

    # --- the scripts: each returns the number of contacts recorded ----------------------------

    def _at(self, days_ago: int, afternoon: bool = False) -> dt.datetime:
        # 10:xx and 15:xx fall inside both the summer and the winter windows (LAW.md §8).
        hour = 15 if afternoon else 10
        day = self.today - days_ago * DAY
        return dt.datetime.combine(day, dt.time(hour, self.rng.randint(0, 50)), tzinfo=self.tz)

    def _record(self, case: ArrearsCase, days_ago: int, **kwargs) -> None:
        at = self._at(days_ago, afternoon=kwargs.pop("afternoon", False))
        user = case.assignee or self.users["supervisor"]
        kwargs.setdefault("channel", Channel.PHONE)
        if kwargs["channel"] == Channel.PHONE and "phone" not in kwargs:
            kwargs["phone"] = self._phone(case)
        kwargs.setdefault("reached", True)
        # ``now`` just after the contact: the ledger is checked as of that day (误催), as it was then.
        record = contact_record(
            user=user, case=case, at=at, now=at + dt.timedelta(minutes=3), **kwargs
        )
        # The simulated history was entered when it happened, not all today (a late entry of a
        # delivery would need a reason and proof before the legal stage).
        ContactRecord.objects.filter(pk=record.pk).update(recorded_at=record.at)

    def _phone(self, case: ArrearsCase) -> Phone | None:
        return Phone.objects.filter(person_id=case.account.payer_id).order_by("id").first()

    def _amount(self, case: ArrearsCase) -> Decimal | None:
        return case.overdue_amount if case.overdue_amount > 0 else None

    def _script_a(self, case: ArrearsCase) -> int:
        self._record(case, 25, reached=False, unreached_reason="no_answer")
        self._record(
            case,
            self.rng.randint(1, 4),
            afternoon=True,
            owner_said="最近出差，回来就去物业中心交。",
            promise_date=self.today + self.rng.randint(3, 12) * DAY,
            promise_amount=self._amount(case),
        )
        return 2

    def _script_a_broken(self, case: ArrearsCase) -> int:
        # The promise date passed over a week ago unpaid: today's run escalates to a visit.
        self._record(
            case,
            25,
            owner_said="下周一发工资就交。",
            promise_date=self.today - 15 * DAY,
            promise_amount=self._amount(case),
        )
        return 1

    def _script_a_kept(self, case: ArrearsCase) -> int:
        self._record(case, 26, reached=False, unreached_reason="no_answer")
        self._record(
            case,
            6,
            owner_said="今天转不了账，下周到收费窗口交清。",
            promise_date=self.today,
            promise_amount=self._amount(case),
        )
        # The household keeps its word: it pays at the window today and the case closes.
        case_refresh_account(case.account, on=self.today)
        case.refresh_from_db()
        if case.is_open and case.overdue_amount > 0:
            payment_record(
                user=self.users["cashier"],
                account=case.account,
                lines=[("cash", case.overdue_amount, "")],
                include_late_fees=False,
                business_date=self.today,
                note="按承诺到窗口缴清",
            )
            case_refresh_account(case.account, on=self.today)
        return 2

    def _script_b(self, case: ArrearsCase) -> int:
        self._record(case, 25, channel=Channel.SMS, used="催费短信", note="发送缴费提醒短信")
        self._record(case, 3, afternoon=True, owner_said="知道了，这个月手头紧，过段时间再说。")
        return 2

    def _script_b_visit(self, case: ArrearsCase) -> int:
        self._record(case, 25, owner_said="考虑一下。")
        self._record(case, 8, reached=False, unreached_reason="no_answer")
        self._record(case, 2, afternoon=True, owner_said="还没想好，别老打电话。")
        return 3

    def _script_c(self, case: ArrearsCase) -> int:
        # Each dead end is marked on the number (powered off, then disconnected): class C.
        self._record(case, 25, reached=False, unreached_reason="no_answer")
        self._record(case, 10, afternoon=True, reached=False, unreached_reason="powered_off")
        self._record(case, 4, reached=False, unreached_reason="disconnected")
        return 3

    def _script_d(self, case: ArrearsCase) -> int:
        self._record(
            case,
            25,
            lives_elsewhere=True,
            owner_said="人在外地工作，年底才回来。",
            class_reason="",
        )
        self._record(
            case,
            10,
            afternoon=True,
            channel=Channel.WECHAT,
            used="微信",
            note="发送线上缴费方式（公众号缴费、银行转账账号）",
            case_class="D",
            class_reason="长期在外地，引导远程缴费",
        )
        return 2

    def _refusal(self, case: ArrearsCase, days_ago: int) -> None:
        reason, said = self.rng.choice(REFUSALS)
        self._record(case, days_ago, refusal_reason=reason, owner_said=said)

    def _script_e(self, case: ArrearsCase) -> int:
        self._record(case, 25, reached=False, unreached_reason="no_answer")
        self._refusal(case, 7)
        return 2

    def _door_notice(self, case: ArrearsCase, days_ago: int, deadline_ago: int) -> None:
        self._record(
            case,
            days_ago,
            afternoon=True,
            channel=Channel.DOOR_NOTICE,
            reached=False,
            used="户门张贴",
            delivery_status=DeliveryStatus.DELIVERED,
            delivery_ref="张贴现场照片",
            demand_deadline=self.today - deadline_ago * DAY,
            note="书面催告张贴于户门，限期缴纳；业主在回执上签收",
            attachments=[_scan("签收单.pdf")],
            attachment_kind="signed",
            case_class="E",
            class_reason="业主拒缴，已书面催告",
        )

    def _lawyer_letter(self, case: ArrearsCase, days_ago: int, deadline_ago: int) -> None:
        self._record(
            case,
            days_ago,
            channel=Channel.LAWYER_LETTER,
            reached=False,
            used="EMS 寄至房屋地址",
            delivery_status=DeliveryStatus.DELIVERED,
            delivery_ref=f"EA{self.rng.randint(10**8, 10**9 - 1)}CN",
            demand_deadline=self.today - deadline_ago * DAY,
            note="律师函已由 EMS 签收",
            attachments=[_scan("EMS签收.pdf")],
            attachment_kind="ems_slip",
            case_class="E",
            class_reason="业主拒缴，已发律师函",
        )

    def _script_e_demand(self, case: ArrearsCase) -> int:
        self._refusal(case, 25)
        self._door_notice(case, 6, deadline_ago=-9)
        return 2

    def _script_e_lawyer(self, case: ArrearsCase) -> int:
        self._refusal(case, 26)
        self._door_notice(case, 21, deadline_ago=6)
        self._lawyer_letter(case, 5, deadline_ago=-10)
        return 3

    def _script_e_legal(self, case: ArrearsCase) -> int:
        # Each demand gives the owner at least 15 days (《民法典》第九百四十四条第二款).
        self._refusal(case, 27)
        self._door_notice(case, 27, deadline_ago=12)
        self._lawyer_letter(case, 11, deadline_ago=-4)
        return 3


_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _scan(name: str) -> SimpleUploadedFile:
    """A stand-in for the scanned slip (the demo has no real paper)."""
    return SimpleUploadedFile(name, _PDF, content_type="application/pdf")


def _after(stage: str, current: str) -> bool:
    order = [s.value for s in Stage]
    return order.index(stage) > order.index(current)


def _round_robin(cases: list[ArrearsCase]) -> list[ArrearsCase]:
    """One case of each steward in turn, so every steward has a history (cases stay in id order)."""
    queues: dict[int | None, list[ArrearsCase]] = {}
    for case in cases:
        queues.setdefault(case.assignee_id, []).append(case)
    ordered = []
    for layer in itertools.zip_longest(*queues.values()):
        ordered.extend(c for c in layer if c is not None)
    return ordered
