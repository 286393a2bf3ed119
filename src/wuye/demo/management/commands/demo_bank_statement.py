"""python -m wuye demo_bank_statement --project P001 [--month 2026-11] [--lines 200] [--seed 7] OUT.xlsx"""

from __future__ import annotations

import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from wuye.core.models import Project
from wuye.demo.bank_statements import statement_xlsx


class Command(BaseCommand):
    help = "生成演示用的银行流水（网银导出格式的 .xlsx，来自本项目的住户，附言写法五花八门），用于试用流水导入。"

    def add_arguments(self, parser):
        parser.add_argument("out", help="输出文件（.xlsx）")
        parser.add_argument("--project", required=True, help="项目编号")
        parser.add_argument("--month", help="月份 YYYY-MM（默认上个月）")
        parser.add_argument("--lines", type=int, default=200, help="流水笔数（默认 200）")
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args, **options):
        project = Project.objects.filter(code=options["project"]).first()
        if project is None:
            raise CommandError(f"找不到项目：{options['project']}")
        if options["month"]:
            try:
                month = datetime.date.fromisoformat(options["month"] + "-01")
            except ValueError as exc:
                raise CommandError("--month 格式应为 YYYY-MM") from exc
        else:
            month = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(
                day=1
            )
        if not 1 <= options["lines"] <= 50_000:
            raise CommandError("--lines 应在 1 到 50000 之间")
        content = statement_xlsx(project, month, options["lines"], options["seed"])
        Path(options["out"]).write_bytes(content)
        self.stdout.write(
            f"已生成 {options['out']}：{project.name} {month:%Y-%m} 流水 {options['lines']} 笔"
        )
