"""``minsheng backup`` / ``minsheng restore``: a backup restored into an empty database holds
every record. The commands run in their own processes against file databases."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from psycopg import sql

from minsheng.core import backups

_SETTINGS_VARS = {
    "DATABASE_URL",
    "REDIS_URL",
    "MINSHENG_ENV",
    "SECRET_KEY",
    "MEDIA_ROOT",
    "MINSHENG_VAR_DIR",
    "LOG_DIR",
}


def _env(var_dir: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SETTINGS_VARS}
    env.update(
        MINSHENG_VAR_DIR=str(var_dir),
        DATABASE_URL=database_url,
        MEDIA_ROOT=str(var_dir / "media"),
        DEMO_APPEALS="60",  # a small year of appeals: the backup, not the demo, is under test
    )
    return env


def _minsheng(env: dict[str, str], *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "minsheng", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if ok:
        assert result.returncode == 0, (
            f"minsheng {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
        )
    return result


def _populate_and_back_up(env: dict[str, str], var_dir: Path, backup_root: Path) -> Path:
    _minsheng(env, "migrate", "--no-input", "-v", "0")
    _minsheng(env, "demo")
    photo = var_dir / "media" / "staff" / "张三.jpg"
    photo.parent.mkdir(parents=True)
    photo.write_bytes(b"\xff\xd8photo")
    out = _minsheng(env, "backup", "--output", str(backup_root)).stdout
    [backup_dir] = backup_root.iterdir()
    assert str(backup_dir) in out
    return backup_dir


def _sqlite_tables(path: Path) -> dict[str, list[tuple[object, ...]]]:
    db = sqlite3.connect(path)
    try:
        names = [
            r[0]
            for r in db.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {n: sorted(db.execute(f'SELECT * FROM "{n}"').fetchall(), key=repr) for n in names}  # noqa: S608
    finally:
        db.close()


def test_sqlite_backup_restores_every_record_and_file(tmp_path: Path) -> None:
    source = _env(tmp_path / "a", f"sqlite:///{tmp_path / 'a' / 'db.sqlite3'}")
    backup_dir = _populate_and_back_up(source, tmp_path / "a", tmp_path / "backups")
    assert {p.name for p in backup_dir.iterdir()} == {
        "database.sqlite3",
        "media.tar.gz",
        "manifest.json",
    }

    target = _env(tmp_path / "b", f"sqlite:///{tmp_path / 'b' / 'db.sqlite3'}")
    out = _minsheng(target, "restore", str(backup_dir)).stdout
    assert "与备份清单一致" in out

    before = _sqlite_tables(tmp_path / "a" / "db.sqlite3")
    after = _sqlite_tables(tmp_path / "b" / "db.sqlite3")
    assert before["core_user"]  # the demo county is there to compare
    assert after == before
    assert (tmp_path / "b" / "media" / "staff" / "张三.jpg").read_bytes() == b"\xff\xd8photo"
    # Django sees every migration applied, and the audit chain still verifies.
    _minsheng(target, "migrate", "--check")
    _minsheng(target, "audit", "verify")

    again = _minsheng(target, "restore", str(backup_dir), ok=False)
    assert again.returncode != 0
    assert "目标数据库不是空的" in again.stderr
    _minsheng(target, "restore", "--replace", str(backup_dir))


def test_restore_refuses_a_backup_of_another_engine(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text(
        json.dumps({"format": 1, "engine": "postgresql", "tables": {}})
    )
    assert settings.DATABASES["default"]["ENGINE"].endswith(("sqlite3", "postgresql"))
    other = "sqlite" if backups.engine() == "postgresql" else "postgresql"
    (tmp_path / "manifest.json").write_text(
        json.dumps({"format": 1, "engine": other, "tables": {}})
    )
    with pytest.raises(backups.BackupError, match=f"这是 {other} 的备份"):
        backups.restore(tmp_path, print)


def test_restore_refuses_a_directory_that_is_not_a_backup(tmp_path: Path) -> None:
    with pytest.raises(backups.BackupError, match="不是备份目录"):
        backups.restore(tmp_path, print)


@pytest.mark.postgres
def test_postgresql_backup_restores_every_record(tmp_path: Path) -> None:
    db = settings.DATABASES["default"]
    if not db["ENGINE"].endswith("postgresql"):
        pytest.skip("runs on the PostgreSQL pass (DATABASE_URL=postgres://...)")
    server = {
        "host": db["HOST"] or "127.0.0.1",
        "port": db["PORT"] or 5432,
        "user": db["USER"],
        "password": db["PASSWORD"],
    }
    names = [f"minsheng_backup_{uuid.uuid4().hex[:8]}_{side}" for side in ("a", "b")]
    admin = psycopg.connect(dbname="postgres", autocommit=True, **server)
    try:
        for name in names:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        login = f"{server['user']}:{server['password'] or ''}@{server['host']}:{server['port']}"
        urls = [f"postgres://{login}/{name}" for name in names]
        source = _env(tmp_path / "a", urls[0])
        backup_dir = _populate_and_back_up(source, tmp_path / "a", tmp_path / "backups")
        assert (backup_dir / "database.dump").read_bytes()[:5] == b"PGDMP"  # pg_dump custom format

        _minsheng(_env(tmp_path / "b", urls[1]), "restore", str(backup_dir))
        assert _pg_fingerprint(server, names[1]) == _pg_fingerprint(server, names[0])
        assert (tmp_path / "b" / "media" / "staff" / "张三.jpg").read_bytes() == b"\xff\xd8photo"
    finally:
        for name in names:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        admin.close()


def _pg_fingerprint(server: dict[str, object], dbname: str) -> dict[str, tuple[int, str]]:
    """Rows and a digest of the content of every table."""
    result: dict[str, tuple[int, str]] = {}
    with psycopg.connect(dbname=dbname, **server) as conn:
        tables = [
            r[0]
            for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ]
        query = sql.SQL(
            "SELECT count(*), coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), '')"
            " FROM {} t"
        )
        for table in tables:
            count, digest = conn.execute(query.format(sql.Identifier(table))).fetchone()
            result[table] = (count, digest)
    assert result["core_user"][0] > 0
    return result
