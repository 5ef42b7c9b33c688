"""`latest` and `history` latency of the central API over a province-sized database.

What it builds (in a scratch database on the PostgreSQL server, dropped afterwards):
- 100 depots x 20 granaries (options change it), each granary 78 cables x 4 layers (a 60 m x
  24 m flat granary, domain.md §1), registered in depots/granaries/cables;
- `grain_readings`: the last `--scans` hourly scans of every sensor (default 24: a day,
  2000 x 312 x 24 = 15 M rows) -- what `latest` and `history?bucket=raw` read;
- a year (`--days`) of hourly and daily aggregates, written straight into tables named like
  the aggregates (`grain_layer_hourly`, `grain_layer_daily`, `air_hourly`, `air_daily`)
  instead of computing them from a year of per-sensor rows (which would be 5 billion rows):
  2000 granaries x 4 layers x 8760 h = 70 M layer-hours plus 17.5 M air-hours -- what
  `history?bucket=1h|1d` read. Bulk tables are UNLOGGED and indexed after loading, to build
  fast; reads are the same.
Then it times sequential requests through the real app (FastAPI TestClient: routing, token
check, SQL, JSON) against random granaries and prints p50/p95/p99 per endpoint.

    .venv/bin/python bench/central_api_latency.py [--depots 100 --granaries 20 --days 365]
        [--keep]  then  [--reuse grainlink_bench_XXXXXXXX]  to measure again without building
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from central.db.migrate import migrate  # noqa: E402
from central.settings import Settings  # noqa: E402
from central.users import add_user  # noqa: E402
from central.wiring import build_app  # noqa: E402

ROWS, COLS, LAYERS = 6, 13, 4

_AGG_TABLES = {
    "grain_layer_hourly": "layer int NOT NULL",
    "grain_layer_daily": "layer int NOT NULL",
}
_AIR_TABLES = ("air_hourly", "air_daily")
_GRAIN_COLS = ("temp_min double precision, temp_max double precision, "
               "temp_mean double precision, temp_sum double precision, n bigint")
_AIR_COLS = (_GRAIN_COLS + ", rh_min double precision, rh_max double precision, "
             "rh_mean double precision, rh_sum double precision, rh_n bigint")
# A seasonal grain temperature per bucket: cold in January, warm in August, deeper = steadier.
_SEASON = "(15 + (8 - 1.5 * {layer}) * sin(2 * pi() * extract(doy FROM t) / 365.0 - 1.9))"


def step(label: str, conn, sql: str, params=None) -> None:
    started = time.perf_counter()
    cur = conn.execute(sql, params)
    print(f"  {label}: {cur.rowcount if cur.rowcount >= 0 else '-'} rows, "
          f"{time.perf_counter() - started:.1f} s", flush=True)


def build(url: str, depots: int, granaries: int, days: int, scans: int, now: datetime) -> None:
    settings = Settings(database_url=url, timescale="off")
    migrate(url, settings)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute("SET work_mem = '64MB'")
        conn.execute("SET synchronous_commit = off")
        step("depots", conn, """
            INSERT INTO depots (code, name, province, city, county, state, last_seen)
            SELECT 'BENCH-' || lpad(d::text, 4, '0'), 'depot ' || d, '430000',
                   '43' || lpad((1 + d %% 13)::text, 2, '0') || '00',
                   '43' || lpad((1 + d %% 13)::text, 2, '0') || lpad((1 + d %% 9)::text, 2, '0'),
                   'online', now()
            FROM generate_series(1, %s) d""", (depots,))
        step("granaries", conn, """
            INSERT INTO granaries (depot, granary, name, type)
            SELECT d.code, 'P' || lpad(g::text, 2, '0'), g || '号仓', 'flat'
            FROM depots d, generate_series(1, %s) g""", (granaries,))
        step("cables", conn, f"""
            INSERT INTO cables (depot, granary, cable, "row", col, layers)
            SELECT depot, granary, c, 1 + (c - 1) / {COLS}, 1 + (c - 1) % {COLS}, {LAYERS}
            FROM granaries, generate_series(1, {ROWS * COLS}) c""")
        conn.execute("ALTER TABLE grain_readings DROP CONSTRAINT grain_readings_pkey")
        conn.execute("ALTER TABLE grain_readings SET UNLOGGED")
        last = now.replace(minute=0, second=0, microsecond=0)
        step("grain_readings (latest scans)", conn, f"""
            INSERT INTO grain_readings (depot, granary, cable, layer, ts, temp_x100, fault)
            SELECT c.depot, c.granary, c.cable, l, t,
                   round((12 + 2 * l + (c.cable %% 7) * 0.3 + random()) * 100)::smallint, false
            FROM cables c, generate_series(1, {LAYERS}) l,
                 generate_series(%s::timestamptz - %s * interval '1 hour', %s, '1 hour') t
            ORDER BY 1, 2, 3, 4, 5""", (last, scans - 1, last))
        step("grain_readings primary key", conn,
             "ALTER TABLE grain_readings ADD PRIMARY KEY (depot, granary, cable, layer, ts)")
        step("air_readings (latest)", conn, """
            INSERT INTO air_readings (depot, granary, place, ts, temp_c, rh_pct)
            SELECT depot, granary, 'indoor', t, 18 + random(), 60 + 5 * random()
            FROM granaries, generate_series(%s::timestamptz - %s * interval '1 hour', %s,
                                            '1 hour') t
            UNION ALL
            SELECT code, '', 'outdoor', t, 10 + 3 * random(), 70 + 10 * random()
            FROM depots, generate_series(%s::timestamptz - %s * interval '1 hour', %s,
                                         '1 hour') t""",
             (last, scans - 1, last, last, scans - 1, last))
        first = last - timedelta(days=days)
        for name, keycol in _AGG_TABLES.items():
            hourly = name.endswith("hourly")
            conn.execute(f"DROP MATERIALIZED VIEW IF EXISTS {name}")
            conn.execute(f"CREATE UNLOGGED TABLE {name} (depot text NOT NULL, granary text "
                         f"NOT NULL, {keycol}, bucket timestamptz NOT NULL, {_GRAIN_COLS})")
            season = _SEASON.format(layer="l")
            step(f"{name} ({days} days)", conn, f"""
                INSERT INTO {name}
                SELECT g.depot, g.granary, l, t, s - 1.5, s + 1.5, s, s * 78, 78
                FROM granaries g, generate_series(1, {LAYERS}) l,
                     generate_series(%s::timestamptz, %s, %s::interval) t,
                     LATERAL (SELECT {season} AS s) v
                ORDER BY 1, 2, 3, 4""",
                 (first, last, "1 hour" if hourly else "1 day"))
            step(f"{name} key", conn,
                 f"CREATE UNIQUE INDEX ON {name} (depot, granary, layer, bucket)")
        for name in _AIR_TABLES:
            hourly = name.endswith("hourly")
            conn.execute(f"DROP MATERIALIZED VIEW IF EXISTS {name}")
            conn.execute(f"CREATE UNLOGGED TABLE {name} (depot text NOT NULL, granary text "
                         f"NOT NULL, place text NOT NULL, bucket timestamptz NOT NULL, "
                         f"{_AIR_COLS})")
            season = _SEASON.format(layer="0")
            step(f"{name} ({days} days)", conn, f"""
                INSERT INTO {name}
                SELECT depot, granary, place, t, s - 2, s + 2, s, s, 1, 55, 75, 65, 65, 1
                FROM (SELECT depot, granary, 'indoor' AS place FROM granaries
                      UNION ALL SELECT code, '', 'outdoor' FROM depots) p,
                     generate_series(%s::timestamptz, %s, %s::interval) t,
                     LATERAL (SELECT {season} AS s) v
                ORDER BY 1, 2, 3, 4""",
                 (first, last, "1 hour" if hourly else "1 day"))
            step(f"{name} key", conn,
                 f"CREATE UNIQUE INDEX ON {name} (depot, granary, place, bucket)")
        step("analyze", conn, "ANALYZE")


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def measure(url: str, depots: int, granaries: int, requests: int, now: datetime) -> None:
    settings = Settings(database_url=url)
    with psycopg.connect(url, autocommit=True) as conn:
        token = add_user(conn, f"bench-{uuid.uuid4().hex[:6]}", "admin", "000000")
    headers = {"Authorization": f"Bearer {token}"}
    rnd = random.Random(42)
    end = now.replace(minute=0, second=0, microsecond=0)
    cases = {
        "latest": lambda: ("latest", {}),
        "history raw, 1 day": lambda: ("history", {
            "bucket": "raw", "from": _iso(end - timedelta(days=1)), "to": _iso(end)}),
        "history 1h, 7 days": lambda: ("history", {
            "bucket": "1h", "from": _iso(end - timedelta(days=7)), "to": _iso(end)}),
        "history 1h, 92 days": lambda: ("history", {
            "bucket": "1h", "from": _iso(end - timedelta(days=92)), "to": _iso(end)}),
        "history 1d, 365 days": lambda: ("history", {
            "bucket": "1d", "from": _iso(end - timedelta(days=365)), "to": _iso(end)}),
    }
    with TestClient(build_app(settings)) as client:
        print(f"\n{'endpoint':<24}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}"
              f"{'max ms':>10}  answer")
        for label, make in cases.items():
            samples, size = [], 0
            for i in range(requests + 20):  # the first 20 warm the pool and the caches
                depot = f"BENCH-{rnd.randint(1, depots):04d}"
                granary = f"P{rnd.randint(1, granaries):02d}"
                kind, params = make()
                path = f"/api/v1/depots/{depot}/granaries/{granary}/{kind}"
                started = time.perf_counter()
                r = client.get(path, headers=headers, params=params)
                elapsed = (time.perf_counter() - started) * 1000
                if r.status_code != 200:
                    raise SystemExit(f"{path} {params}: {r.status_code} {r.text[:300]}")
                if i >= 20:
                    samples.append(elapsed)
                    size = len(r.content)
            print(f"{label:<24}{len(samples):>6}{statistics.median(samples):>10.1f}"
                  f"{percentile(samples, 95):>10.1f}{percentile(samples, 99):>10.1f}"
                  f"{max(samples):>10.1f}  {size / 1024:.0f} KiB")


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="postgresql://127.0.0.1:5432/test",
                        help="PostgreSQL server URL (a scratch database is created there)")
    parser.add_argument("--depots", type=int, default=100)
    parser.add_argument("--granaries", type=int, default=20)
    parser.add_argument("--days", type=int, default=365, help="days of hourly aggregates")
    parser.add_argument("--scans", type=int, default=24, help="hourly per-sensor scans kept")
    parser.add_argument("--requests", type=int, default=300, help="timed requests per endpoint")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--reuse", metavar="DBNAME",
                        help="measure again on a database kept by --keep (no build)")
    args = parser.parse_args()

    if args.reuse:
        url = urlparse(args.server)._replace(path="/" + args.reuse).geturl()
        with psycopg.connect(url) as conn:
            built = conn.execute("SELECT max(ts) FROM air_readings").fetchone()[0]
        measure(url, args.depots, args.granaries, args.requests, built)
        return 0
    name = f"grainlink_bench_{uuid.uuid4().hex[:8]}"
    url = urlparse(args.server)._replace(path="/" + name).geturl()
    now = datetime.now(UTC)
    with psycopg.connect(args.server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        print(f"building {args.depots} depots x {args.granaries} granaries x "
              f"{ROWS * COLS} cables x {LAYERS} layers, {args.scans} scans, "
              f"{args.days} days of aggregates in {name}", flush=True)
        started = time.perf_counter()
        build(url, args.depots, args.granaries, args.days, args.scans, now)
        print(f"built in {time.perf_counter() - started:.0f} s", flush=True)
        measure(url, args.depots, args.granaries, args.requests, now)
    finally:
        if not args.keep:
            with psycopg.connect(args.server, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
