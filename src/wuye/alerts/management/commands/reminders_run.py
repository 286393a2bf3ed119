"""python -m wuye reminders_run [--project P001] [--on 2026-11-23]"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from wuye.alerts.courtesy import courtesy_run
from wuye.alerts.management.commands._common import parse_day, projects


class Command(BaseCommand):
    help = (
        "到期前提醒与缴费感谢：按住户分群策略在到期前几天发提醒短信，缴费后发致谢；"
        "已缴清或预存款足够的不提醒，每笔账单每种方式只提醒一次，只在短信时段内发送（本公司联系规范）。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--project", help="项目编号或 id（默认全部在管项目）")
        parser.add_argument("--on", help="业务日期 YYYY-MM-DD（默认今天）")

    def handle(self, *args, **options):
        day = parse_day(options["on"])
        for project in projects(options["project"]):
            started = time.perf_counter()
            r = courtesy_run(project=project, on=day)
            line = f"[{project.code} {project.name}] {r.on:%Y-%m-%d} "
            if r.next_window is not None:
                line += f"不在短信时段：{r.waiting} 条待发，下一个时段从 {r.next_window:%m-%d %H:%M} 开始"
            else:
                line += f"提醒 {r.reminders} 户（{r.bills} 笔账单），致谢 {r.thanks} 户"
                if r.failed:
                    line += f"，发送失败 {r.failed} 条"
            if r.skipped:
                line += "；未发：" + "，".join(f"{k} {n}" for k, n in r.skipped.items())
            self.stdout.write(line + f"；用时 {time.perf_counter() - started:.2f}s")
