"""Settings come from the environment; each case runs ``minsheng`` in a fresh process."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

# Anything the developer's shell or the test runner exported must not leak into the cases.
_SETTINGS_VARS = {
    "DATABASE_URL",
    "REDIS_URL",
    "MINSHENG_ENV",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DEBUG",
    "MEDIA_ROOT",
    "STATIC_ROOT",
    "LOG_DIR",
    "MINSHENG_VAR_DIR",
    "DJANGO_SETTINGS_MODULE",
}


def _env(tmp_path: Path, **values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SETTINGS_VARS}
    env["MINSHENG_VAR_DIR"] = str(tmp_path / "var")
    env.update(values)
    return env


def _minsheng(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "minsheng", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _settings(env: dict[str, str], *names: str) -> dict[str, object]:
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {list(names)!r}}}, default=str))"
    )
    env = {**env, "DJANGO_SETTINGS_MODULE": "minsheng.settings"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _production(tmp_path: Path, **values: str) -> dict[str, str]:
    production = {
        "MINSHENG_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "example.gov.cn",
        # The deploy checks do not connect, so an unresolvable host keeps the test hermetic.
        "DATABASE_URL": "postgres://minsheng:secret@db.invalid:5432/minsheng",
    }
    return _env(tmp_path, **{**production, **values})


def test_check_deploy_passes_in_production(tmp_path: Path) -> None:
    result = _minsheng(_production(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_secret_key(tmp_path: Path) -> None:
    env = _production(tmp_path)
    del env["SECRET_KEY"]
    result = _minsheng(env, "check")
    assert result.returncode != 0
    assert (
        "SECRET_KEY must be set when MINSHENG_ENV=production"
        in result.stderr.strip().splitlines()[-1]
    )
    assert not (tmp_path / "var" / "secret_key").exists()  # no silently invented key


def test_production_without_allowed_hosts_fails_the_deploy_check(tmp_path: Path) -> None:
    env = _production(tmp_path)
    del env["ALLOWED_HOSTS"]
    result = _minsheng(env, "check", "--deploy")
    assert result.returncode != 0
    assert "minsheng.E001" in result.stderr


def test_sqlite_in_production_is_a_warning_not_an_error(tmp_path: Path) -> None:
    # The embedded database is fine for a small hall; the check says so without blocking it.
    env = _production(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    result = _minsheng(env, "check", "--deploy")
    assert result.returncode == 0, result.stderr
    assert "minsheng.W002" in result.stderr
    assert _minsheng(env, "check", "--deploy", "--fail-level", "WARNING").returncode != 0


def test_development_defaults_need_no_configuration(tmp_path: Path) -> None:
    env = _env(tmp_path)
    first = _settings(
        env,
        "DEBUG",
        "PRODUCTION",
        "DATABASES",
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "FORCE_PASSWORD_CHANGE",
    )
    assert first["PRODUCTION"] is False
    assert first["DEBUG"] is False
    assert first["FORCE_PASSWORD_CHANGE"] is False
    assert first["DATABASES"]["default"]["NAME"] == str(tmp_path / "var" / "minsheng.sqlite3")
    key_file = tmp_path / "var" / "secret_key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    # The generated key is kept, so sessions survive a restart.
    assert (
        _settings(env, "SECRET_KEY")["SECRET_KEY"]
        == first["SECRET_KEY"]
        == key_file.read_text().strip()
    )


def test_postgresql_redis_and_log_dir_from_the_environment(tmp_path: Path) -> None:
    env = _env(
        tmp_path,
        DATABASE_URL="postgres://app:pw@db.example:6543/county",
        REDIS_URL="redis://cache.example:6379/2",
        LOG_DIR=str(tmp_path),
    )
    values = _settings(env, "DATABASES", "CACHES", "TASKS", "LOGGING")
    db = values["DATABASES"]["default"]
    assert (db["ENGINE"], db["HOST"], db["PORT"], db["NAME"]) == (
        "django.db.backends.postgresql",
        "db.example",
        6543,
        "county",
    )
    assert db["CONN_MAX_AGE"] == 60
    assert values["CACHES"]["default"]["BACKEND"] == "minsheng.core.rediscache.ReusingRedisCache"
    assert values["TASKS"]["default"]["BACKEND"] == "django_tasks_rq.RQBackend"
    assert values["LOGGING"]["handlers"]["file"]["filename"] == str(tmp_path / "minsheng.log")
    assert not (tmp_path / "var" / "minsheng.sqlite3").exists()


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("yes", True), ("off", False)])
def test_debug_only_when_asked_for(tmp_path: Path, value: str, expected: bool) -> None:
    # Off by default (see test_development_defaults_need_no_configuration).
    assert _settings(_env(tmp_path, DEBUG=value), "DEBUG")["DEBUG"] is expected
