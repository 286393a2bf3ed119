"""``python -m wuye backup [--dir DIR] [--keep N]``: one backup of the database and the uploaded files
with a manifest and a checksum (wuye.core.backup; docs/operations/backup.md)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from wuye.core.backup import BackupError, backup_create, backup_prune


class Command(BaseCommand):
    help = "备份数据库和上传的文件（附清单和校验和）；可在系统运行时执行"

    def add_arguments(self, parser):
        parser.add_argument(
            "--dir",
            default=str(Path(settings.VAR_DIR) / "backups"),
            help="备份放在哪个目录（默认 var/backups）",
        )
        parser.add_argument(
            "--keep", type=int, default=0, help="备份后只保留最新的 N 份（默认不删除）"
        )

    def handle(self, *args, dir: str, keep: int, **options):
        directory = Path(dir)
        try:
            result = backup_create(directory=directory)
            removed = backup_prune(directory=directory, keep=keep) if keep else []
        except BackupError as exc:
            raise CommandError(exc.message) from exc
        manifest = result.manifest
        media = sum(1 for name in manifest["files"] if name.startswith("media/"))
        self.stdout.write(f"备份完成：{result.path}")
        self.stdout.write(f"校验文件：{result.checksum_path}")
        self.stdout.write(
            f"数据库 {manifest['engine']}，{len(manifest['tables'])} 张表，"
            f"{sum(manifest['tables'].values())} 行；上传文件 {media} 个"
        )
        for old in removed:
            self.stdout.write(f"已删除旧备份：{old.name}")
