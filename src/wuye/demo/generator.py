"""A realistic demo community (SPEC §2), fast enough for 100,000 rooms.

Everything is decided in Python from one ``random.Random(seed)`` (names come from Faker's zh_CN lists,
drawn with that generator) and written in bulk in one transaction: ``bulk_create`` for the small
tables, ``insert_rows`` (the same rows without the ORM's per-value cost) for the big ones. Search keys
come from the registry's own key functions (``room_search_keys``, ``person_search_keys``,
``phone_search_key``), so the rows are what the services would have written. One summary audit entry
records the run, not one entry per row. Planner statistics are refreshed at the end (``ANALYZE``).

Same seed, same rooms, names, phones and ID numbers. Dates are relative to ``today`` (the demo always
looks current), so they move with the day the data is generated.
"""

from __future__ import annotations

import datetime as dt
import gc
import itertools
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Model
from django.test.utils import override_settings
from django.utils import timezone
from faker import Faker
from stdnum.cn import ric, uscc

from wuye.core.audit import audit_record
from wuye.core.errors import ValidationFailed
from wuye.core.models import Company, Membership, Project, User
from wuye.core.roles import Role
from wuye.core.sql import insert_rows
from wuye.demo.bank_demo import BankDemo
from wuye.demo.dunning_history import DunningHistory
from wuye.demo.history import (
    AUTO_HISTORY_MAX_ROOMS,
    DEFAULT_MONTHS,
    History,
    analyze_ledger,
)
from wuye.dunning.daily_run import dunning_run
from wuye.messaging.models import LetterSettings
from wuye.registry.enums import (
    IdType,
    IssueState,
    OccupancyRole,
    OccupancyState,
    ParkingKind,
    PersonKind,
    PhoneLabel,
    PhoneValidity,
    ResponsibleParty,
    RoomUse,
    TicketCategory,
    TicketState,
)
from wuye.registry.models import (
    Building,
    LegacyIssue,
    LegacyIssueEvent,
    Occupancy,
    ParkingSpace,
    Person,
    Phone,
    Room,
    ServiceTicket,
    Unit,
)
from wuye.registry.normalize import room_code
from wuye.registry.services import person_search_keys, phone_search_key, room_search_keys
from wuye.reports.summary_refresh import refresh as report_summary_refresh
from wuye.scoring.services import score_project, scoring_train

DEMO_COMPANY_NAME = "示范物业服务有限公司"
DEMO_COMPANY_SHORT_NAME = "示范物业"
# Every demo login uses this password; it is printed by the command and documented. It passes the
# password validators (AUTH_PASSWORD_VALIDATORS: 10+ characters, not common, not all digits), and
# the command tells users to change it before real use.
DEMO_PASSWORD = "wuye-demo-2026"  # noqa: S105


@dataclass(frozen=True)
class StaffSpec:
    username: str
    display_name: str
    role: Role
    company_wide: bool = False
    superuser: bool = False


STAFF = (
    StaffSpec("admin", "系统管理员", Role.COMPANY_ADMIN, company_wide=True, superuser=True),
    StaffSpec("manager", "王建国", Role.PROJECT_MANAGER),
    StaffSpec("supervisor", "李秀梅", Role.SUPERVISOR),
    StaffSpec("steward1", "张伟", Role.STEWARD),
    StaffSpec("steward2", "刘芳", Role.STEWARD),
    StaffSpec("steward3", "陈磊", Role.STEWARD),
    StaffSpec("cashier", "赵丽", Role.CASHIER),
    StaffSpec("finance", "孙静", Role.FINANCE, company_wide=True),
    StaffSpec("legal", "周明", Role.LEGAL, company_wide=True),
)


# A steward (管家) looks after about this many households; a large demo gets steward4, steward5, …
# beside the three named ones, so that each login's list of today's calls is a person's day, not a
# third of a city (the load test's 200 stewards at 100,000 rooms).
HOUSEHOLDS_PER_STEWARD = 600
EXTRA_STEWARD_NAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"


