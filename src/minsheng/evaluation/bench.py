"""好差评 benchmarks (``minsheng bench evaluation-stats`` / ``evaluation-pad``).

Both run in scratch PostgreSQL databases of their own, like the appeal benchmarks (with the
harness of ``core.benchkit``), on ``MINSHENG_BENCH_PG``:

- **evaluation-stats**: SQL (``generate_series``) writes a hall of 7 departments, 210 windows,
  300 staff, 500 matters and ``MINSHENG_BENCH_EVAL_ROWS`` (1,000,000) ratings over a year
  (about 1.1 M service events, 差评 cases for the bad ones); the monthly rollup is built
  (timed), then the statistics of the year by department/window/staff/matter/channel, the
  monthly trend, the 红黑榜 and the public table are timed, first run and warm.
  Target: each < 1 s. The dataset is kept and reused while its size matches.
- **evaluation-pad**: gunicorn (several processes) serves a scratch database with
  ``MINSHENG_BENCH_PADS`` (50) bound pads, each with a queue of unrated events; each pad is
  a thread with its own connection that submits a rating every
  ``MINSHENG_BENCH_PAD_INTERVAL`` seconds (0.5: a hundred times a real hall's pace) until
  it made ``MINSHENG_BENCH_PAD_RATINGS`` (40). Reported: p50/p99 latency, errors.
  Target: p99 < 50 ms.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import statistics
import sys
import tempfile
import threading
import time
import uuid
from typing import Any

from minsheng.core import benchkit
from minsheng.core.bench import Output, Results, register

CHILD = "minsheng.evaluation.bench"  # this module, run as the benchmark's child process

STATS_DATABASE = "minsheng_bench_eval_stats"
PAD_DATABASE = "minsheng_bench_eval_pad"
GENERATOR_VERSION = 1
STATS_TARGET_S = 1.0
PAD_TARGET_P99_MS = 50.0
WARM_RUNS = 5
RATED_SHARE = 0.9


# ---------------------------------------------------------------- evaluation-stats


def stats_benchmark(
    out: Output, rows: int, *, reuse: bool = True, database: str = STATS_DATABASE
) -> Results:
    url = benchkit.scratch_database(database)
    with tempfile.TemporaryDirectory(prefix="minsheng-bench-") as var_dir:
        env = benchkit.child_env(url, var_dir)
        out(f"  临时数据库 {database}：迁移…")
        benchkit.migrate(env)
        result = benchkit.run_child(out, CHILD, ["stats", str(rows), "1" if reuse else "0"], env)
    results: Results = {"ratings": (float(result["ratings"]), "条评价")}
    if result.get("generated_seconds") is not None:
        results["generated_seconds"] = (result["generated_seconds"], "秒（生成数据）")
    if result.get("rollup_seconds") is not None:
        results["rollup_seconds"] = (result["rollup_seconds"], "秒（重建全年月度汇总）")
    for name, timing in result["timings"].items():
        ok = timing["first"] < STATS_TARGET_S and timing["warm"] < STATS_TARGET_S
        results[f"{name}_first_ms"] = (timing["first"] * 1000, "毫秒（首次）")
        results[f"{name}_warm_ms"] = (
            timing["warm"] * 1000,
            f"毫秒（热） {benchkit.verdict(ok)}（目标 < {STATS_TARGET_S * 1000:.0f}）",
        )
    return results


@register("evaluation-stats", "好差评统计：100万条评价时全年各维度统计和红黑榜（<1秒）")
def evaluation_stats(out: Output) -> Results:
    problem = benchkit.postgres_reachable()
    if problem:
        out(f"  跳过：{problem}")
        return {}
    return stats_benchmark(
        out,
        rows=int(os.environ.get("MINSHENG_BENCH_EVAL_ROWS", "1000000")),
        reuse=os.environ.get("MINSHENG_BENCH_REUSE", "1") != "0",
    )


def _dataset_rows() -> int | None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_eval_dataset (rows bigint, version int)")
        cursor.execute("SELECT rows, version FROM bench_eval_dataset")
        row = cursor.fetchone()
    return int(row[0]) if row and row[1] == GENERATOR_VERSION else None


def _hall(prefix: str, departments: int, windows: int, staff: int, matters: int) -> None:
    """The bench hall through the ORM (small); the big tables come from SQL."""
    from minsheng.catalog.models import ServiceMatter
    from minsheng.core.models import Department, Hall, Role, User, Window

    depts = Department.objects.bulk_create(
        [Department(code=f"{prefix}{d}", name=f"压测部门{prefix}{d}") for d in range(departments)]
    )
    hall = Hall.objects.create(code=f"{prefix}H", name="压测大厅")
    made = Window.objects.bulk_create(
        [
            Window(hall=hall, number=f"{w:03d}", name=f"窗口{w}", department=depts[w % departments])
            for w in range(windows)
        ]
    )
    people = []
    for s in range(staff):
        window = made[s % windows]
        people.append(
            User(
                username=f"{prefix}staff{s}",
                name=f"压测{s}",
                role=Role.WINDOW_STAFF,
                department_id=window.department_id,
                window=window,
                staff_no=f"B{s:04d}",
                password="!",  # noqa: S106 (an unusable password, as set_unusable_password)
            )
        )
    User.objects.bulk_create(people)
    ServiceMatter.objects.bulk_create(
        [
            ServiceMatter(
                code=f"{prefix}M{d}-{m:03d}", name=f"压测事项{d}-{m}", department=depts[d]
            )
            for d in range(departments)
            for m in range(matters // departments)
        ]
    )


GENERATE_EVENTS = """
WITH st AS (
  SELECT row_number() OVER (ORDER BY id) - 1 AS i, id, department_id, window_id
  FROM core_user WHERE role = 'window_staff' AND username LIKE 'bstaff%%'
), n AS (SELECT count(*) AS c FROM st),
dm AS (
  SELECT department_id, min(id) AS lo, count(*) AS c FROM catalog_servicematter
  WHERE code LIKE 'bM%%' GROUP BY department_id
)
INSERT INTO evaluation_serviceevent
  (department_id, window_id, staff_id, matter_id, channel, mobile, external_id,
   started_at, finished_at, rated_at, created_by_id)
