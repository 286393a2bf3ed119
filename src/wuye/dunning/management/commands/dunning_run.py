"""python -m wuye dunning_run --project P001 [--preview] [--date 2026-11-23]"""

from __future__ import annotations

import datetime
import time

from django.core.management.base import BaseCommand, CommandError

from wuye.core.models import Project
from wuye.dunning.daily_run import dunning_run


class Command(BaseCommand):
    help = "催缴日跑批：按账本为逾期账户立案、更新在办案件、按规则升级、为已缴清的户结案。"

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True, help="项目编号或 id；all = 全部在管项目")
        parser.add_argument("--date", help="业务日期 YYYY-MM-DD（默认今天）")
        parser.add_argument("--preview", action="store_true", help="只预览，不写入")

    def handle(self, *args, **options):
        day = None
        if options["date"]:
            try:
                day = datetime.date.fromisoformat(options["date"])
            except ValueError as exc:
                raise CommandError("--date 格式应为 YYYY-MM-DD") from exc
        wanted = options["project"]
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
            self.stdout.write(
                f"[{project.code} {project.name}]" + (" 预览" if options["preview"] else "")
            )
            result = dunning_run(
                project=project,
                on=day,
                preview=options["preview"],
                progress=lambda text, t0=started: self.stdout.write(
                    f"  {time.perf_counter() - t0:6.1f}s  {text}"
                ),
            )
            self.stdout.write(
                f"  完成：逾期账户 {result.accounts}，新立案 {result.opened}，重新立案 {result.reopened}，"
                f"更新 {result.updated}（升级上门 {result.escalated}），结案 {result.closed}，"
                f"未变 {result.unchanged}；用时 {time.perf_counter() - started:.1f}s"
            )
