"""``python -m wuye restore FILE.tar [--replace] [--verify-only]``: checks a backup's checksum and
manifest, restores the database and the uploaded files, and proves the counts and figures are the
backup's (wuye.core.backup; docs/operations/backup.md). Stop the web server and the worker first."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from wuye.core.backup import BackupError, backup_restore, backup_verify


class Command(BaseCommand):
    help = "从备份恢复数据库和上传的文件（先核对校验和与清单，恢复后核对行数与账务合计）"

    def add_arguments(self, parser):
        parser.add_argument(
            "path", help="备份文件 wuye-backup-….tar（同目录须有 .sha256 校验文件）"
        )
        parser.add_argument(
            "--replace", action="store_true", help="当前数据库已有数据时，确认用备份覆盖"
        )
        parser.add_argument("--verify-only", action="store_true", help="只核对备份是否完整，不恢复")

    def handle(self, *args, path: str, replace: bool, verify_only: bool, **options):
        try:
            if verify_only:
                manifest = backup_verify(Path(path))
                self.stdout.write(
                    f"备份完整：{manifest['created_at']}，{manifest['engine']}，"
                    f"{len(manifest['files'])} 个文件校验通过"
                )
                return
            result = backup_restore(path=Path(path), replace=replace)
        except BackupError as exc:
            raise CommandError(exc.message) from exc
        for line in result.differences:
            self.stderr.write(line)
        if result.differences:
            self.stderr.write("恢复后的数据与备份清单不一致")
            sys.exit(1)
        self.stdout.write(
            f"恢复完成：{result.manifest['created_at']} 的备份；行数与账务合计均与清单一致。"
            "请运行 python -m wuye check_ledger 复核账务。"
        )