SELECT st.department_id, st.window_id, st.id, dm.lo + (g.k * 7) %% dm.c,
       CASE WHEN g.k %% 10 = 0 THEN 'online' ELSE 'window' END,
       CASE WHEN g.k %% 3 = 0 THEN '139' || lpad((g.k %% 100000000)::text, 8, '0') ELSE '' END,
       '',
       g.t, g.t + interval '15 minutes',
       CASE WHEN g.k %% 10 = 9 THEN NULL ELSE g.t + interval '20 minutes' END,
       NULL
FROM (
  SELECT k, now() - ((k::bigint * 7919) %% (365 * 24 * 60)) * interval '1 minute' AS t
  FROM generate_series(0, %s - 1) AS k
) AS g
JOIN n ON true
JOIN st ON st.i = (g.k * 31) %% n.c
JOIN dm ON dm.department_id = st.department_id
"""

GENERATE_RATINGS = """
INSERT INTO evaluation_rating
  (event_id, level, channel, reasons, comment, indicators, created_at, pad_id, client_uuid,
   recorded_by_id, department_id, staff_id, excluded)
SELECT e.id,
       CASE WHEN h < 70 THEN 5 WHEN h < 89 THEN 4 WHEN h < 95 THEN 3 WHEN h < 99 THEN 2 ELSE 1 END,
       CASE WHEN e.id %% 20 = 0 THEN 'hotline' WHEN e.id %% 20 < 3 THEN 'kiosk'
            WHEN e.id %% 20 < 8 THEN 'link' WHEN e.id %% 50 = 49 THEN 'default' ELSE 'pad' END,
       CASE WHEN h >= 95 THEN '["waiting"]'::jsonb ELSE '[]'::jsonb END,
       '', '{}'::jsonb, e.rated_at, NULL, NULL, NULL, e.department_id, e.staff_id,
       e.id %% 997 = 0
FROM (SELECT id, rated_at, department_id, staff_id, (id * 37) %% 100 AS h
      FROM evaluation_serviceevent WHERE rated_at IS NOT NULL) AS e
"""

GENERATE_CASES = """
INSERT INTO evaluation_case
  (rating_id, department_id, state, opened_at, verify_due_at, rectify_due_at, due_provisional,
   verified_at, verify_note, finding, finding_note, measures, evidence, rectified_at,
   feedback_note, feedback_level, fed_back_at, review_note, closed_at, version)
SELECT r.id, r.department_id,
       CASE WHEN r.id %% 5 = 0 THEN 'verifying' ELSE 'closed' END,
       r.created_at, r.created_at + interval '1 day', r.created_at + interval '7 days', false,
       CASE WHEN r.id %% 5 = 0 THEN NULL ELSE r.created_at + interval '3 hours' END,
       '', '', '', '', '', NULL, '', NULL, NULL, '',
       CASE WHEN r.id %% 5 = 0 THEN NULL ELSE r.created_at + interval '4 days' END, 0
