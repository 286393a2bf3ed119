"""``python -m wuye billing_reverse --run <id> --reason "…" --approver <username> [--yes]``.

冲红 of a whole committed run, the same service as the run page (``runs.run_reverse``): one reversal
entry per bill, refused while any bill has money applied. See docs/operations/billing.md.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from wuye.billing import runs
from wuye.billing.management.commands.billing_run import find_user
from wuye.billing.models import BillingRun
from wuye.core.errors import WuyeError


class Command(BaseCommand):
    help = "整批冲红一个已生成的计费批次（须填写原因和审批人：项目经理或公司管理员）。"

    def add_arguments(self, parser):
        parser.add_argument("--run", type=int, required=True, help="计费批次 id")
        parser.add_argument("--reason", required=True, help="冲红原因")
        parser.add_argument(
            "--approver", required=True, help="审批人用户名（项目经理或公司管理员）"
        )
        parser.add_argument(
            "--user",
            required=True,
            help="办理人用户名（记入操作日志；不能与审批人相同：四眼原则）",
        )
        parser.add_argument("--yes", action="store_true", help="不询问，直接冲红")

    def handle(self, *args, **options):
        run = BillingRun.objects.select_related("project").filter(pk=options["run"]).first()
        if run is None:
            raise CommandError(f"找不到计费批次 {options['run']}")
        approver = find_user(options["approver"])
        user = find_user(options["user"])
        self.stdout.write(
            f"{run.project.name} {run.period_start:%Y-%m} 批次 {run.pk}（{run.get_status_display()}）"
            f"：{run.total_count:,} 张账单，应收合计 {run.total_amount} 元"
        )
        if not options["yes"]:
            if not sys.stdin.isatty():
                raise CommandError("非交互运行请加 --yes 确认冲红")
            if input("确认整批冲红？[y/N] ").strip().lower() not in ("y", "yes", "是"):
                self.stdout.write("已取消。")
                return
        try:
            run = runs.run_reverse(
                run=run, user=user, reason=options["reason"], approved_by=approver
            )
        except WuyeError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            self.style.SUCCESS(f"已冲红批次 {run.pk}。如需重新出账，请重新计费该月份。")
        )
