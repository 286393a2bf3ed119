"""``python -m wuye billing_run --project <id or name> --period 2026-11 [--preview] [--yes]``.

Previews a month's billing for a project and, once confirmed, writes the bills with the same code as
the background task (``runs.run_execute``), printing the progress. See docs/operations/billing.md.
"""

from __future__ import annotations

import datetime
import re
import sys
import time

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from wuye.billing import runs
from wuye.billing.enums import RunStatus
from wuye.billing.models import BillingRun
from wuye.core.errors import WuyeError
from wuye.core.models import Project, User

# Buildings listed in the printed preview; the page lists them all.
BUILDINGS_SHOWN = 12


def find_project(text: str) -> Project:
    """A project by id, code or exact name."""
    query = Q(code=text) | Q(name=text)
    if text.isdigit():
        query |= Q(pk=int(text))
    found = list(Project.objects.filter(query)[:2])
    if not found:
        raise CommandError(f"找不到项目“{text}”（可用项目 id、编码或名称）")
    if len(found) > 1:
        raise CommandError(f"“{text}”对应多个项目，请改用项目 id")
    return found[0]


def parse_month(text: str) -> datetime.date:
    match = re.fullmatch(r"(\d{4})-(\d{1,2})", text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise CommandError(f"账期“{text}”应为 年-月，如 2026-11")
    return datetime.date(int(match.group(1)), int(match.group(2)), 1)


def find_user(username: str | None) -> User | None:
    if not username:
        return None
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError(f"找不到用户 {username}")
    return user


class Progress:
    """Prints one line per chunk: percent, bills written of the total, rows per second."""

    def __init__(self, out, *, tty: bool):
        self.out = out
        self.tty = tty
        self.started = time.monotonic()
        self.first_done: int | None = None
        self.last_line = ""

    def __call__(self, run: BillingRun) -> None:
        if self.first_done is None:
            self.first_done = run.done_count  # written by an earlier attempt, not by this one
        written = run.done_count - self.first_done
        elapsed = max(time.monotonic() - self.started, 1e-6)
        percent = run.done_count * 100 // run.total_count if run.total_count else 100
        line = (
            f"{percent:3d}%  已生成 {run.done_count:,}/{run.total_count:,} 张账单"
            f"  本次写入 {written:,} 张  {written / elapsed:,.0f} 张/秒  用时 {elapsed:.1f} 秒"
        )
        self.last_line = line
        if self.tty:
            self.out.write("\r" + line, ending="")
            self.out.flush()
        else:
            self.out.write(line)


def print_preview(out, run: BillingRun) -> None:
    p = run.preview
    out.write(f"{run.project.name} {p['period']} 计费预览（批次 {run.pk}，版次 {run.revision}）")
    out.write(
        f"  应生成账单 {p['total_count']:,} 张（新出账 {p['new_count']:,}，已出账跳过 "
        f"{p['existing_count']:,}），涉及 {p['room_count']:,} 户，应收合计 {p['total_amount']} 元"
    )
    out.write("  按收费项目：")
    for row in p["by_item"]:
        out.write(f"    {row['name']:<12} {row['count']:>8,} 张 {row['amount']:>16} 元")
    if p["not_due"]:
        out.write(
            "  本月不计费：" + "、".join(f"{i['name']}（按{i['cycle']}）" for i in p["not_due"])
        )
    out.write(f"  按楼栋（共 {len(p['by_building'])} 栋）：")
    for row in p["by_building"][:BUILDINGS_SHOWN]:
        out.write(f"    {row['name']:<12} {row['count']:>8,} 张 {row['amount']:>16} 元")
    if len(p["by_building"]) > BUILDINGS_SHOWN:
        out.write(f"    …其余 {len(p['by_building']) - BUILDINGS_SHOWN} 栋见计费页面")
    out.write(f"  异常 {p['exception_count']:,} 户（这些房屋本次不出账）")
    for row in p["exception_counts"]:
        out.write(f"    {row['label']}：{row['count']:,}")
    for e in p["exceptions"][:10]:
        out.write(f"    - {e['message']}")


class Command(BaseCommand):
    help = "按月计费：预览某项目某月的账单，确认后分批写入并显示进度（与页面上的“生成账单”为同一代码）。"

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True, help="项目 id、编码或名称")
        parser.add_argument("--period", required=True, help="账期月份，如 2026-11")
        parser.add_argument("--preview", action="store_true", help="只预览，不生成账单")
        parser.add_argument("--yes", action="store_true", help="不询问，直接生成")
        parser.add_argument("--user", help="记入操作日志的用户名（默认：命令行，无用户）")

    def handle(self, *args, **options):
        project = find_project(options["project"])
        month = parse_month(options["period"])
        user = find_user(options.get("user"))
        started = time.monotonic()
        try:
            run = runs.run_preview(project=project, period_start=month, user=user)
        except WuyeError as exc:
            raise CommandError(exc.message) from exc
        print_preview(self.stdout, run)
        self.stdout.write(f"  预览用时 {time.monotonic() - started:.1f} 秒")
        if options["preview"]:
            return
        if run.status == RunStatus.COMMITTED and run.preview["new_count"] == 0:
            self.stdout.write("该月账单均已生成，没有需要新写入的账单。")
            return
        if not options["yes"]:
            if not sys.stdin.isatty():
                raise CommandError("非交互运行请加 --yes 确认生成")
            answer = input(f"确认生成 {run.preview['new_count']:,} 张账单？[y/N] ")
            if answer.strip().lower() not in ("y", "yes", "是"):
                self.stdout.write("已取消，未生成账单。")
                return
        try:
            run = runs.run_commit(run=run, user=user, enqueue=False)
        except WuyeError as exc:
            raise CommandError(exc.message) from exc
        progress = Progress(self.stdout, tty=self.stdout.isatty())
        try:
            run = runs.run_execute(run.pk, user.pk if user else None, progress=progress)
        finally:
            if progress.tty:
                self.stdout.write("")
        elapsed = time.monotonic() - progress.started
        written = run.done_count - (progress.first_done or 0)
        self.stdout.write(
            self.style.SUCCESS(
                f"完成：批次 {run.pk} {run.get_status_display()}，共 {run.done_count:,} 张账单"
                f"（本次写入 {written:,} 张），应收合计 {run.total_amount} 元，"
                f"用时 {elapsed:.1f} 秒，{written / max(elapsed, 1e-6):,.0f} 张/秒"
            )
        )
