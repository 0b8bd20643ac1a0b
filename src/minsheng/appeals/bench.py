"""The appeal benchmarks (``minsheng bench appeals-intake`` / ``appeals-kpi``, ``make bench``).

Both run in a scratch PostgreSQL database of their own (never the configured one), created
and migrated by the benchmark on the server ``MINSHENG_BENCH_PG`` (default
``postgres://postgres@127.0.0.1:5432/postgres``, whose user may create databases):

- **appeals-intake**: gunicorn (several processes) serves the scratch database; threads,
  each a client with its own connection, POST appeals to ``/api/v1/appeals`` with an API
  token for a bounded number of requests. Reported: submissions per second, p50/p99
  latency, errors, and the CPU each submission cost in the server, PostgreSQL and the
  load generator (from /proc: a figure other load on the machine does not change). The
  receipts of those appeals (decision 0007) wait meanwhile; one process then writes them,
  timed. A second run sends the same load with ``minsheng worker`` beside the server, as
  deployed (receipts, SMS delivery, audit sealing): its rate, CPU and how long the
  receipts took to catch up. Last, the same rows inserted straight into PostgreSQL, one
  INSERT per transaction from as many connections, as the reference of what the database
  alone does. Target on 2 cores: ≥ 300/s, p99 < 200 ms, no errors.
- **appeals-kpi**: a data generator writes a million appeals with realistic distributions
  (it is SQL ``INSERT … SELECT generate_series``, not the actions: it exists to time
  queries, and its rows have no timeline or audit events). Then the dashboard's yearly
  KPI queries (target < 1 s each) and the workbench's first pages (< 200 ms) are timed:
  the first run in a fresh process and connection, and warm (median of several).
  The dataset is kept and reused while its size and generator version match.

The measuring half runs in a child process (``python -m minsheng.appeals.bench …``) whose
``DATABASE_URL`` is the scratch database, so the ORM code timed is the product's own.
Benchmarks report; a missed target is printed as MISSED and does not fail the run.
Sizes come from the environment: ``MINSHENG_BENCH_KPI_ROWS`` (1000000),
``MINSHENG_BENCH_REUSE`` (1; 0 regenerates), ``MINSHENG_BENCH_INTAKE_REQUESTS`` (6000),
``MINSHENG_BENCH_INTAKE_CLIENTS`` (16).
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import sys
import tempfile
import threading
import time
from typing import Any

from minsheng.core import benchkit
from minsheng.core.bench import Output, Results, register
from minsheng.core.benchkit import verdict

CHILD = "minsheng.appeals.bench"  # this module, run as the benchmark's child process

KPI_DATABASE = "minsheng_bench_kpi"
INTAKE_DATABASE = "minsheng_bench_intake"
# Bump when the generator changes, so that an old dataset is not reused.
GENERATOR_VERSION = 1
KPI_TARGET_S = 1.0
WORKBENCH_TARGET_S = 0.2
INTAKE_TARGET_RATE = 300.0
INTAKE_TARGET_P99_MS = 200.0
WARM_RUNS = 5
# Warm-up requests use other numbers (and idempotency keys) than the measured ones.
WARM_UP_FIRST = 10**8
KPI_LOCK = 0x6B7069  # pg_advisory_lock key of the KPI benchmark's scratch database


# ---------------------------------------------------------------- scratch databases


# ---------------------------------------------------------------- appeals-kpi


def kpi_benchmark(
    out: Output, rows: int, *, reuse: bool = True, database: str = KPI_DATABASE
) -> Results:
    url = benchkit.scratch_database(database)
    with tempfile.TemporaryDirectory(prefix="minsheng-bench-") as var_dir:
        env = benchkit.child_env(url, var_dir)
        out(f"  临时数据库 {database}：迁移…")
        benchkit.migrate(env)
        data = benchkit.run_child(out, CHILD, ["kpi", str(rows), "1" if reuse else "0"], env)
    results: Results = {"rows": (float(data["rows"]), "件诉求")}
    if data.get("generated_seconds"):
        results["generate_seconds"] = (data["generated_seconds"], "秒（生成数据）")
    if data.get("rollup_seconds"):
        results["rollup_seconds"] = (data["rollup_seconds"], "秒（重算统计日汇总）")
    for name, timing in data["timings"].items():
        target = WORKBENCH_TARGET_S if name.startswith("workbench") else KPI_TARGET_S
        for kind in ("first", "warm"):
            value = timing[kind]
            results[f"{name}_{kind}_ms"] = (
                value * 1000,
                f"毫秒 {verdict(value < target)}（目标 < {target * 1000:.0f}）",
            )
    return results


@register("appeals-kpi", "诉求统计：100万件诉求时全年统计查询（<1秒）和工作台首页（<200毫秒）")
def appeals_kpi(out: Output) -> Results:
    problem = benchkit.postgres_reachable()
    if problem:
        out(f"  跳过：{problem}")
        return {}
    rows = int(os.environ.get("MINSHENG_BENCH_KPI_ROWS", "1000000"))
    reuse = os.environ.get("MINSHENG_BENCH_REUSE", "1") != "0"
    return kpi_benchmark(out, rows, reuse=reuse)


# ---------------------------------------------------------------- appeals-intake


def intake_payload(i: int) -> dict[str, Any]:
    """The i-th appeal the clients submit (and the reference inserts)."""
    return {
        "title": f"小区路灯不亮{i}",
        "body": f"第{i}号楼前的路灯已经坏了两个星期，晚上出行很不方便，请尽快安排维修。",
        "appeal_type": ["help", "complaint", "consult", "suggestion"][i % 4],
        "urgency": "normal",
        "address": f"城关镇幸福路{i % 300}号",
        "citizen_name": "王先生",
        "citizen_mobile": f"139{i % 100_000_000:08d}",
        "consent_publish": i % 3 == 0,
        "channel": "api",
    }


def _drive(
    port: int, key: str, requests: int, clients: int, seconds: float, first: int = 0
) -> dict[str, Any]:
    """POST appeals number ``first`` … ``first + requests - 1`` from ``clients`` threads
    (for at most ``seconds``)."""
    import http.client

    counter = iter(range(first, first + requests))
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.monotonic() + seconds
    headers = {
        "Authorization": f"Bearer {key}",
        "Content-Type": "application/json",
        # As nginx in front of it would say: the server insists on HTTPS in production.
        "X-Forwarded-Proto": "https",
        "Host": "127.0.0.1",
    }

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        while time.monotonic() < deadline:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            body = json.dumps(intake_payload(i)).encode()
            started = time.perf_counter()
            try:
                conn.request(
                    "POST",
                    "/api/v1/appeals",
                    body=body,
                    headers={**headers, "Idempotency-Key": f"bench-{i}"},
                )
                response = conn.getresponse()
                response.read()
                if response.status != 201:
                    with lock:
                        errors.append(f"HTTP {response.status}")
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    errors.append(type(exc).__name__)
                conn.close()
            mine.append(time.perf_counter() - started)
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "done": len(latencies),
        "elapsed": elapsed,
        "latencies": latencies,
        "errors": errors,
    }


REFERENCE_SQL = (
    "INSERT INTO appeals_appeal (number, query_code_hash, title, body, search_tokens,"
    " appeal_type, urgency,"
    " channel, state, address, anonymous, citizen_name, citizen_mobile, consent_publish,"
    " auto_routed, received_at, due_provisional, reply, rehandle_count, extension_count,"
    " return_count, outcome_message, promote_reason, satisfaction, version, updated_at)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'received', %s, false, %s, %s, %s, false, now(),"
    " false, '', 0, 0, 0, '', '', '', 0, now())"
)


def _reference_row(i: int) -> list[Any]:
    from minsheng.appeals import search

    p = intake_payload(i)
    return [
        f"REF-{i:08d}",
        "x",
        p["title"],
        p["body"],
        search.document_tokens(p["title"], p["body"]),
        p["appeal_type"],
        p["urgency"],
        p["channel"],
        p["address"],
        p["citizen_name"],
        p["citizen_mobile"],
        p["consent_publish"],
    ]


def _reference_inserts(url: str, requests: int, clients: int) -> dict[str, Any]:
    """The same rows as plain single-row INSERTs, one transaction each, from ``clients``
    connections: what PostgreSQL alone does with this load."""
    import psycopg

    rows = iter([_reference_row(i) for i in range(requests)])  # prepared before the clock
    lock = threading.Lock()
    connections = [psycopg.connect(url, autocommit=True) for _ in range(clients)]

    def client(conn: psycopg.Connection[Any]) -> None:
        while True:
            with lock:
                row = next(rows, None)
            if row is None:
                return
            conn.execute(REFERENCE_SQL, row)

    threads = [threading.Thread(target=client, args=(conn,)) for conn in connections]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    for conn in connections:
        conn.close()
    return {"elapsed": elapsed}


def intake_benchmark(
    out: Output,
    requests: int,
    clients: int,
    *,
    seconds: float = 120.0,
    workers: int | None = None,
    database: str = INTAKE_DATABASE,
    redis_url: str | None = None,
) -> Results:
    url = benchkit.scratch_database(database, fresh=True)
    workers = workers or int(
        os.environ.get("MINSHENG_BENCH_WORKERS", str((os.cpu_count() or 1) * 2 + 1))
    )
    with tempfile.TemporaryDirectory(prefix="minsheng-bench-") as var_dir:
        redis_db = redis_url or os.environ.get("MINSHENG_BENCH_REDIS", "redis://127.0.0.1:6379/14")
        env = benchkit.child_env(
            url,
            var_dir,
            MINSHENG_ENV="production",
            DEBUG="0",
            SECRET_KEY=secrets.token_urlsafe(40),
            ALLOWED_HOSTS="127.0.0.1",
            REDIS_URL=redis_db,
            CACHE_KEY_PREFIX=f"minsheng-bench-{secrets.token_hex(4)}",
            # One token sends the whole load: its per-token limit is not what is measured.
            API_RATE_LIMIT="100000000/min",
            CONN_MAX_AGE="600",
            STATIC_ROOT=os.path.join(var_dir, "static"),
        )
        os.makedirs(env["STATIC_ROOT"], exist_ok=True)
        out(f"  临时数据库 {database}：迁移…")
        benchkit.migrate(env)
        key = benchkit.run_child(out, CHILD, ["intake-setup"], env)["key"]
        port = benchkit.free_port()
        # Sync workers, as `minsheng serve --gunicorn` runs them (one request at a time
        # per process: no thread switching, the lowest CPU and latency per request here).
        threads = int(os.environ.get("MINSHENG_BENCH_THREADS", "1"))
        with benchkit.gunicorn(env, port, workers, out, threads=threads) as server:
            # A short warm-up: imports, first connections, the calendar's year.
            _drive(port, key, min(200, requests), clients, seconds, first=WARM_UP_FIRST)
            benchkit.run_child(out, CHILD, ["receipts"], env)  # the warm-up's receipts
            out(f"  {clients} 个并发客户端提交 {requests} 件（后台不登记回执）…")
            before = benchkit.cpu_seconds(server)
            burst = _drive(port, key, requests, clients, seconds)
            burst["cpu"] = benchkit.cpu_delta(before, benchkit.cpu_seconds(server))
            # No worker ran meanwhile: the receipts are all waiting; one process writes
            # them now, timed, so that the cost of the deferred half shows too.
            out("  登记回执（受理记录、审计、短信、检索词）…")
            receipts = benchkit.run_child(out, CHILD, ["receipts"], env)
            # The same load again with `minsheng worker` beside the server, as deployed:
            # the rate the county can keep up, receipts included.
            out(f"  同样的负载，`minsheng worker` 同时登记回执（{requests} 件）…")
            with benchkit.worker(env) as worker:
                before = benchkit.cpu_seconds(server, worker)
                steady = _drive(port, key, requests, clients, seconds, first=requests)
                backlog = _pending_receipts(url)
                steady["cpu"] = benchkit.cpu_delta(before, benchkit.cpu_seconds(server, worker))
                drained = _wait_for_receipts(url, seconds)
        out("  对照：同样的行逐条 INSERT 直接写入 PostgreSQL…")
        reference = _reference_inserts(url, burst["done"], clients)
    reference_rate = burst["done"] / reference["elapsed"] if reference["elapsed"] else 0.0
    receipt_rate = receipts["count"] / receipts["seconds"] if receipts["seconds"] else 0.0
    return {
        **_run_results(out, "", burst),
        "receipts_written": (float(receipts["count"]), "件回执（一个进程在提交结束后批量登记）"),
        "receipts_per_second": (receipt_rate, "件/秒（登记回执）"),
        "receipts_cpu_ms": (receipts["cpu_ms"], "毫秒 CPU/件（登记回执的进程，不含数据库）"),
        **_run_results(out, "with_worker_", steady),
        "with_worker_backlog": (float(backlog), "件回执在最后一件提交时尚未登记"),
        "with_worker_drained_s": (drained, "秒后全部登记"),
        "reference_inserts_per_second": (reference_rate, "行/秒（直接逐条 INSERT，对照）"),
        "clients": (float(clients), "个并发客户端"),
        "server_processes": (float(workers), "个 gunicorn 进程"),
        "server_threads": (float(threads), "个线程/进程（1 为 sync 工作进程）"),
    }


CPU_LABELS = {
    "server": "gunicorn",
    "worker": "minsheng worker",
    "database": "PostgreSQL",
    "client": "压测客户端",
}


def _run_results(out: Output, prefix: str, run: dict[str, Any]) -> Results:
    """Rate, latency, errors and CPU per submission of one run of ``_drive``."""
    done, latencies = run["done"], run["latencies"]
    rate = done / run["elapsed"] if run["elapsed"] else 0.0
    p99 = benchkit.percentile(latencies, 0.99) * 1000
    if run["errors"]:
        out(f"  错误示例：{sorted(set(run['errors']))[:5]}")
    results: Results = {
        f"{prefix}submitted": (float(done), "件"),
        f"{prefix}submissions_per_second": (
            rate,
            f"件/秒 {verdict(rate >= INTAKE_TARGET_RATE)}（目标 ≥ {INTAKE_TARGET_RATE:.0f}）",
        ),
        f"{prefix}p50_ms": (benchkit.percentile(latencies, 0.5) * 1000, "毫秒"),
        f"{prefix}p99_ms": (
            p99,
            f"毫秒 {verdict(p99 < INTAKE_TARGET_P99_MS)}（目标 < {INTAKE_TARGET_P99_MS:.0f}）",
        ),
        f"{prefix}errors": (float(len(run["errors"])), f"个 {verdict(not run['errors'])}"),
    }
    if run["cpu"] and done:
        for name, seconds in run["cpu"].items():
            results[f"{prefix}cpu_{name}_ms"] = (
                seconds / done * 1000,
                f"毫秒 CPU/件（{CPU_LABELS[name]}）",
            )
        per_submission = sum(run["cpu"].values()) / done
        cores = os.cpu_count() or 1
        results[f"{prefix}cpu_bound_rate"] = (
            cores / per_submission if per_submission else 0.0,
            f"件/秒（CPU 上限 = {cores} 核 ÷ 每件 CPU；机器上别的负载不改变它）",
        )
    return results


def _pending_receipts(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM appeals_pendingreceipt").fetchone()
    return int(row[0]) if row else 0


def _wait_for_receipts(url: str, limit: float) -> float:
    """Seconds until no receipt is waiting (at most ``limit``)."""
    started = time.perf_counter()
    while _pending_receipts(url) and time.perf_counter() - started < limit:
        time.sleep(0.1)
    return time.perf_counter() - started


@register("appeals-intake", "诉求受理：多进程服务器上并发提交诉求（目标 ≥300件/秒，p99<200毫秒）")
def appeals_intake(out: Output) -> Results:
    problem = benchkit.postgres_reachable() or benchkit.gunicorn_usable()
    if problem:
        out(f"  跳过：{problem}")
        return {}
    return intake_benchmark(
        out,
        requests=int(os.environ.get("MINSHENG_BENCH_INTAKE_REQUESTS", "6000")),
        clients=int(os.environ.get("MINSHENG_BENCH_INTAKE_CLIENTS", "16")),
    )


# ---------------------------------------------------------------- the child process


def _child_receipts() -> dict[str, Any]:
    from minsheng.appeals import actions

    cpu, started = time.process_time(), time.perf_counter()
    count = actions.register_receipts()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"count": count, "seconds": seconds, "cpu_ms": cpu / count * 1000 if count else 0.0}


def _child_intake_setup() -> dict[str, Any]:
    from minsheng.core import tokens
    from minsheng.core.models import Role, User

    user, _created = User.objects.get_or_create(
        username="bench-intake", defaults={"role": Role.DISPATCHER, "name": "压测对接系统"}
    )
    _token, key = tokens.create_token(user, "受理压测")
    return {"key": key}


DEPARTMENT_NAMES = [
    "县住房和城乡建设局",
    "县交通运输局",
    "县自然资源局",
    "县生态环境局",
    "县人力资源和社会保障局",
    "县市场监督管理局",
    "县卫生健康局",
    "县教育局",
    "县公安局",
    "县水利局",
    "县农业农村局",
    "县民政局",
    "县城市管理局",
    "县应急管理局",
    "县医疗保障局",
]
GENERATE_BATCH = 100_000
# Derived per row from independent random draws: when it came in, what kind, which way it
# went and how fast. Shares follow a county 12345 hotline: mostly 求助 and 投诉 by phone,
# ~85% answered on time, ~85% satisfied or basically satisfied, ~5% returned once.
GENERATE_SQL = """
WITH a AS (
  SELECT g,
    %(now)s::timestamptz - (%(span)s * (1 - sqrt(random()))) * interval '1 second' AS rec,
    random() AS rt, random() AS ru, random() AS rc, random() AS rs, random() AS rsat,
    random() AS rh, random() AS rsign, random() AS rdept, random() AS rtown, random() AS rcat,
    random() AS rext, random() AS rret, random() AS rreh, random() AS rdisp
  FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g
), b AS (
  SELECT a.*,
    CASE WHEN rt < 0.20 THEN 'consult' WHEN rt < 0.55 THEN 'help'
         WHEN rt < 0.80 THEN 'complaint' WHEN rt < 0.85 THEN 'report'
         WHEN rt < 0.97 THEN 'suggestion' ELSE 'praise' END AS kind,
    ru < 0.05 AS urgent,
    rec + (0.2 + rdisp * 7) * interval '1 hour' AS disp
  FROM a
), c AS (
  SELECT b.*,
    CASE WHEN urgent THEN 0 WHEN kind = 'consult' THEN 3
         WHEN kind IN ('help', 'praise') THEN 5 ELSE 13 END AS limit_days
  FROM b
), d AS (
  SELECT c.*,
    disp + power(rsign, 3) * interval '60 hours' AS signed,
    date_trunc('day', disp) + interval '2 days' - interval '1 second' AS sign_due,
    date_trunc('day', disp + (limit_days * 1.4) * interval '1 day')
      + interval '1 day' - interval '1 second'
      + CASE WHEN rext < 0.04 THEN interval '7 days' ELSE interval '0' END AS due,
    (greatest(limit_days, 0.5) * 1.4 * (0.2 + rh * 0.95)) * interval '1 day' AS took
  FROM c
), e AS (
  SELECT d.*, signed + took AS replied,
    CASE
      WHEN rs < 0.02 THEN 'refused'
      WHEN rs < 0.04 THEN 'merged'
      WHEN %(now)s < disp THEN 'received'
      WHEN rs < 0.045 THEN 'promoted'
      WHEN rret < 0.05 AND %(now)s < disp + interval '20 hours' THEN 'returned'
      WHEN %(now)s < signed THEN 'dispatched'
      WHEN rs < 0.055 OR %(now)s < signed + took THEN 'handling'
      WHEN %(now)s < signed + took + interval '3 days' THEN 'replied'
      ELSE 'closed'
    END AS state
  FROM d
)
INSERT INTO appeals_appeal (
  number, query_code_hash, title, body, search_tokens, appeal_type, urgency, category_id,
  channel, state,
  division_id, town_id, address, anonymous, citizen_name, citizen_mobile, citizen_id,
  consent_publish, entered_by_id, lead_department_id, auto_routed, received_at,
  dispatched_at, sign_due_at, signed_at, due_at, due_provisional, replied_at, handling_days,
  closed_at, reply, sign_reminded_at, due_soon_notified_at, overdue_notified_at,
  rehandle_count, extension_count, return_count, merged_into_id, outcome_message,
  promote_reason, resolved, satisfaction, rated_at, version, updated_at
)
SELECT
  'BK-' || lpad(g::text, 10, '0'), 'x', '诉求' || g,
  '反映：小区门口道路破损严重，雨天积水，老人小孩出行不便，希望有关部门尽快修复。编号' || g,
  '诉求 ' || g || ' 反映 小区 门口 道路 破损 严重 雨天 积水 老人 小孩 出行 不便 希望'
    || ' 有关 部门 尽快 修复',
  kind, CASE WHEN urgent THEN 'urgent' ELSE 'normal' END,
  CASE WHEN rcat < 0.1 THEN NULL
       ELSE (%(categories)s::bigint[])[1 + floor(power(rcat, 1.5) * %(n_categories)s)::int] END,
  CASE WHEN rc < 0.45 THEN 'hotline' WHEN rc < 0.70 THEN 'web' WHEN rc < 0.85 THEN 'wechat'
       WHEN rc < 0.90 THEN 'centre' WHEN rc < 0.94 THEN 'field' WHEN rc < 0.97 THEN 'department'
       WHEN rc < 0.99 THEN 'api' ELSE 'email' END,
  state, NULL,
  CASE WHEN rtown < 0.08 THEN NULL
       ELSE (%(towns)s::bigint[])[1 + floor(rtown * %(n_towns)s)::int] END,
  '幸福路' || (g %% 500) || '号', rc > 0.97, '张先生',
  '139' || lpad((g %% 100000000)::text, 8, '0'), NULL, rsat < 0.4, NULL,
  CASE WHEN state IN ('received', 'refused', 'merged', 'returned') THEN NULL
       ELSE (%(departments)s::bigint[])[1 + floor(power(rdept, 1.7) * %(n_departments)s)::int]
  END,
  false, rec,
  CASE WHEN state IN ('received', 'refused', 'merged') THEN NULL ELSE disp END,
  CASE WHEN state IN ('received', 'refused', 'merged', 'returned') THEN NULL ELSE sign_due END,
  CASE WHEN state IN ('handling', 'replied', 'closed', 'promoted') THEN signed END,
  CASE WHEN state IN ('received', 'refused', 'merged', 'returned') THEN NULL ELSE due END,
  false,
  CASE WHEN state IN ('replied', 'closed') THEN replied END,
  CASE WHEN state IN ('replied', 'closed')
       THEN round(extract(epoch FROM replied - disp) / 86400 * 5 / 7)::int END,
  CASE WHEN state = 'closed' THEN replied + interval '3 days'
       WHEN state = 'refused' THEN rec + interval '1 hour' END,
  CASE WHEN state IN ('replied', 'closed') THEN '经核实，已安排相关人员处理完毕。' ELSE '' END,
  NULL, NULL, NULL,
  CASE WHEN state = 'closed' AND rsat >= 0.85 AND rsat < 0.92 AND rreh < 0.5 THEN 1 ELSE 0 END,
  CASE WHEN rext < 0.04 AND state IN ('handling', 'replied', 'closed') THEN 1 ELSE 0 END,
  CASE WHEN rret < 0.05 AND state NOT IN ('received', 'refused', 'merged') THEN 1 ELSE 0 END,
  NULL,
  CASE WHEN state = 'refused' THEN '属于紧急警情，请立即拨打110。' ELSE '' END,
  CASE WHEN state = 'promoted' THEN '需统筹资金改造' ELSE '' END,
  CASE WHEN state = 'closed' AND rsat < 0.92 THEN rsat < 0.8 END,
  CASE WHEN state <> 'closed' THEN ''
       WHEN rsat < 0.68 THEN 'satisfied' WHEN rsat < 0.85 THEN 'basic'
       WHEN rsat < 0.92 THEN 'unsatisfied' ELSE '' END,
  CASE WHEN state = 'closed' AND rsat < 0.92 THEN replied + interval '1 day' END,
  3, %(now)s
