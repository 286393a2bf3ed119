"""Backup and restore of a whole installation: the database and the uploaded files (MEDIA_ROOT).

One backup is one tar file ``wuye-backup-YYYYMMDD-HHMMSS.tar`` beside a checksum file of the same name
plus ``.sha256``. Inside the tar:

* ``database.sqlite3`` (SQLite, copied with SQLite's online backup API: the site may keep running) or
  ``database.dump`` (PostgreSQL, ``pg_dump --format=custom``);
* ``media/…``: every uploaded file (evidence, signed agreements, imports);
* ``manifest.json``: when, which engine, the SHA-256 and size of every other member, the row count of
  every table, and the figures of ``WUYE_BACKUP_FIGURES`` (ledger totals and receipt sequences).

``restore`` refuses a backup whose checksum file does not match the tar, whose members do not match the
manifest (a changed, added or missing file), or whose HMAC does not match when ``WUYE_BACKUP_KEY`` is set;
it restores only into an empty database unless told to replace, and afterwards recomputes the row counts
and figures and compares them with the manifest. docs/operations/backup.md says how to schedule it.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from wuye.core import hooks
from wuye.core.errors import WuyeError

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite3"
PG_MEMBER = "database.dump"
MEDIA_PREFIX = "media/"
# Tables that an empty, freshly migrated database already has rows in.
SETUP_TABLES = {"django_migrations", "django_content_type", "auth_permission", "django_site"}
CHUNK = 1024 * 1024


class BackupError(WuyeError):
    code = "core.backup"


@dataclass(frozen=True)
class BackupResult:
    path: Path
    checksum_path: Path
    manifest: dict[str, Any]


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _backup_key() -> bytes | None:
    key = os.environ.get("WUYE_BACKUP_KEY") or getattr(settings, "WUYE_BACKUP_KEY", "")
    return key.encode() if key else None


def _engine() -> str:
    if connection.vendor == "sqlite":
        return "sqlite"
    if connection.vendor == "postgresql":
        return "postgresql"
    raise BackupError(f"不支持的数据库：{connection.vendor}")


def table_counts() -> dict[str, int]:
    """Rows in every table of the database (Django's and the project's)."""
    counts = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            counts[table] = cursor.fetchone()[0]
    return counts


def figures() -> dict[str, Any]:
    """The figures of every ``WUYE_BACKUP_FIGURES`` hook (e.g. ledger totals), by hook path."""
    result = {}
    paths = getattr(settings, "WUYE_BACKUP_FIGURES", [])
    for path, found in zip(paths, hooks.call_each("WUYE_BACKUP_FIGURES"), strict=True):
        result[path] = json.loads(json.dumps(found, default=str, sort_keys=True))
    return result


def _sqlite_counts(path: Path) -> dict[str, int]:
    copy = sqlite3.connect(path)
    try:
        names = [
            r[0]
            for r in copy.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
                "AND NOT name = 'sqlite_sequence'"
            )
        ]
        return {
            name: copy.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0]  # noqa: S608
            for name in sorted(names)
        }
    finally:
        copy.close()


# --- database copies ---------------------------------------------------------------------------


def _pg_env() -> tuple[dict[str, str], str]:
    conf = connection.settings_dict
    env = dict(os.environ)
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER")):
        if conf.get(key):
            env[var] = str(conf[key])
    if conf.get("PASSWORD"):
        env["PGPASSWORD"] = str(conf["PASSWORD"])
    return env, conf["NAME"]


def _dump_database(target: Path, snapshot: str = "") -> str:
    engine = _engine()
    if engine == "sqlite":
        connection.ensure_connection()
        out = sqlite3.connect(target)
        try:
            # The online backup API: a consistent copy while the site and the worker keep writing.
            connection.connection.backup(out)
        finally:
            out.close()
        return SQLITE_MEMBER
    env, name = _pg_env()
    subprocess.run(  # noqa: S603
        [  # noqa: S607
            "pg_dump",
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            *([f"--snapshot={snapshot}"] if snapshot else []),
            f"--file={target}",
            name,
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    return PG_MEMBER


def _load_database(source: Path, member: str) -> None:
    engine = _engine()
    if (engine, member) not in {("sqlite", SQLITE_MEMBER), ("postgresql", PG_MEMBER)}:
        raise BackupError(
            f"这份备份来自{'SQLite' if member == SQLITE_MEMBER else 'PostgreSQL'}，"
            f"不能恢复到当前的{'SQLite' if engine == 'sqlite' else 'PostgreSQL'}数据库"
        )
    if engine == "sqlite":
        connection.ensure_connection()
        src = sqlite3.connect(source)
        try:
            src.backup(connection.connection)  # page by page into the live connection
        finally:
            src.close()
        return
    env, name = _pg_env()
    connection.close()
    result = subprocess.run(  # noqa: S603
        [  # noqa: S607
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={name}",
            str(source),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode:
        raise BackupError(f"pg_restore 失败：{result.stderr.strip()[:500]}")


# --- backup --------------------------------------------------------------------------------------


def backup_create(*, directory: Path, now: datetime.datetime | None = None) -> BackupResult:
    """Writes one backup into ``directory`` and returns where it is."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = timezone.localtime(now or timezone.now()).strftime("%Y%m%d-%H%M%S")
    path = directory / f"wuye-backup-{stamp}.tar"
    if path.exists():
        raise BackupError(f"{path} 已存在")
    media_root = Path(settings.MEDIA_ROOT)
    with tempfile.TemporaryDirectory(dir=directory, prefix=".wuye-backup-") as tmp:
        db_file = Path(tmp) / "database"
        # The copy, the row counts and the figures must describe one and the same state.
        if _engine() == "postgresql":
            # pg_dump reads the snapshot of our REPEATABLE READ transaction, as the counts do.
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                    cursor.execute("SELECT pg_export_snapshot()")
                    snapshot = cursor.fetchone()[0]
                member = _dump_database(db_file, snapshot)
                tables = table_counts()
                figs = figures()
        else:
            # SQLite's online backup copies a consistent state while others keep writing; the counts
            # and figures are read after it, so we check the copy has the very same row counts and
            # copy again when a write came in between.
            for _attempt in range(5):
                member = _dump_database(db_file)
                tables = table_counts()
                figs = figures()
                if _sqlite_counts(db_file) == tables:
                    break
            else:
                raise BackupError("备份期间数据一直在变化，请稍后再试（例如收费窗口关闭后）")
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "created_at": timezone.now().isoformat(),
            "engine": _engine(),
            "database": member,
            "files": {member: {"sha256": _sha256_file(db_file), "size": db_file.stat().st_size}},
            "tables": tables,
            "figures": figs,
        }
        media_files = (
            sorted(p for p in media_root.rglob("*") if p.is_file()) if media_root.exists() else []
        )
        for file in media_files:
            name = MEDIA_PREFIX + file.relative_to(media_root).as_posix()
            manifest["files"][name] = {"sha256": _sha256_file(file), "size": file.stat().st_size}
        partial = path.with_suffix(".tar.partial")
        with tarfile.open(partial, "w") as tar:
            tar.add(db_file, arcname=member)
            for file in media_files:
                tar.add(file, arcname=MEDIA_PREFIX + file.relative_to(media_root).as_posix())
            data = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            info.mtime = int(timezone.now().timestamp())
            tar.addfile(info, io.BytesIO(data))
        partial.rename(path)
    os.chmod(path, 0o600)  # personal data of every household: owner only
    checksum_path = _write_checksum(path)
    return BackupResult(path=path, checksum_path=checksum_path, manifest=manifest)