FROM evaluation_rating r WHERE r.level <= 2 AND r.channel <> 'default'
"""


def generate(rows: int, out: Output) -> None:
    from django.db import connection, transaction

    events = int(rows / RATED_SHARE) + 1
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE evaluation_case, evaluation_staffappeal, evaluation_rating,"
            " evaluation_serviceevent, evaluation_monthlystat, evaluation_dirtymonth,"
            " catalog_servicematter CASCADE"
        )
        cursor.execute("DELETE FROM core_user WHERE username LIKE 'bstaff%%'")
        cursor.execute(
            "DELETE FROM core_window WHERE hall_id IN (SELECT id FROM core_hall WHERE code = 'bH')"
        )
        cursor.execute("DELETE FROM core_hall WHERE code = 'bH'")
        cursor.execute("DELETE FROM core_department WHERE code LIKE 'b_'")
    with transaction.atomic():
        _hall("b", departments=7, windows=210, staff=300, matters=504)
    for label, sql, params in (
        (f"办件 {events:,}", GENERATE_EVENTS, [events]),
        ("评价", GENERATE_RATINGS, []),
        ("差评整改", GENERATE_CASES, []),
    ):
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
        out(f"  生成{label}：{time.perf_counter() - started:.1f} 秒")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute("DELETE FROM bench_eval_dataset")
        cursor.execute("INSERT INTO bench_eval_dataset VALUES (%s, %s)", [rows, GENERATOR_VERSION])


def timed(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def first_and_warm(fn: Any) -> dict[str, float]:
    first = timed(fn)
    return {"first": first, "warm": statistics.median(timed(fn) for _ in range(WARM_RUNS))}


def time_queries(out: Output) -> dict[str, dict[str, float]]:
    from django.utils import timezone

    from minsheng.evaluation import stats

    last = stats.month_start(timezone.localdate())
    first = stats.month_start(last.replace(year=last.year - 1))
    timings: dict[str, dict[str, float]] = {}
    for group in ("department", "window", "staff", "matter", "channel"):
        query = stats.Query(group, first, last)
        timings[f"year_by_{group}"] = first_and_warm(lambda q=query: stats.compute(q))
        out(f"  全年按{stats.GROUPS[group]}：{timings[f'year_by_{group}']['warm'] * 1000:.0f} 毫秒")
    timings["trend"] = first_and_warm(lambda: stats.trend(stats.Query("month", first, last)))
    prev = stats.month_start(last - dt.timedelta(days=1))
    timings["rankings"] = first_and_warm(lambda: stats.rankings(prev))
    timings["public"] = first_and_warm(lambda: stats.public_table(first, last))
    return timings


def _child_stats(rows: int, *, reuse: bool) -> dict[str, Any]:
    from django.db import connection

    from minsheng.evaluation import stats
    from minsheng.evaluation.models import Rating

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [0x6576616C])
    generated = rollup = None
    if reuse and _dataset_rows() == rows:
        print(f"  复用已生成的 {rows:,} 条评价（MINSHENG_BENCH_REUSE=0 重新生成）")
    else:
        _dataset_rows()
        started = time.perf_counter()
        generate(rows, print)
        generated = time.perf_counter() - started
        started = time.perf_counter()
        months = stats.refresh_all()
        rollup = time.perf_counter() - started
        print(f"  月度汇总：{months} 个月，{rollup:.1f} 秒")
    return {
        "ratings": Rating.objects.count(),
        "generated_seconds": generated,
        "rollup_seconds": rollup,
        "timings": time_queries(print),
    }


# ---------------------------------------------------------------- evaluation-pad


def _child_pad_setup(pads: int, per_pad: int) -> dict[str, Any]:
    from django.db import transaction
    from django.utils import timezone

    from minsheng.core.models import Role, User, Window
    from minsheng.evaluation.actions import hash_token
    from minsheng.evaluation.models import PadDevice, ServiceEvent

    with transaction.atomic():
        _hall("p", departments=7, windows=pads, staff=pads, matters=7)
        windows = list(Window.objects.filter(hall__code="pH").order_by("number"))
        staff = {
            u.window_id: u
            for u in User.objects.filter(role=Role.WINDOW_STAFF, username__startswith="pstaff")
        }
        result = []
        now = timezone.now()
        for window in windows:
            token = secrets.token_urlsafe(32)
            PadDevice.objects.create(window=window, name="bench", token_hash=hash_token(token))
            events = ServiceEvent.objects.bulk_create(
                [
                    ServiceEvent(
                        department_id=int(window.department_id or 0),
                        window=window,
                        staff=staff.get(window.pk),
                        started_at=now,
                    )
                    for _ in range(per_pad)
                ]
            )
            result.append({"window": window.pk, "token": token, "events": [e.pk for e in events]})
    return {"pads": result}


def _drive_pads(
    port: int, pads: list[dict[str, Any]], count: int, interval: float
) -> dict[str, Any]:
    import http.client

    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []
    start = threading.Barrier(len(pads))

    def pad(spec: dict[str, Any], offset: float) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {
            "Authorization": f"Pad {spec['token']}",
            "Content-Type": "application/json",
            "X-Forwarded-Proto": "https",
            "Host": "127.0.0.1",
        }
        mine: list[float] = []
        start.wait()
        began = time.monotonic() + offset
        for n, event_id in enumerate(spec["events"][:count]):
            wait = began + n * interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)  # the pad's pace: a citizen per interval
            level = 5 - (event_id % 7 == 0) * 3
            body = {"uuid": str(uuid.uuid4()), "level": level, "event_id": event_id}
            if level <= 2:
                body["reasons"] = ["waiting"]
            started = time.perf_counter()
            try:
                conn.request(
                    "POST",
                    f"/evaluation/pad/{spec['window']}/rate",
                    body=json.dumps(body),
                    headers=headers,
                )
                response = conn.getresponse()
                response.read()
                if response.status != 201:
                    with lock:
                        errors.append(f"HTTP {response.status}")
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    errors.append(type(exc).__name__)
                conn.close()
            mine.append(time.perf_counter() - started)
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [
        threading.Thread(target=pad, args=(spec, interval * i / len(pads)))
        for i, spec in enumerate(pads)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    return {"latencies": latencies, "errors": errors, "elapsed": time.perf_counter() - started}


def pad_benchmark(
    out: Output,
    pads: int,
    count: int,
    interval: float,
    *,
    workers: int | None = None,
    database: str = PAD_DATABASE,
) -> Results:
    url = benchkit.scratch_database(database, fresh=True)
    workers = workers or (os.cpu_count() or 1) * 2 + 1
    warm = 3
    with tempfile.TemporaryDirectory(prefix="minsheng-bench-") as var_dir:
        env = benchkit.child_env(
            url,
            var_dir,
            MINSHENG_ENV="production",
            DEBUG="0",
            SECRET_KEY=secrets.token_urlsafe(40),
            ALLOWED_HOSTS="127.0.0.1",
            CONN_MAX_AGE="600",
            STATIC_ROOT=os.path.join(var_dir, "static"),
        )
        os.makedirs(env["STATIC_ROOT"], exist_ok=True)
        out(f"  临时数据库 {database}：迁移…")
        benchkit.migrate(env)
        specs = benchkit.run_child(out, CHILD, ["pad-setup", str(pads), str(count + warm)], env)[
            "pads"
        ]
        port = benchkit.free_port()
        with benchkit.gunicorn(env, port, workers, out):
            warm_specs = [{**s, "events": s["events"][:warm]} for s in specs]
            _drive_pads(port, warm_specs, warm, 0.2)
            out(f"  {pads} 台评价器，每台每 {interval} 秒提交一次，共 {pads * count} 次…")
            run_specs = [{**s, "events": s["events"][warm:]} for s in specs]
            run = _drive_pads(port, run_specs, count, interval)
    latencies = run["latencies"]
    p50 = benchkit.percentile(latencies, 0.5) * 1000
    p99 = benchkit.percentile(latencies, 0.99) * 1000
    if run["errors"]:
        out(f"  错误示例：{sorted(set(run['errors']))[:5]}")
    rate = len(latencies) / run["elapsed"] if run["elapsed"] else 0.0
    return {
        "submitted": (float(len(latencies)), "次"),
        "submissions_per_second": (rate, "次/秒"),
        "p50_ms": (p50, "毫秒"),
        "p99_ms": (
            p99,
            f"毫秒 {benchkit.verdict(p99 < PAD_TARGET_P99_MS)}（目标 < {PAD_TARGET_P99_MS:.0f}）",
        ),
        "max_ms": (latencies[-1] * 1000 if latencies else 0.0, "毫秒"),
        "errors": (float(len(run["errors"])), f"个 {benchkit.verdict(not run['errors'])}"),
        "pads": (float(pads), "台并发评价器"),
        "server_processes": (float(workers), "个 gunicorn 进程"),
    }


@register("evaluation-pad", "窗口评价器：50台并发提交评价（p99<50毫秒）")
def evaluation_pad(out: Output) -> Results:
    problem = benchkit.postgres_reachable() or benchkit.gunicorn_usable()
    if problem:
        out(f"  跳过：{problem}")
        return {}
    return pad_benchmark(
        out,
        pads=int(os.environ.get("MINSHENG_BENCH_PADS", "50")),
        count=int(os.environ.get("MINSHENG_BENCH_PAD_RATINGS", "40")),
        interval=float(os.environ.get("MINSHENG_BENCH_PAD_INTERVAL", "0.5")),
    )


# ---------------------------------------------------------------- the child process


def main(argv: list[str]) -> int:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minsheng.settings")
    django.setup()
    command = argv[0]
    if command == "stats":
        result = _child_stats(int(argv[1]), reuse=argv[2] == "1")
    elif command == "pad-setup":
        result = _child_pad_setup(int(argv[1]), int(argv[2]))
    else:
        print(f"unknown command {command}", file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