FROM e
"""
FINISH_SQL = [
    # Duplicates point at the appeal before them.
    "UPDATE appeals_appeal SET merged_into_id = CASE WHEN id > %(min_id)s THEN id - 1"
    " ELSE id + 1 END WHERE state = 'merged'",
    # The department that returned each returned appeal: not the one leading it now.
    "INSERT INTO appeals_returnrecord (appeal_id, department_id, reason, returned_by_id,"
    " returned_at, disputed, dispute_note)"
    " SELECT id, CASE WHEN (%(departments)s::bigint[])[1 + id %% %(n_departments)s]"
    " = lead_department_id THEN (%(departments)s::bigint[])[1 + (id + 1) %% %(n_departments)s]"
    " ELSE (%(departments)s::bigint[])[1 + id %% %(n_departments)s] END,"
    " '不属于本单位职责范围', NULL, dispatched_at + interval '6 hours', id %% 10 = 0, ''"
    " FROM appeals_appeal WHERE return_count > 0",
    # One in twenty dispatched appeals has a co-handling department.
    "INSERT INTO appeals_appeal_co_departments (appeal_id, department_id)"
    " SELECT id, (%(departments)s::bigint[])[1 + (id * 7) %% %(n_departments)s]"
    " FROM appeals_appeal WHERE lead_department_id IS NOT NULL AND id %% 20 = 0"
    " AND (%(departments)s::bigint[])[1 + (id * 7) %% %(n_departments)s]"
    " <> lead_department_id",
]


def _reference_data() -> dict[str, Any]:
    from minsheng.appeals.models import Category
    from minsheng.core.models import Department, Division, Role, User

    departments = [
        Department.objects.get_or_create(
            code=f"BK{i:02d}",
            defaults={
                "name": DEPARTMENT_NAMES[i] if i < len(DEPARTMENT_NAMES) else f"县直部门{i:02d}"
            },
        )[0]
        for i in range(30)
    ]
    county, _c = Division.objects.get_or_create(
        code="BK0000", defaults={"name": "压测县", "level": Division.Level.COUNTY}
    )
    towns = [
        Division.objects.get_or_create(
            code=f"BK{i:04d}",
            defaults={"name": f"第{i}镇", "level": Division.Level.TOWN, "parent": county},
        )[0]
        for i in range(1, 17)
    ]
    categories = [
        Category.objects.get_or_create(code=f"BK{i:02d}", defaults={"name": f"分类{i:02d}"})[0]
        for i in range(40)
    ]
    User.objects.get_or_create(
        username="bench-handler",
        defaults={"role": Role.HANDLER, "department": departments[0], "name": "压测承办人"},
    )
    User.objects.get_or_create(
        username="bench-dispatcher", defaults={"role": Role.DISPATCHER, "name": "压测派单员"}
    )
    return {
        "departments": [d.pk for d in departments],
        "n_departments": len(departments),
        "towns": [t.pk for t in towns],
        "n_towns": len(towns),
        "categories": [c.pk for c in categories],
        "n_categories": len(categories),
    }


def _dataset_rows() -> int | None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_dataset (rows bigint, version int)")
        cursor.execute("SELECT rows, version FROM bench_dataset")
        row = cursor.fetchone()
    return int(row[0]) if row and row[1] == GENERATOR_VERSION else None


def generate(rows: int, out: Output) -> None:
    """Replace the appeals with ``rows`` generated ones received over the last two years."""
    from django.db import connection, transaction
    from django.utils import timezone

    params: dict[str, Any] = {
        **_reference_data(),
        "now": timezone.now(),
        "span": 2 * 365 * 86400.0,
    }
    # One transaction: a generation that fails half-way leaves the old data and indexes.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM bench_dataset")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cursor.execute(
            "TRUNCATE appeals_appeal, appeals_returnrecord, appeals_appeal_co_departments"
            " RESTART IDENTITY CASCADE"
        )
        # Bulk-load practice: the indexes (the full-text one above all) are built once at
        # the end rather than row by row.
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'appeals_appeal'"
            " AND indexname NOT IN (SELECT conname FROM pg_constraint)"
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        for first in range(1, rows + 1, GENERATE_BATCH):
            last = min(rows, first + GENERATE_BATCH - 1)
            cursor.execute(GENERATE_SQL, {**params, "first": first, "last": last})
            out(f"  已生成 {last:,} / {rows:,} 件")
        cursor.execute("SELECT min(id) FROM appeals_appeal")
        params["min_id"] = cursor.fetchone()[0]
        for statement in FINISH_SQL:
            cursor.execute(statement, params)
        # The foreign keys are checked now, not at commit: CREATE INDEX refuses to run
        # while their deferred checks are pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        out(f"  重建 {len(indexes)} 个索引…")
        for _name, definition in indexes:
            cursor.execute(definition)
    out("  VACUUM ANALYZE…")
    with connection.cursor() as cursor:
        for table in ("appeals_appeal", "appeals_returnrecord", "appeals_appeal_co_departments"):
            cursor.execute(f"VACUUM ANALYZE {table}")
        cursor.execute("INSERT INTO bench_dataset VALUES (%s, %s)", [rows, GENERATOR_VERSION])


def time_queries(out: Output) -> dict[str, dict[str, float]]:
    """The dashboard's yearly queries and the workbench's first pages, first and warm."""
    import datetime as dt

    from django.core.paginator import Paginator
    from django.utils import timezone

    from minsheng.appeals import kpis
    from minsheng.appeals.views import staff_queries
    from minsheng.appeals.views.staff import PAGE_SIZE
    from minsheng.core.models import Role, User

    # The latest 365 days as the dashboard asks for them (whole days, today included).
    today = timezone.localdate()
    year = kpis.period("custom", first=today - dt.timedelta(days=364), last=today)
    start, end = year.start, year.end
    handler = User.objects.get(username="bench-handler")
    dispatcher = User.objects.get(username="bench-dispatcher")
    supervisor, _created = User.objects.get_or_create(
        username="bench-supervisor", defaults={"role": Role.SUPERVISOR, "name": "压测督查室"}
    )
    department = handler.department_id

    def first_page(queryset: Any) -> None:
        # As the workbench view does: the count for the pager, then the rows.
        page = Paginator(queryset, PAGE_SIZE).page(1)
        list(page.object_list)

    cases: dict[str, Any] = {
        **{
            f"kpi_year_{group}": (lambda g=group: kpis.compute(start, end, g))
            for group in kpis.GROUPS
        },
        "kpi_year_total": lambda: kpis.compute(start, end, None),
        "kpi_year_trend": lambda: kpis.trend(start, end, "month"),
        "kpi_year_one_department": lambda: kpis.compute(
            start, end, "department", department_id=department
        ),
        "kpi_year_one_department_by_town": lambda: kpis.compute(
            start, end, "town", department_id=department
        ),
        "workbench_handler_queue": lambda: first_page(staff_queries.workbench(handler, {})),
        "workbench_dispatcher_queue": lambda: first_page(staff_queries.workbench(dispatcher, {})),
        "workbench_supervisor_queue": lambda: first_page(staff_queries.workbench(supervisor, {})),
        "workbench_supervisor_overdue": lambda: first_page(
            staff_queries.workbench(supervisor, {"overdue": True})
        ),
        "workbench_dispatcher_new": lambda: first_page(staff_queries.new_appeals(dispatcher)),
    }
    timings = {}
    for name, fn in cases.items():
        timings[name] = first_and_warm(fn)
        out(
            f"  {name:<34} 首次 {timings[name]['first'] * 1000:8.1f} 毫秒"
            f"  热 {timings[name]['warm'] * 1000:8.1f} 毫秒"
        )
    return timings


def _child_kpi(rows: int, *, reuse: bool) -> dict[str, Any]:
    from django.db import connection

    from minsheng.appeals import rollup
    from minsheng.appeals.models import Appeal

    # Two runs on one scratch database would truncate each other's data half-way: the
    # second waits for the first (the lock goes with this process's connection).
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [KPI_LOCK])
    generated = None
    if reuse and _dataset_rows() == rows:
        print(f"  复用已生成的 {rows:,} 件诉求（MINSHENG_BENCH_REUSE=0 重新生成）")
    else:
        _dataset_rows()  # creates the marker table
        started = time.perf_counter()
        generate(rows, print)
        generated = time.perf_counter() - started
    # The generated rows bypass the actions: the rollup is rebuilt as after a bulk import
    # (on a reused dataset it is normally current already, and this is one index probe).
    started = time.perf_counter()
    result = rollup.rebuild() if generated is not None else rollup.refresh()
    rollup_seconds = time.perf_counter() - started
    print(f"  统计日汇总：{result}，{rollup_seconds:.1f} 秒")
    return {
        "rows": Appeal.objects.count(),
        "generated_seconds": generated,
        "rollup_seconds": rollup_seconds if result.days else None,
        "timings": time_queries(print),
    }


def main(argv: list[str]) -> int:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minsheng.settings")
    django.setup()
    command = argv[0]
    if command == "kpi":
        result = _child_kpi(int(argv[1]), reuse=argv[2] == "1")
    elif command == "intake-setup":
        result = _child_intake_setup()
    elif command == "receipts":
        result = _child_receipts()
    else:
        print(f"unknown command {command}", file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


def timed(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def first_and_warm(fn: Any) -> dict[str, float]:
    first = timed(fn)
    warm = statistics.median(timed(fn) for _ in range(WARM_RUNS))
    return {"first": first, "warm": warm}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
