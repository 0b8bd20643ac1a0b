"""The harness the benchmarks share: scratch PostgreSQL databases, child processes that
report progress lines and a final JSON line, a multi-process gunicorn server, percentiles.

Benchmarks that measure a server run it on a scratch database in a child environment, so
that nothing they write reaches the database the command was started with.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from minsheng.core.bench import Output

ADMIN_URL = os.environ.get("MINSHENG_BENCH_PG", "postgres://postgres@127.0.0.1:5432/postgres")


def database_url(name: str) -> str:
    parts = urlsplit(ADMIN_URL)
    return urlunsplit(parts._replace(path="/" + name))


def scratch_database(name: str, *, fresh: bool = False) -> str:
    """Create the database ``name`` (dropped first when ``fresh``) and return its URL."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and fresh:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            exists = None
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return database_url(name)


def drop_database(name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def postgres_reachable() -> str | None:
    """None when the benchmark server answers, else why not."""
    import psycopg

    try:
        with psycopg.connect(ADMIN_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"PostgreSQL at {ADMIN_URL} is unreachable: {exc}"
    return None


def child_env(database_url: str, var_dir: str, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "MINSHENG_VAR_DIR": var_dir,
        "DJANGO_SETTINGS_MODULE": "minsheng.settings",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("REDIS_URL", None)
    env.update(extra)
    return env


def migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "minsheng", "migrate", "--no-input", "-v", "0"],
        env=env,
        check=True,
    )


def run_child(out: Output, module: str, args: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run ``python -m MODULE ARGS``: its lines are progress, the last one is JSON."""
    process = subprocess.Popen(  # noqa: S603 (this interpreter, our own arguments)
        [sys.executable, "-m", module, *args],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    last = ""
    for line in process.stdout:
        line = line.rstrip("\n")
        if line.startswith("{"):
            last = line
        else:
            out(line)
    if process.wait() != 0 or not last:
        raise RuntimeError(f"benchmark child {args} failed with exit code {process.returncode}")
    result: dict[str, Any] = json.loads(last)
    return result


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


def percentile(values: list[float], q: float) -> float:
    """The q-quantile of sorted ``values`` (nearest rank)."""
    if not values:
        return 0.0
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def gunicorn_usable() -> str | None:
    """None when gunicorn can be started here, else why not."""
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        return "gunicorn is not installed"
    if sys.platform == "win32":
        return "gunicorn does not run on Windows"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# Run by gunicorn's master before it forks: jieba builds its dictionary (3–5 s) on first
# use, which would otherwise stall the first request of every worker process.
GUNICORN_CONFIG = "import jieba\n\njieba.initialize()\n"


def cpu_seconds(server_pid: int, worker_pid: int | None = None) -> dict[str, float]:
    """CPU seconds used so far by the server (``server_pid`` and its child processes), the
    worker (``worker_pid`` and its children, when given), PostgreSQL (every process named
    ``postgres``) and this process (the load generator). Read from /proc, so on Linux only
    (empty elsewhere): the difference over a run shows where the CPU of a request goes, a
    figure that other load on the machine does not change as it changes a rate."""
    proc = "/proc"
    if not os.path.isdir(proc):
        return {}
    tick = os.sysconf("SC_CLK_TCK")
    totals = {"server": 0.0, "database": 0.0}
    if worker_pid is not None:
        totals["worker"] = 0.0
    for entry in os.listdir(proc):
        if not entry.isdigit():
            continue
        try:
            with open(f"{proc}/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue  # ended meanwhile
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        pid, ppid = int(entry), int(fields[1])
        used = (int(fields[11]) + int(fields[12])) / tick
        if server_pid in (pid, ppid):
            totals["server"] += used
        elif worker_pid is not None and worker_pid in (pid, ppid):
            totals["worker"] += used
        elif name == "postgres":
            totals["database"] += used
    own = os.times()
    totals["client"] = own.user + own.system
    return totals


def cpu_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {name: after[name] - before[name] for name in before}


@contextmanager
def worker(env: dict[str, str]) -> Iterator[int]:
    """``minsheng worker`` running until the block ends; the block gets its process id."""
    process = subprocess.Popen(
        [sys.executable, "-m", "minsheng", "worker", "--interval", "0.2", "-v", "0"],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    try:
        yield process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def gunicorn(
    env: dict[str, str], port: int, workers: int, out: Output, *, threads: int | None = None
) -> Iterator[int]:
    """A gunicorn server on ``port`` until the block ends; the block gets its process id.
    ``threads`` per process comes from ``MINSHENG_BENCH_THREADS`` (default 4) unless given;
    with one thread the workers are gunicorn's sync workers."""
    threads = threads or int(os.environ.get("MINSHENG_BENCH_THREADS", "4"))
    config = os.path.join(env["MINSHENG_VAR_DIR"], "gunicorn_bench.py")
    with open(config, "w") as f:
        f.write(GUNICORN_CONFIG)
    process = subprocess.Popen(  # noqa: S603 (this interpreter, our own arguments)
        [
            sys.executable,
            "-m",
            "gunicorn",
            "minsheng.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            # One thread: the sync worker, as `minsheng serve --gunicorn` runs.
            "--worker-class",
            "sync" if threads == 1 else "gthread",
            "--threads",
            str(threads),
            "--keep-alive",
            "30",
            "--log-level",
            "warning",
            "--preload",
            "--config",
            config,
        ],
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError("gunicorn exited on start")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start within 60 s") from None
                time.sleep(0.2)
        out(f"  gunicorn 127.0.0.1:{port}，{workers} 个进程 × {threads} 线程")
        yield process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
