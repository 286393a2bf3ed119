"""``manage.py demo_data``: load the demo company (see docs/operations/demo-data.md)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from wuye.core.models import Company, User
from wuye.core.roles import Role
from wuye.demo.company import DEMO_COMPANY_NAME, DEMO_PASSWORD, STAFF, demo_exists, demo_logins
from wuye.demo.generator import COUNT_LABELS, DemoOptions, flush_database, generate
from wuye.demo.plans import make_plans


class Command(BaseCommand):
    help = (
        "生成演示数据：示范物业公司、小区、楼栋、房屋、业主、电话、房屋关系、车位、历史遗留问题、报修投诉、"
        "演示账号，以及收费项目和截至本月的逐月账单、收款、预存款、冲红、退款、日结。已有演示数据时不做任何事；--reset 先清空整个数据库（flush）再生成。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--rooms", type=int, default=2000, help="房屋总数（默认 2000）")
        parser.add_argument(
            "--projects", type=int, default=1, help="项目数，房屋平均分配（默认 1）"
        )
        parser.add_argument(
            "--seed", type=int, default=42, help="随机种子，同一种子生成同样的数据（默认 42）"
        )
        parser.add_argument(
            "--months",
            type=int,
            default=None,
            help="账单与收款历史的月数，截至本月（默认 36；超过 10000 间房时默认 0，即只生成房屋档案）",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="先清空整个数据库（所有表，包括非演示数据和操作日志）再生成",
        )

    def handle(self, *args, rooms, projects, seed, reset, months=None, **options):
        demo = DemoOptions(rooms=rooms, projects=projects, seed=seed, months=months)
        try:
            demo.check()
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if reset:
            self.stdout.write("清空数据库（flush）…")
            flush_database()
        elif demo_exists():
            self.stdout.write(
                f"演示数据已存在（{DEMO_COMPANY_NAME}），未做改动。要重新生成请加 --reset（会清空整个数据库）。"
            )
            self.print_logins()
            return
        self.stdout.write(
            f"生成演示数据：{rooms} 间房，{projects} 个项目，随机种子 {seed}，"
            f"{demo.history_months()} 个月账单与收款"
        )
        result = generate(demo, progress=self.stdout.write)
        self.make_plans()
        self.stdout.write("项目：" + "、".join(result.projects))
        self.stdout.write(
            "合计：" + "，".join(f"{COUNT_LABELS.get(k, k)} {v}" for k, v in result.counts.items())
        )
        self.stdout.write(self.style.SUCCESS(f"完成，用时 {result.seconds:.1f} 秒"))
        self.print_logins()

    def make_plans(self):
        company = Company.objects.get(name=DEMO_COMPANY_NAME)
        admin = User.objects.get(username="admin")  # the plan records who made it
        plans = make_plans(company=company, user=admin, today=timezone.localdate())
        if plans:
            self.stdout.write(
                f"收费计划：{len(plans)} 个项目的本年度计划（约为全年应收本金的 95%，按月分解）"
            )

    def print_owner_link(self):
        """A household that owes, and its owner page: a newcomer opens it as the owner would."""
        from wuye.dunning.models import ArrearsCase
        from wuye.owner import links

        case = (
            ArrearsCase.objects.filter(
                state="open",
                project__company__name=DEMO_COMPANY_NAME,
                account__payer__phones__isnull=False,
            )
            .select_related("account__room")
            .order_by("id")
            .first()
        )
        if case is None:
            return
        self.stdout.write(
            f"业主自助缴费（{case.account.room.code} 户的专属链接，手机打开；验证码在“短信发件箱”中查看）："
        )
        self.stdout.write(f"  {links.url_for(links.link_for(case.account))}")

    def print_logins(self):
        self.print_owner_link()
        self.stdout.write(f"演示账号（密码均为 {DEMO_PASSWORD}）：")
        for username, password, role in demo_logins():
            self.stdout.write(f"  {username:<11} {password:<10} {role}")
        # The stewards a large demo added (staff_for), read from the database: the demo that exists
        # may have been made with another --rooms than this command's.
        named = [spec.username for spec in STAFF if spec.role == Role.STEWARD]
        extra = (
            User.objects.filter(username__regex=r"^steward[0-9]+$")
            .exclude(username__in=named)
            .count()
        )
        if extra:
            self.stdout.write(
                f"  steward{len(named) + 1} … steward{len(named) + extra}"
                f"（共 {extra} 个，同为管家，密码相同）"
            )
        self.stdout.write(
            "请在正式使用前修改这些演示密码：登录后点页面顶部的“修改密码”，"
            "或运行 python -m wuye changepassword 用户名（新密码至少 10 位，不能是常见密码或纯数字）。"
        )
