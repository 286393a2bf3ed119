"""``python -m wuye report_summary_check [--project CODE]``: recomputes every summary row from the
ledger, and the main reports both ways, prints each key that differs with both figures and exits with
status 1 when anything differs (0 when the summaries equal the live computation)."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from wuye.core.models import Project
from wuye.reports.summary_check import check, check_reports


class Command(BaseCommand):
    help = "核对报表汇总表与账务实时计算是否一致（逐项列出差异）"

    def add_arguments(self, parser):
        parser.add_argument("--project", help="只核对该项目（项目编号或 id）")

    def handle(self, *args, project=None, **options):
        if project:
            found = Project.objects.filter(code=project).first()
            if found is None and str(project).isdigit():
                found = Project.objects.filter(pk=int(project)).first()
            if found is None:
                raise CommandError(f"没有项目编号为 {project} 的项目")
            project_ids = [found.pk]
        else:
            project_ids = list(Project.objects.values_list("pk", flat=True))
        diffs = check(project_ids[0] if project else None)
        if not diffs:
            diffs = check_reports(project_ids, timezone.localdate())
        for diff in diffs:
            self.stdout.write(str(diff))
        if diffs:
            self.stderr.write(f"汇总与实时计算不一致：{len(diffs)} 处")
            sys.exit(1)
        self.stdout.write("报表汇总核对通过：与账务实时计算完全一致")