def staff_for(rooms: int) -> tuple[StaffSpec, ...]:
    """The demo's logins for a demo of ``rooms`` rooms: STAFF, and more stewards when it is large."""
    named = sum(1 for spec in STAFF if spec.role == Role.STEWARD)
    extra = max(0, rooms // HOUSEHOLDS_PER_STEWARD - named)
    return STAFF + tuple(
        StaffSpec(
            f"steward{named + 1 + i}",
            f"{EXTRA_STEWARD_NAMES[i % len(EXTRA_STEWARD_NAMES)]}管家{named + 1 + i}号",
            Role.STEWARD,
        )
        for i in range(extra)
    )


def demo_logins() -> list[tuple[str, str, str]]:
    """(username, password, role) of the named demo logins, for the command to print."""
    return [(s.username, DEMO_PASSWORD, str(s.role.label)) for s in STAFF]


def demo_exists() -> bool:
    return Company.objects.filter(name=DEMO_COMPANY_NAME).exists()


def flush_database() -> None:
    """Empties every table (``manage.py flush``): the only way to remove the append-only audit trail,
    because TRUNCATE on PostgreSQL and DELETE on SQLite are not refused by its triggers."""
    call_command("flush", interactive=False, verbosity=0)


# What the counts (keyed by model name) are called when printed.
COUNT_LABELS = {
    "company": "物业公司",
    "project": "项目",
    "user": "登录账号",
    "membership": "项目成员",
    "building": "楼栋",
    "unit": "单元",
    "room": "房屋",
    "person": "客户",
    "phone": "电话",
    "occupancy": "房屋关系",
    "parkingspace": "车位",
    "legacyissue": "历史遗留问题",
    "legacyissueevent": "遗留问题记录",
    "serviceticket": "报修/投诉",
    "auditentry": "操作日志",
    "feeitem": "收费项目",
    "latefeerule": "滞纳金规则",
    "lprrate": "LPR",
    "payaheadrule": "预交优惠",
    "sharedcharge": "公摊登记",
    "billingrun": "计费批次",
    "account": "缴费账户",
    "bill": "账单",
    "billadjustment": "账单调整",
    "payment": "收款",
    "allocation": "核销",
    "prepaidmovement": "预存款变动",
    "paymentreversal": "收款冲红",
    "refund": "退款",
    "invoicerequest": "开票申请",
    "receiptprint": "收据打印",
    "cashierclosing": "日结",
}


def analyze_registry() -> None:
    """Refreshes the planner statistics of the registry tables after a bulk load.

    Without them SQLite, which never gathers statistics by itself, prefers the ``project_id`` index
    (it guesses ten rows per value) to the search-key ranges and reads the whole project on every
    keystroke (see docs/operations/benchmarks.md); PostgreSQL guesses too until autovacuum has
    analysed the new rows.
    """
    models = [
        Building,
        Unit,
        Room,
        Person,
        Phone,
        Occupancy,
        ParkingSpace,
        LegacyIssue,
        ServiceTicket,
    ]
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def analyze_everything() -> None:
    """Statistics for every table the demo filled, the cases and report summaries included.

    Rows written in bulk have none until autovacuum's analyse comes round (never, where it is off):
    at 100,000 rooms PostgreSQL then guessed ten open cases for 40,000 and 经营看板 took 50 s on a
    nested loop instead of 1 s (docs/operations/load-test.md)."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


@dataclass
class DemoOptions:
    rooms: int = 2000
    projects: int = 1
    seed: int = 42
    today: dt.date | None = None
    months: int | None = None  # of bills and payments; None: 36, or 0 above 10,000 rooms

    def check(self) -> None:
        """Raises ``ValueError`` (in Chinese) when the options cannot make a demo."""
        if self.projects < 1:
            raise ValueError("项目数至少为 1")
        if self.rooms < 20 * self.projects:
            raise ValueError("每个项目至少 20 间房")
        if self.months is not None and not 0 <= self.months <= 120:
            raise ValueError("账单月数须在 0 到 120 之间")

    def history_months(self) -> int:
        if self.months is not None:
            return self.months
        return DEFAULT_MONTHS if self.rooms <= AUTO_HISTORY_MAX_ROOMS else 0


@dataclass
class DemoResult:
    counts: dict[str, int]
    seconds: float
    projects: list[str] = field(default_factory=list)


DEFERRED_HOOKS = (
    "WUYE_AFTER_PAYMENT",
    "WUYE_AFTER_PAYMENTS",
    "WUYE_AFTER_CONTACT",
    "WUYE_AFTER_BILLING_RUN",
)


def generate(options: DemoOptions, progress: Callable[[str], None] | None = None) -> DemoResult:
    """Writes the demo company into an empty database (see ``demo_exists``) in one transaction."""
    options.check()
    started = time.perf_counter()
    generator = _Generator(options, progress or (lambda _line: None), started)
    # Hundreds of thousands of short-lived objects: the cyclic collector only slows this down.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        # The generator brings every household up to date itself at its end (dunning run, credit
        # files, alerts, scores); the per-payment and per-contact hooks would redo that work once per
        # row after the commit — minutes for a few thousand payments.
        with override_settings(**{name: [] for name in DEFERRED_HOOKS}), transaction.atomic():
            generator.run()
    finally:
        if gc_was_enabled:
            gc.enable()
    analyze_registry()
    if options.history_months():
        analyze_ledger()
    generator.log("已更新查询统计信息（ANALYZE）")
    if options.history_months():
        refreshed = report_summary_refresh(full=True)
        generator.log(f"报表汇总表：已汇总 {sum(refreshed.added.values()):,} 行账务记录")
    analyze_everything()
    generator.log("已更新全部表的查询统计信息（ANALYZE）")
    return DemoResult(
        counts=generator.counts,
        seconds=time.perf_counter() - started,
        projects=generator.project_names,
    )


# --- what the demo is made of --------------------------------------------------------------------

PROJECT_NAMES = [
    "锦绣花园",
    "翠湖苑",
    "阳光新城",
    "御景湾",
    "金色家园",
    "滨江名苑",
    "紫荆雅居",
    "碧水蓝湾",
    "书香门第",
    "东方丽景",
    "枫林绿洲",
    "海棠华府",
]
CITY = "深圳市"
CITY_AREA_CODE = "0755"
PLATE_PREFIX = "粤B"
DISTRICTS = ["南山区", "福田区", "龙岗区", "宝安区", "龙华区", "罗湖区"]
ROADS = [
    "深南大道",
    "滨海大道",
    "北环大道",
    "香蜜湖路",
    "科苑路",
    "南海大道",
    "龙岗大道",
    "宝安大道",
    "新湖路",
    "民治大道",
    "梅林路",
    "沙河西路",
    "华强北路",
    "红荔路",
    "莲花路",
    "侨香路",
    "留仙大道",
    "创业路",
    "桃园路",
    "布吉路",
]
OTHER_CITIES = [
    ("湖南省长沙市", ["岳麓区", "芙蓉区", "雨花区"], ["麓山南路", "五一大道", "韶山北路"]),
    ("广东省广州市", ["天河区", "越秀区", "海珠区"], ["天河路", "中山五路", "江南大道"]),
    ("湖北省武汉市", ["武昌区", "江汉区", "洪山区"], ["中南路", "解放大道", "珞喻路"]),
    ("江西省赣州市", ["章贡区", "南康区"], ["红旗大道", "文清路"]),
    ("北京市", ["朝阳区", "海淀区"], ["建国路", "中关村大街"]),
    ("上海市", ["浦东新区", "徐汇区"], ["世纪大道", "漕溪北路"]),
    ("广东省梅州市", ["梅江区", "梅县区"], ["江南路", "彬芳大道"]),
    ("四川省成都市", ["武侯区", "锦江区"], ["人民南路", "春熙路"]),
]
# Counties that stdnum's cn.ric accepts for every birth year used below (1950–2003).
ID_AREA_CODES = [
    "110101",
    "110105",
    "110108",
    "120101",
    "140121",
    "150121",
    "210122",
    "222401",
    "230722",
    "310101",
    "310104",
    "330122",
    "340121",
    "340221",
    "350121",
    "360121",
    "360122",
    "422822",
    "430121",
    "430122",
    "430221",
    "440221",
    "510121",
    "510122",
    "520201",
    "530121",
    "610321",
    "620121",
    "640121",
    "650121",
]
MOBILE_PREFIXES = [
    "130", "131", "132", "133", "135", "136", "137", "138", "139",
    "150", "151", "152", "153", "155", "156", "157", "158", "159",
    "173", "175", "176", "177", "178",
    "180", "181", "182", "183", "185", "186", "187", "188", "189",
    "191", "193", "195", "198", "199",
]  # fmt: skip
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
PLATE_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"

# Typical flat sizes (m² gross) and how often they occur.
HOME_LAYOUTS = [56, 72, 89, 98, 105, 118, 128, 143, 165, 178]
HOME_LAYOUT_WEIGHTS = [5, 10, 18, 14, 10, 13, 11, 9, 6, 4]
FLOOR_CHOICES = [11, 11, 12, 15, 17, 18, 18, 24, 26, 28, 32, 33]
PER_FLOOR_CHOICES = [2, 2, 2, 3, 4]
NAME_POOL_SIZE = 30_000
BATCH_SIZE = 1000

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


@dataclass
class _BuildingPlan:
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
class _RoomPlan:
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


@dataclass
class _PersonPlan:
    fields: dict[str, Any]  # a Person row, attname → value
    phones: list[tuple[str, str, str, dt.datetime | None, str]] = field(default_factory=list)


class _Generator:
    def __init__(self, options: DemoOptions, progress: Callable[[str], None], started: float):
        self.options = options
        self.progress = progress
        self.started = started
        self.rng = random.Random(options.seed)
        self.today = options.today or timezone.localdate()
        self.tz = timezone.get_current_timezone()
        self.counts: dict[str, int] = {}
        self.project_names: list[str] = []
        self.used_numbers: set[str] = set()
        self.used_ids: set[str] = set()
        self.keys_cache: dict[str, dict[str, str]] = {}
        faker = Faker("zh_CN")
        faker.seed_instance(options.seed)
        provider = faker.provider("faker.providers.person")
        self.surnames = list(provider.last_names)
        self.surname_weights = list(itertools.accumulate(provider.last_names.values()))
        self.given_male = list(provider.first_names_male)
        self.given_female = list(provider.first_names_female)
        self.companies = list(dict.fromkeys(faker.company() for _ in range(600)))
        self.given_pool = {"m": self._given_pool("m"), "f": self._given_pool("f")}
        # People are drawn from a fixed pool of names, as many share a name in real life (王伟, 李静);
        # it also bounds the pinyin work, the slowest part of making a person.
        pool_size = min(NAME_POOL_SIZE, 2 * options.rooms + 1000)
        self.name_pool = [self._new_name() for _ in range(pool_size)]
        self.pool_by_surname: dict[str, list[tuple[str, str]]] = {}
        for entry in self.name_pool:
            self.pool_by_surname.setdefault(_surname(entry[0]), []).append(entry)

    # --- helpers ---------------------------------------------------------------------------------

    def log(self, line: str) -> None:
        self.progress(f"[{time.perf_counter() - self.started:6.1f}s] {line}")

    def open_arrears_cases(self, projects: list[Project], users: dict[str, User]) -> None:
        """Today's dunning run, as the supervisor would start it, so the case list and each
        steward's list of today's calls are filled from the demo's arrears."""
        for project in projects:
            result = dunning_run(project=project, user=users["supervisor"])
            self.count("催缴案件", result.opened + result.reopened)
            self.log(f"{project.name}：催缴日跑批，开案 {result.opened + result.reopened} 件")

    def bank_money(self, project: Project, users: dict[str, User]) -> None:
        """Two months of bank statements and a withholding month for the first project
        (wuye.demo.bank_demo); then the dunning run again, as after the day's bank postings, so
        the households the bank paid leave today's list."""
        BankDemo(users=users, seed=self.options.seed, log=self.log, count=self.count).run(project)
        result = dunning_run(project=project, user=users["supervisor"])
        self.log(f"{project.name}：银行入账后催缴跑批，结案 {result.closed} 件")

    def train_scoring(self, projects: list[Project], users: dict[str, User]) -> None:
        """Each project's collection-priority model, trained on the history just written, so the
        demo's 今日催缴 comes in model order (the cold-start order when the history is too short)."""
        for project in projects:
            try:
                model = scoring_train(project=project, user=users["manager"], score=False)
            except ValidationFailed as exc:
                self.log(f"{project.name}：{exc.message}")
            else:
                b = model.baseline
                self.log(
                    f"{project.name}：催缴优先级模型 AUC {model.auc:.3f}，前20%联系回收 "
                    f"模型 ¥{b['model']:,.0f} / 按金额 ¥{b['amount']:,.0f}"
                    + ("" if model.is_active else "（未优于按金额排序，未启用）")
                )
            score_project(project_id=project.pk)

    def raise_alerts(self, projects: list[Project]) -> None:
        """Today's early warnings and pre-due reminders and thanks, as the daily tasks would run
        them (the reminders at 10:00, inside the message window), so the demo's 预警 page and the
        households' message lists are filled."""
        from wuye.alerts.courtesy import courtesy_run
        from wuye.alerts.early_warnings import warnings_run
        from wuye.credit.models import CreditFile
        from wuye.credit.services import credit_recompute

        ten = timezone.make_aware(dt.datetime.combine(self.today, dt.time(10)))
        for project in projects:
            # Reliable payers, broken promises and the thanking strategy come from credit files.
            if not CreditFile.objects.filter(project=project).exists():
                credit_recompute(project=project, on=self.today)
            raised = warnings_run(project=project, on=self.today)
            sent = courtesy_run(project=project, on=self.today, now=ten)
            self.count("预警", raised.total)
            self.count("提醒与感谢短信", sent.reminders + sent.thanks)
            self.log(
                f"{project.name}：预警 {raised.total} 条，到期前提醒 {sent.reminders} 户，"
                f"缴费感谢 {sent.thanks} 户"
            )

    def count(self, key: str, n: int) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def insert(self, model: type[Model], objs: Sequence[Model]) -> None:
        """``bulk_create`` in slices; primary keys are set on the objects (RETURNING on both databases)."""
        # On SQLite Django lowers the batch further, to stay under 999 parameters a statement.
        model.objects.bulk_create(objs, batch_size=BATCH_SIZE)
        self.count(model._meta.model_name, len(objs))

    def insert_rows(self, model: type[Model], rows: list[dict[str, Any]]) -> list[int]:
        ids = insert_rows(model, rows)
        self.count(model._meta.model_name, len(rows))
        return ids

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def days_ago(self, low: int, high: int) -> dt.date:
        return self.today - dt.timedelta(days=self.rng.randint(low, high))

    def between(self, start: dt.date, end: dt.date) -> dt.date:
        if end <= start:
            return start
        return start + dt.timedelta(days=self.rng.randint(0, (end - start).days))

    def at(self, day: dt.date, hour_low: int = 8, hour_high: int = 19) -> dt.datetime:
        return dt.datetime.combine(
            day,
            dt.time(self.rng.randint(hour_low, hour_high), self.rng.randint(0, 59)),
            tzinfo=self.tz,
        )

    def _given_pool(self, gender: str) -> list[str]:
        """Given names: Faker's common ones and two-character ones made from them (张志强, 李静怡)."""
        source = self.given_male if gender == "m" else self.given_female
        singles = [n for n in source if len(n) == 1]
        pairs = {self.rng.choice(singles) + self.rng.choice(singles) for _ in range(400)}
        return source + sorted(p for p in pairs if p[0] != p[1])

    def _new_name(self) -> tuple[str, str]:
        gender = "m" if self.chance(0.5) else "f"
        surname = self.rng.choices(self.surnames, cum_weights=self.surname_weights)[0]
        return surname + self.rng.choice(self.given_pool[gender]), gender

    def name(self, surname: str | None = None) -> tuple[str, str]:
        """A name and gender (``m``/``f``); with ``surname``, someone of that family."""
        return self.rng.choice(self.pool_by_surname.get(surname or "", self.name_pool))

    def search_keys(self, name: str) -> dict[str, str]:
        keys = self.keys_cache.get(name)
        if keys is None:
            keys = self.keys_cache[name] = person_search_keys(name)
        return keys

    def mobile(self) -> str:
        while True:
            number = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if number not in self.used_numbers:
                self.used_numbers.add(number)
                return number

    def landline(self) -> str:
        while True:
            number = (
                CITY_AREA_CODE + str(self.rng.randint(2, 8)) + f"{self.rng.randrange(10**7):07d}"
            )
            if number not in self.used_numbers:
                self.used_numbers.add(number)
                return number

    def id_number(self, gender: str, born_from: int, born_to: int) -> str:
        while True:
            birth = dt.date(self.rng.randint(born_from, born_to), 1, 1) + dt.timedelta(
                days=self.rng.randint(0, 364)
            )
            sequence = self.rng.randrange(1, 999)
            if (sequence % 2 == 1) != (gender == "m"):  # odd for men, even for women
                sequence = sequence + 1 if sequence < 998 else sequence - 1
            body = f"{self.rng.choice(ID_AREA_CODES)}{birth:%Y%m%d}{sequence:03d}"
            number = body + ric.calc_check_digit(body + "0")
            if number not in self.used_ids:
                self.used_ids.add(number)
                return number

    def credit_code(self, area: str = "440300") -> str:
        body = "91" + area + "".join(self.rng.choice(USCC_CHARS) for _ in range(9))
        return body + uscc.calc_check_digit(body + "0")

    def local_address(self) -> str:
        district = self.rng.choice(DISTRICTS)
        return f"{CITY}{district}{self.rng.choice(ROADS)}{self.rng.randint(1, 399)}号"

    def other_city_address(self) -> str:
        city, districts, roads = self.rng.choice(OTHER_CITIES)
        return (
            f"{city}{self.rng.choice(districts)}{self.rng.choice(roads)}"
            f"{self.rng.randint(1, 299)}号{self.rng.randint(1, 30)}栋{self.rng.randint(101, 2802)}"
        )

    def work_address(self) -> str:
        return f"{self.local_address()} {self.rng.choice(self.companies)}"

    def phone_validity(self) -> tuple[str, dt.datetime | None, str]:
        roll = self.rng.random()
        if roll < 0.04:
            validity = self.rng.choices(
                [
                    PhoneValidity.DISCONNECTED,
                    PhoneValidity.WRONG_NUMBER,
                    PhoneValidity.NO_ANSWER,
                    PhoneValidity.POWERED_OFF,
                ],
                weights=[35, 15, 30, 20],
            )[0]
            note = {
                PhoneValidity.DISCONNECTED: "提示空号/停机",
                PhoneValidity.WRONG_NUMBER: "对方称打错了",
                PhoneValidity.NO_ANSWER: "多次拨打无人接听",
                PhoneValidity.POWERED_OFF: "多次关机",
            }[validity]
            return validity, self.at(self.days_ago(1, 365)), note
        if roll < 0.55:
            return PhoneValidity.OK, self.at(self.days_ago(1, 700)), ""
        return PhoneValidity.UNKNOWN, None, ""

    # --- the run ---------------------------------------------------------------------------------

    def run(self) -> None:
        company = Company.objects.create(
            name=DEMO_COMPANY_NAME,
            short_name=DEMO_COMPANY_SHORT_NAME,
            credit_code=self.credit_code(),
            phone="4008-123-456",
        )
        self.count("company", 1)
        projects = self.make_projects(company)
        users = self.make_staff(company, projects)
        self.log(f"公司、{len(projects)} 个项目、{len(users)} 个登录账号")
        per_project, extra = divmod(self.options.rooms, len(projects))
        for index, project in enumerate(projects):
            self.make_project_data(project, per_project + (1 if index < extra else 0), users)
        months = self.options.history_months()
        if months:
            self.log(f"账单与收款：{months} 个月")
            history = History(
                months=months,
                seed=self.options.seed,
                users=users,
                log=self.log,
                count=self.count,
                insert_rows=insert_rows,
            )
            # The services make ORM objects with reference cycles: collect them again meanwhile.
            gc.enable()
            try:
                history.run(company, projects)
            finally:
                gc.disable()
            dunning = DunningHistory(
                users=users,
                today=self.today,
                seed=self.options.seed,
                log=self.log,
                count=self.count,
            )
            dunning.open_cases_earlier(projects)
            dunning.record_contacts(projects)
            dunning.first_calls(projects)
            dunning.visit_escalated(projects)
            self.open_arrears_cases(projects, users)
            self.bank_money(projects[0], users)
            dunning.advance_stages()
            self.raise_alerts(projects)
            self.train_scoring(projects, users)
        audit_record(
            user=users["admin"],
            action="演示数据生成",
            obj=company,
            changes={
                "rooms": self.options.rooms,
                "projects": self.options.projects,
                "seed": self.options.seed,
                "months": months,
                "counts": self.counts,
            },
        )
        self.count("auditentry", 1)

    def make_projects(self, company: Company) -> list[Project]:
        projects = []
        for i in range(self.options.projects):
            base = PROJECT_NAMES[i % len(PROJECT_NAMES)]
            name = base if i < len(PROJECT_NAMES) else f"{base}{i // len(PROJECT_NAMES) + 1}期"
            district = self.rng.choice(DISTRICTS)
            projects.append(
                Project(
                    company=company,
                    code=f"P{i + 1:03d}",
                    name=name,
                    address=f"广东省{CITY}{district}{self.rng.choice(ROADS)}{self.rng.randint(1, 999)}号",
                    service_phone=f"{CITY_AREA_CODE}-{self.rng.randint(2, 8)}{self.rng.randrange(10**7):07d}",
                )
            )
        self.insert(Project, projects)
        # Who signs the lawyer letters: without a firm the system refuses to print one.
        self.insert(
            LetterSettings,
            [
                LetterSettings(
                    project=p,
                    law_firm=f"{CITY[:-1]}明理律师事务所",
                    lawyer="周律师",
                    law_firm_phone=f"{CITY_AREA_CODE}-83336666",
                )
                for p in projects
            ],
        )
        self.project_names = [p.name for p in projects]
        return projects

    def make_staff(self, company: Company, projects: list[Project]) -> dict[str, User]:
        """The demo logins; created or updated in place, so an existing ``admin`` is taken over."""
        password = make_password(DEMO_PASSWORD)  # hashed once: the hasher is slow on purpose
        users: dict[str, User] = {}
        staff = staff_for(self.options.rooms)
        for spec in staff:
            user = User.objects.filter(username=spec.username).first() or User(
                username=spec.username
            )
            user.password = password
            user.display_name = spec.display_name
            user.first_name = spec.display_name
            user.company = company
            user.company_role = spec.role if spec.company_wide else ""
            user.is_superuser = spec.superuser
            user.is_staff = spec.superuser
            user.is_active = True
            user.phone = self.mobile()
            user.save()
            users[spec.username] = user
        Membership.objects.filter(user__in=users.values(), project__in=projects).delete()
        memberships = [
            Membership(user=users[spec.username], project=project, role=spec.role)
            for project in projects
            for spec in staff
        ]
        self.insert(Membership, memberships)
        self.count("user", len(users))
        return users

    # --- one project -----------------------------------------------------------------------------

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

        people: list[_PersonPlan] = [self.developer(project)]
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

    def plan_buildings(self, n_rooms: int) -> list[_BuildingPlan]:
        """Residential towers first (numbered 1, 2, …), then apartments, offices and shops."""
        rng = self.rng
        shops = min(max(4, round(n_rooms * 0.02)), n_rooms // 5)
        apartments = round(n_rooms * 0.04) if n_rooms >= 1000 else 0
        offices = round(n_rooms * 0.02) if n_rooms >= 5000 else 0
        homes = n_rooms - shops - apartments - offices
        plans: list[_BuildingPlan] = []
        number = 0
        while homes > 0:
            number += 1
            units = rng.choice([2, 2, 2, 3])
            floors = rng.choice(FLOOR_CHOICES)
            per_floor = rng.choice(PER_FLOOR_CHOICES)
            size = min(units * floors * per_floor, homes)
            floors = -(-size // (units * per_floor))  # the last building may end on a partial floor
            plans.append(
                _BuildingPlan(
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
        for size in _split(apartments, 10 * 30):
            number += 1
            plans.append(
                _BuildingPlan(
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
        towers = _split(offices, 8 * 30)
        for i, size in enumerate(towers):
            code = "T" if len(towers) == 1 else f"T{i + 1}"
            plans.append(
                _BuildingPlan(
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
        rows = _split(
            shops, 80
        )  # a row of shops: two floors, up to 40 shops a floor (S-101 … S-240)
        for i, size in enumerate(rows):
            per_floor = max(2, -(-size // 2))
            code = "S" if len(rows) == 1 else f"S{i + 1}"
            plans.append(
                _BuildingPlan(
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
        self, plans: list[_BuildingPlan], unit_index: dict[tuple[int, str], int]
    ) -> list[_RoomPlan]:
        rng = self.rng
        rooms: list[_RoomPlan] = []
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
                            _RoomPlan(
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

    # --- people ----------------------------------------------------------------------------------

    def developer(self, project: Project) -> _PersonPlan:
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
        return _PersonPlan(
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
    ) -> _PersonPlan:
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
        plan = _PersonPlan(person)
        no_phone = {OccupancyRole.RESIDENT: 0.4, OccupancyRole.TENANT: 0.05}.get(role, 0.01)
        if not self.chance(no_phone):
            plan.phones.append((self.mobile(), PhoneLabel.MOBILE, *self.phone_validity()))
            if self.chance(0.18):
                plan.phones.append((self.mobile(), PhoneLabel.MOBILE, *self.phone_validity()))
            if role != OccupancyRole.RESIDENT and self.chance(0.08):
                label = PhoneLabel.HOME if self.chance(0.6) else PhoneLabel.WORK
                plan.phones.append((self.landline(), label, *self.phone_validity()))
        return plan

    def organisation(self, project: Project) -> _PersonPlan:
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
        return _PersonPlan(
            person,
            [
                (self.mobile(), PhoneLabel.MOBILE, *self.phone_validity()),
                (self.landline(), PhoneLabel.WORK, *self.phone_validity()),
            ],
        )

    def plan_households(
        self,
        project: Project,
        rooms: list[_RoomPlan],
        people: list[_PersonPlan],
        occupancies: list[tuple[int, int, str, dt.date | None, dt.date | None, bool]],
        owner_of: dict[int, int],
        payer_of: dict[int, int],
    ) -> None:
        """Owners, co-owners, tenants and residents of every handed-over room; exactly one current payer.

        Rooms not handed over have nobody: the developer pays for them (``room_payer``).
        """
        rng = self.rng
        investors: list[list[int]] = []  # [person index, rooms they may still buy]

        def add(plan: _PersonPlan) -> int:
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
                surname = _surname(people[owner].fields["name"]) if self.chance(0.5) else None
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

    # --- parking, legacy issues, tickets ---------------------------------------------------------

    def make_parking(
        self,
        project: Project,
        plans: list[_RoomPlan],
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
        self, project: Project, plans: list[_RoomPlan], room_ids: list[int], users: dict[str, User]
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
        plans: list[_RoomPlan],
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


def _surname(name: str) -> str:
    return name[:2] if name[:2] == "欧阳" else name[:1]


def _split(total: int, most: int) -> list[int]:
    """``total`` rooms in as few buildings of at most ``most`` as possible, sizes as even as can be."""
    if total <= 0:
        return []
    parts = -(-total // most)
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]
