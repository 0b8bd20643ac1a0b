"""Backups of the database and the uploaded files (``minsheng backup`` / ``minsheng restore``).

A backup is a directory ``minsheng-YYYYmmdd-HHMMSS/`` holding:

- ``database.sqlite3`` (a consistent copy made with SQLite's online backup API) or
  ``database.dump`` (``pg_dump`` custom format);
- ``media.tar.gz``, the uploaded files under ``MEDIA_ROOT``;
- ``manifest.json``: the engine, the time, and the number of rows of every table, counted
  in the same snapshot the dump was taken from. ``restore`` recounts after restoring and
  fails loudly when any table differs.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

MANIFEST = "manifest.json"
MEDIA_ARCHIVE = "media.tar.gz"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.dump"
FORMAT = 1

Output = Callable[[str], None]


class BackupError(Exception):
    """Something an operator must fix; the message says what (in Chinese)."""


def engine() -> str:
    name = settings.DATABASES["default"]["ENGINE"]
    if name.endswith("sqlite3"):
        return "sqlite"
    if name.endswith("postgresql"):
        return "postgresql"
    raise BackupError(f"不支持备份这种数据库：{name}")


def row_counts() -> dict[str, int]:
    """Rows of every table of the default database, through Django's connection."""
    tables = sorted(connection.introspection.table_names())
    counts: dict[str, int] = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608 (names from introspection)
            counts[table] = cursor.fetchone()[0]
    return counts


def _sqlite_counts(path: Path) -> dict[str, int]:
    db = sqlite3.connect(path)
    try:
        rows = db.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")
        tables = [name for (name,) in rows if not name.startswith("sqlite_")]
        return {t: db.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}  # noqa: S608
    finally:
        db.close()


def _pg_env() -> dict[str, str]:
    """libpq environment for pg_dump/pg_restore, so the password never shows in ``ps``."""
    db: dict[str, Any] = dict(settings.DATABASES["default"])
    env = dict(os.environ)
    for key, var in (
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
    ):
        if db.get(key):
            env[var] = str(db[key])
    sslmode = db.get("OPTIONS", {}).get("sslmode")
    if sslmode:
        env["PGSSLMODE"] = sslmode
    return env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"找不到 {name}：请安装与服务器版本一致的 PostgreSQL 客户端（postgresql-client）"
        )
    return path


def _run(argv: list[str]) -> None:
    result = subprocess.run(argv, env=_pg_env(), capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{Path(argv[0]).name} 失败：{result.stderr.strip()}")


def _new_directory(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    target = root / f"minsheng-{stamp}"
    n = 1
    while target.exists():
        n += 1
        target = root / f"minsheng-{stamp}-{n}"
    target.mkdir()
    return target


def _backup_sqlite(target: Path) -> dict[str, int]:
    source_path = Path(settings.DATABASES["default"]["NAME"])
    if not source_path.exists():
        raise BackupError(f"数据库文件不存在：{source_path}")
    copy_path = target / SQLITE_FILE
    source = sqlite3.connect(source_path)
    copy = sqlite3.connect(copy_path)
    try:
        # The online backup API copies a consistent snapshot while the server keeps running.
        source.backup(copy)
        # One self-contained file: no -wal/-shm companions next to the copy.
        copy.execute("PRAGMA journal_mode=DELETE")
    finally:
        copy.close()
        source.close()
    return _sqlite_counts(copy_path)


def _backup_postgresql(target: Path) -> dict[str, int]:
    pg_dump = _tool("pg_dump")
    with transaction.atomic():
        with connection.cursor() as cursor:
            # Count and dump in one snapshot, so the manifest matches the dump exactly.
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
        counts = row_counts()
        _run(
            [
                pg_dump,
                "--format=custom",
                f"--snapshot={snapshot}",
                f"--file={target / PG_FILE}",
                settings.DATABASES["default"]["NAME"],
            ]
        )
    return counts


def _archive_media(target: Path) -> int:
    media_root = Path(settings.MEDIA_ROOT)
    files = 0
    with tarfile.open(target / MEDIA_ARCHIVE, "w:gz") as tar:
        if media_root.is_dir():
            for path in sorted(media_root.rglob("*")):
                if path.is_file():
                    tar.add(path, arcname=str(path.relative_to(media_root)), recursive=False)
                    files += 1
    return files


def create(root: Path, out: Output) -> Path:
    """Write a new backup directory under ``root`` and return it."""
    kind = engine()
    target = _new_directory(root)
    try:
        out(f"备份数据库（{kind}）…")
        counts = _backup_sqlite(target) if kind == "sqlite" else _backup_postgresql(target)
        out(f"  {len(counts)} 张表，{sum(counts.values())} 行")
        out("备份上传文件…")
        files = _archive_media(target)
        out(f"  {files} 个文件")
        manifest = {
            "format": FORMAT,
            "engine": kind,
            "created_at": timezone.now().isoformat(),
            "database": SQLITE_FILE if kind == "sqlite" else PG_FILE,
            "media": MEDIA_ARCHIVE,
            "media_files": files,
            "tables": counts,
        }
        (target / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2))
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)  # never leave a half backup that looks whole
        raise
    return target


