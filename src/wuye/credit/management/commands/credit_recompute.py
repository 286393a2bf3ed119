"""python -m wuye credit_recompute [--project P001|id|all] [--date 2026-11-23]"""

from __future__ import annotations

import datetime
import time

from django.core.management.base import BaseCommand, CommandError

from wuye.core.models import Project
from wuye.credit.services import credit_recompute


class Command(BaseCommand):
    help = "重算信用档案与客户分群（整项目，按 SQL 批量计算）。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--project", default="all", help="项目编号或 id；all（默认）= 全部在管项目"
        )
        parser.add_argument("--date", help="统计日期 YYYY-MM-DD（默认今天）")

    def handle(self, *args, **options):
        day = None
        if options["date"]:
            try:
                day = datetime.date.fromisoformat(options["date"])
            except ValueError as exc:
                raise CommandError("--date 格式应为 YYYY-MM-DD") from exc
        wanted = str(options["project"])
        if wanted == "all":
            projects = list(Project.objects.filter(is_active=True))
        else:
            projects = list(
                Project.objects.filter(code=wanted)
                or Project.objects.filter(pk=int(wanted) if wanted.isdigit() else -1)
            )
        if not projects:
            raise CommandError(f"找不到项目：{wanted}")
        for project in projects:
            started = time.perf_counter()
            self.stdout.write(f"[{project.code} {project.name}]")
            result = credit_recompute(
                project=project,
                on=day,
                progress=lambda text, t0=started: self.stdout.write(
                    f"  {time.perf_counter() - t0:6.1f}s  {text}"
                ),
            )
            self.stdout.write(
                f"  完成：信用档案 {result.files} 户；用时 {time.perf_counter() - started:.1f}s"
            )
