"""A realistic demo community (SPEC §2), fast enough for 100,000 rooms.

Everything is decided in Python from one ``random.Random(seed)`` (names come from Faker's zh_CN lists,
drawn with that generator) and written in bulk in one transaction: ``bulk_create`` for the small
tables, ``insert_rows`` (the same rows without the ORM's per-value cost) for the big ones. Search keys
come from the registry's own key functions (``room_search_keys``, ``person_search_keys``,
``phone_search_key``), so the rows are what the services would have written. One summary audit entry
records the run, not one entry per row. Planner statistics are refreshed at the end (``ANALYZE``).

Same seed, same rooms, names, phones and ID numbers. Dates are relative to ``today`` (the demo always
looks current), so they move with the day the data is generated.

Here: the options, ``generate`` and the order of the steps. The parts: ``draws`` (everything drawn
at random), ``writer`` (bulk writes, counts, progress), ``company`` (company, projects, logins),
``registry_data`` (one project's registry, from ``rooms``, ``people`` and
``parking_issues_tickets``), ``history`` (bills and payments), ``dunning_history``, ``bank_demo``.
"""

from __future__ import annotations

import datetime as dt
import gc
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import override_settings
from django.utils import timezone

from wuye.core.audit import audit_record
from wuye.core.errors import ValidationFailed
from wuye.core.models import Company, Project, User
from wuye.core.sql import insert_rows
from wuye.demo.bank_demo import BankDemo
from wuye.demo.company import DEMO_COMPANY_NAME, DEMO_COMPANY_SHORT_NAME, CompanyMaker
from wuye.demo.draws import Draws
from wuye.demo.dunning_history import DunningHistory
from wuye.demo.history import (
    AUTO_HISTORY_MAX_ROOMS,
    DEFAULT_MONTHS,
    History,
    analyze_ledger,
)
from wuye.demo.registry_data import ProjectRegistry
from wuye.demo.writer import Writer
from wuye.dunning.daily_run import dunning_run
from wuye.registry.models import (
    Building,
    LegacyIssue,
    Occupancy,
    ParkingSpace,
    Person,
    Phone,
    Room,
    ServiceTicket,
    Unit,
)
from wuye.reports.summary_refresh import refresh as report_summary_refresh
from wuye.scoring.services import score_project, scoring_train


def flush_database() -> None:
    """Empties every table (``manage.py flush``): the only way to remove the append-only audit trail,
    because TRUNCATE on PostgreSQL and DELETE on SQLite are not refused by its triggers."""
    call_command("flush", interactive=False, verbosity=0)


# What the counts (keyed by model name) are called when printed.
COUNT_LABELS = {
    "company": "物业公司",
    "project": "项目",
    "lettersettings": "律师函设置",
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


class _Generator(CompanyMaker, ProjectRegistry):
    """The whole demo, step by step; its parts (company, registry_data with rooms, people and
    parking_issues_tickets) draw from one ``Draws`` and write through one ``Writer``."""

    def __init__(self, options: DemoOptions, progress: Callable[[str], None], started: float):
        Writer.__init__(self, progress, started)
        Draws.__init__(
            self,
            seed=options.seed,
            today=options.today or timezone.localdate(),
            rooms=options.rooms,
        )
        self.options = options
        self.project_names: list[str] = []

    # --- the run ---------------------------------------------------------------------------------

    def run(self) -> None:
        company = Company.objects.create(
            name=DEMO_COMPANY_NAME,
            short_name=DEMO_COMPANY_SHORT_NAME,
            credit_code=self.credit_code(),
            phone="4008-123-456",
        )
        self.count("company", 1)
        projects = self.make_projects(company, self.options.projects)
        self.project_names = [p.name for p in projects]
        users = self.make_staff(company, projects, self.options.rooms)
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

    # --- after the money history -----------------------------------------------------------------

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
