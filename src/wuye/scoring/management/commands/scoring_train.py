"""python -m wuye scoring_train [--project P001] [--until 2026-11-01]"""

from __future__ import annotations

import datetime
import time

from django.core.management.base import BaseCommand, CommandError

from wuye.core.errors import ValidationFailed
from wuye.core.models import Project
from wuye.scoring.selectors import quality_lines
from wuye.scoring.services import score_project, scoring_train


class Command(BaseCommand):
    help = (
        "训练催缴优先级模型：用项目自己的历史（逐月欠费户快照，30天内是否缴费）训练逻辑回归，"
        "在最近 20% 的样本上报告 AUC、校准和“前 20% 联系回收金额”与按欠费金额排序的对比，"
        "优于按金额排序时启用，并重新为在办案件评分。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--project", help="项目编号或 id（默认全部在管项目）")
        parser.add_argument("--until", help="只用截至该日的历史 YYYY-MM-DD（默认今天）")

    def handle(self, *args, **options):
        until = None
        if options["until"]:
            try:
                until = datetime.date.fromisoformat(options["until"])
            except ValueError as exc:
                raise CommandError("--until 格式应为 YYYY-MM-DD") from exc
        wanted = options["project"]
        if not wanted:
            projects = list(Project.objects.filter(is_active=True).order_by("id"))
        else:
            projects = list(
                Project.objects.filter(code=wanted)
                or Project.objects.filter(pk=int(wanted) if wanted.isdigit() else -1)
            )
        if not projects:
            raise CommandError(f"找不到项目：{wanted or '（没有在管项目）'}")
        for project in projects:
            started = time.perf_counter()
            self.stdout.write(f"[{project.code} {project.name}]")
            try:
                model = scoring_train(project=project, until=until, score=False)
            except ValidationFailed as exc:
                self.stdout.write(f"  {exc.message}")
                n = score_project(project_id=project.pk)
                self.stdout.write(f"  在办案件 {n} 件按欠费金额×账龄排序")
                continue
            trained = time.perf_counter() - started
            for line in quality_lines(model):
                self.stdout.write(f"  {line}")
            n = score_project(project_id=project.pk)
            self.stdout.write(
                f"  训练用时 {trained:.1f}s；在办案件评分 {n} 件，合计用时 "
                f"{time.perf_counter() - started:.1f}s"
            )