def _write_checksum(path: Path) -> Path:
    digest = _sha256_file(path)
    lines = [f"{digest}  {path.name}"]
    key = _backup_key()
    if key:
        lines.append(f"hmac-sha256 {hmac.new(key, digest.encode(), hashlib.sha256).hexdigest()}")
    checksum_path = path.with_name(path.name + ".sha256")
    checksum_path.write_text("\n".join(lines) + "\n")
    os.chmod(checksum_path, 0o600)
    return checksum_path


def backup_prune(*, directory: Path, keep: int) -> list[Path]:
    """Deletes all but the ``keep`` newest backups in ``directory``; returns what was deleted."""
    if keep < 1:
        raise BackupError("至少保留 1 份备份")
    backups = sorted(directory.glob("wuye-backup-*.tar"), reverse=True)
    removed = []
    for old in backups[keep:]:
        old.unlink()
        old.with_name(old.name + ".sha256").unlink(missing_ok=True)
        removed.append(old)
    return removed


# --- verify and restore -------------------------------------------------------------------------


def backup_verify(path: Path) -> dict[str, Any]:
    """The manifest of a backup whose checksum file, HMAC (when a key is set) and every member's
    SHA-256 match; else ``BackupError`` saying what does not."""
    checksum_path = path.with_name(path.name + ".sha256")
    if not path.is_file():
        raise BackupError(f"找不到备份文件 {path}")
    if not checksum_path.is_file():
        raise BackupError(f"找不到校验文件 {checksum_path.name}：不能确认备份完整，拒绝恢复")
    lines = checksum_path.read_text().split("\n")
    expected = lines[0].split()[0] if lines and lines[0].split() else ""
    actual = _sha256_file(path)
    if not hmac.compare_digest(expected, actual):
        raise BackupError("备份文件的校验和与校验文件不符：文件已被改动或损坏，拒绝恢复")
    key = _backup_key()
    if key:
        given = next((line.split()[1] for line in lines if line.startswith("hmac-sha256 ")), "")
        wanted = hmac.new(key, actual.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(given, wanted):
            raise BackupError("备份的签名（WUYE_BACKUP_KEY）不符：来源不明或已被改动，拒绝恢复")
    with tarfile.open(path, "r") as tar:
        members = {m.name: m for m in tar.getmembers()}
        if MANIFEST not in members:
            raise BackupError("备份中没有 manifest.json，拒绝恢复")
        manifest = json.loads(tar.extractfile(members[MANIFEST]).read())
        if manifest.get("format") != FORMAT:
            raise BackupError(f"不认识的备份格式 {manifest.get('format')}")
        listed = manifest.get("files", {})
        extra = sorted(set(members) - set(listed) - {MANIFEST})
        missing = sorted(set(listed) - set(members))
        if extra or missing:
            raise BackupError(
                f"备份内容与清单不符（多出：{'、'.join(extra[:5]) or '无'}；缺少：{'、'.join(missing[:5]) or '无'}），拒绝恢复"
            )
        for name, info in listed.items():
            member = members[name]
            if not member.isfile() or _unsafe(name):
                raise BackupError(f"备份中的 {name} 不是普通文件或路径不安全，拒绝恢复")
            digest = hashlib.sha256()
            handle = tar.extractfile(member)
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
            if digest.hexdigest() != info.get("sha256"):
                raise BackupError(f"备份中的 {name} 与清单的校验和不符：已被改动，拒绝恢复")
    return manifest


def _unsafe(name: str) -> bool:
    pure = PurePosixPath(name)
    return pure.is_absolute() or ".." in pure.parts or "\\" in name


def database_is_empty() -> bool:
    """No rows but the setup's (migrations, content types) and the planner's statistics: SQLite's
    ``ANALYZE`` (the demo ends with it) keeps its ``sqlite_stat*`` rows through a flush."""
    return not any(
        n
        for t, n in table_counts().items()
        if t not in SETUP_TABLES and not t.startswith("sqlite_stat")
    )


@dataclass(frozen=True)
class RestoreResult:
    manifest: dict[str, Any]
    differences: list[str]


def backup_restore(*, path: Path, replace: bool = False) -> RestoreResult:
    """Restores the database and the uploaded files of a verified backup, then compares the row
    counts and figures with the manifest (``differences`` lists any that differ)."""
    manifest = backup_verify(path)
    if not replace and not database_is_empty():
        raise BackupError("当前数据库已有数据。恢复会覆盖全部数据：请确认后加 --replace 再运行")
    media_root = Path(settings.MEDIA_ROOT)
    with tempfile.TemporaryDirectory(prefix=".wuye-restore-") as tmp:
        with tarfile.open(path, "r") as tar:
            tar.extractall(tmp, filter="data")
        _load_database(Path(tmp) / manifest["database"], manifest["database"])
        media_tmp = Path(tmp) / "media"
        if media_tmp.exists():
            media_root.mkdir(parents=True, exist_ok=True)
            for file in sorted(p for p in media_tmp.rglob("*") if p.is_file()):
                target = media_root / file.relative_to(media_tmp)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(file, target)
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()
    differences = []
    counts = table_counts()
    for table, rows in manifest["tables"].items():
        if counts.get(table) != rows:
            differences.append(f"表 {table}：备份 {rows} 行，恢复后 {counts.get(table)} 行")
    now_figures = figures()
    for hook, values in manifest["figures"].items():
        if now_figures.get(hook) != values:
            differences.append(f"{hook}：恢复后的数字与备份清单不同")
    return RestoreResult(manifest=manifest, differences=differences)
