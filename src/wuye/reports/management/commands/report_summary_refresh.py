"""``python -m wuye report_summary_refresh [--full]``: reads the ledger rows the report summaries have
not read yet (or rebuilds them from nothing with ``--full``) and prints what it added."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from wuye.reports.summary_refresh import refresh


class Command(BaseCommand):
    help = "刷新报表汇总表（增量；--full 全部重建）"

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="清空后全部重建")

    def handle(self, *args, full=False, **options):
        result = refresh(full=full)
        added = "，".join(f"{k} {v}" for k, v in result.added.items())
        self.stdout.write(
            f"报表汇总{'重建' if full else '刷新'}完成：新读入 {added}；"
            f"待补读编号 {result.pending_ids} 个；用时 {result.seconds:.1f} 秒"
        )
