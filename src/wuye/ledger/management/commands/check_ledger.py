"""``manage.py check_ledger [--project CODE]``: runs every ledger invariant, prints each problem and
exits with status 1 when there is any (0 when the ledger is sound)."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from wuye.core.models import Project
from wuye.ledger.invariants import check_all


class Command(BaseCommand):
    help = "检查账务不变量（核销不超过应收、预存款不为负、收款平衡、收据号连续、冲红对应）"

    def add_arguments(self, parser):
        parser.add_argument("--project", help="只检查该项目编号的项目")

    def handle(self, *args, project=None, **options):
        if project:
            projects = list(Project.objects.filter(code=project))
            if not projects:
                raise CommandError(f"没有项目编号为 {project} 的项目")
            scopes = projects
        else:
            scopes = [None]
        problems = []
        for scope in scopes:
            problems.extend(check_all(scope))
        for problem in problems:
            self.stdout.write(str(problem))
        if problems:
            self.stderr.write(f"发现 {len(problems)} 个问题")
            sys.exit(1)
        self.stdout.write("账务检查通过：没有发现问题")
