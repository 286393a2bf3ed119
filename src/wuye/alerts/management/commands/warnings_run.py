"""python -m wuye warnings_run [--project P001] [--on 2026-11-23]"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand
from django.utils import timezone

from wuye.alerts import WarningKind
from wuye.alerts.early_warnings import warnings_run
from wuye.alerts.management.commands._common import parse_day, projects


class Command(BaseCommand):
    help = "预警日跑批：发现大额新增逾期、守信户突然欠费、多次投诉且欠费、两次失约、诉讼时效临近；同一情况只预警一次。"

    def add_arguments(self, parser):
        parser.add_argument("--project", help="项目编号或 id（默认全部在管项目）")
        parser.add_argument("--on", help="业务日期 YYYY-MM-DD（默认今天）")

    def handle(self, *args, **options):
        day = parse_day(options["on"]) or timezone.localdate()
        labels = dict(WarningKind.choices)
        for project in projects(options["project"]):
            started = time.perf_counter()
            result = warnings_run(project=project, on=day)
            parts = "，".join(f"{labels[k]} {n}" for k, n in result.raised.items() if n)
            self.stdout.write(
                f"[{project.code} {project.name}] {day:%Y-%m-%d} 新预警 {result.total} 条"
                + (f"（{parts}）" if parts else "")
                + f"，已预警过 {result.already} 条；用时 {time.perf_counter() - started:.2f}s"
            )