def read_manifest(source: Path) -> dict[str, Any]:
    path = source / MANIFEST
    if not path.is_file():
        raise BackupError(f"{source} 不是备份目录（缺少 {MANIFEST}）")
    manifest: dict[str, Any] = json.loads(path.read_text())
    if manifest.get("format") != FORMAT:
        raise BackupError(f"不认识的备份格式：{manifest.get('format')}")
    return manifest


@contextmanager
def _closed_connection() -> Iterator[None]:
    connection.close()
    try:
        yield
    finally:
        connection.close()


def _restore_sqlite(source: Path) -> None:
    target_path = Path(settings.DATABASES["default"]["NAME"])
    target_path.parent.mkdir(parents=True, exist_ok=True)
    with _closed_connection():
        backup = sqlite3.connect(f"file:{source / SQLITE_FILE}?mode=ro", uri=True)
        target = sqlite3.connect(target_path)
        try:
            backup.backup(target)
            # The server runs the database in WAL mode (see settings); keep it so.
            target.execute("PRAGMA journal_mode=WAL")
        finally:
            target.close()
            backup.close()


def _restore_postgresql(source: Path, replace: bool) -> None:
    pg_restore = _tool("pg_restore")
    argv = [pg_restore, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
    if replace:
        argv += ["--clean", "--if-exists"]
    argv += [f"--dbname={settings.DATABASES['default']['NAME']}", str(source / PG_FILE)]
    with _closed_connection():
        _run(argv)


def _extract_media(source: Path) -> int:
    media_root = Path(settings.MEDIA_ROOT)
    media_root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(source / MEDIA_ARCHIVE, "r:gz") as tar:
        members = tar.getmembers()
        # The "data" filter refuses absolute paths, "..", links out of the tree and devices.
        tar.extractall(media_root, filter="data")
    return sum(1 for m in members if m.isfile())


def restore(source: Path, out: Output, *, replace: bool = False) -> dict[str, int]:
    """Restore the backup in ``source`` into the configured database and MEDIA_ROOT."""
    manifest = read_manifest(source)
    kind = engine()
    if manifest["engine"] != kind:
        raise BackupError(f"这是 {manifest['engine']} 的备份，当前配置的数据库是 {kind}")
    if connection.introspection.table_names() and not replace:
        raise BackupError("目标数据库不是空的；确认要覆盖时加 --replace")
    out(f"恢复数据库（{kind}）…")
    if kind == "sqlite":
        _restore_sqlite(source)
    else:
        _restore_postgresql(source, replace)
    counts = row_counts()
    expected: dict[str, int] = manifest["tables"]
    wrong = {t: (n, counts.get(t)) for t, n in expected.items() if counts.get(t) != n}
    if wrong:
        details = "，".join(
            f"{t}: 应为 {n} 行，实为 {got}" for t, (n, got) in sorted(wrong.items())
        )
        raise BackupError(f"恢复后的数据与备份清单不符：{details}")
    out(f"  {len(counts)} 张表，{sum(counts.values())} 行，与备份清单一致")
    out("恢复上传文件…")
    files = _extract_media(source)
    out(f"  {files} 个文件")
    return counts
