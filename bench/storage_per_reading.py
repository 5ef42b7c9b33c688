"""Bytes per stored grain reading after a month of a 20-granary depot, and `history` over it.

What it builds (scratch databases, dropped afterwards):
- one depot of `--granaries` flat granaries (78 cables x 4 layers each, domain.md §1),
  registered in depots/granaries/cables, scanned every `--scan-h` hours for `--days` days
  (default 20 x 312 points x 720 scans = 4.5 M readings). Temperatures come from the
  project's grain-pile model (`simulators/grainpile`), quantized to the 0.1 °C of the
  lst1812 temperature registers, so compression sees realistic, slowly drifting values;
  rows are COPYed scan by scan in time order with the columns ingest writes (temperatures
  in hundredths, batch per granary scan, flags; the receive time lives per batch);
- the schema from `migrate`: plain PostgreSQL (`timescale=off`), and, when a server offers
  TimescaleDB, the hypertable uncompressed and then with every chunk compressed by the
  migrated compression settings (policies paused, chunks compressed here in time order, so
  daily chunks roll up into compressed chunks of `compress_rollup_days` as the policy
  would);
- `--alt` also: the alternative layout, one row per cable scan with the layers in an array
  (`temps_x100 smallint[]`, `faults smallint[]`), on the same storage paths.
It prints bytes per reading (table + indexes, `pg_total_relation_size` / `hypertable_size`)
and the p50/p95 of `granary_history` (the API's history SQL, raw bucket, 1-7 days of one
granary) on each; `--keyed` also times, on TimescaleDB, the raw grain query plain PostgreSQL
uses (per-key scans) on the same rows, the shape the API used there before.

    .venv/bin/python bench/storage_per_reading.py [--days 30 --granaries 20 --alt --keyed]
        [--timescale-url postgresql://127.0.0.1:PORT/postgres]   (default: the test server,
        GRAINLINK_TEST_DATABASE_URL, when it preloads timescaledb)
Goal: <= 2 bytes per reading compressed; history p95 within the API's 50 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402

from central.api.history_queries import _grain_rows, granary_history  # noqa: E402
from central.api.history_range import HistoryRange  # noqa: E402
from central.db.migrate import migrate  # noqa: E402
from central.db.storage import recorded_path, timescale_problem  # noqa: E402
from central.ingest.prepare import GRAIN_COLUMNS as INGEST_GRAIN_COLUMNS  # noqa: E402
from central.ingest.prepare import hundredths  # noqa: E402
from central.settings import Settings  # noqa: E402
from simulators.grainpile.climate import ClimateSettings  # noqa: E402
from simulators.grainpile.clock import SimClock  # noqa: E402
from simulators.grainpile.thermal import CablePlace, PileGeometry, ThermalSettings  # noqa: E402
from simulators.grainpile.world import World  # noqa: E402
from tests.support.services import scratch_database  # noqa: E402

DEPOT = "BENCH-STORE"
ROWS, COLS, LAYERS = 6, 13, 4
START = datetime(2026, 10, 1, tzinfo=UTC)
GRAIN_COLUMNS = ", ".join(INGEST_GRAIN_COLUMNS)
ALT_COLUMNS = "depot, granary, cable, ts, temps_x100, faults, batch, flags"
ALT_TABLE = """CREATE TABLE grain_scans (
    depot text NOT NULL, granary text NOT NULL, cable integer NOT NULL,
    ts timestamptz NOT NULL, temps_x100 smallint[] NOT NULL, faults smallint[],
    batch bigint, flags smallint NOT NULL DEFAULT 0,
    PRIMARY KEY (depot, granary, cable, ts))"""


def geometries(granaries: int) -> list[PileGeometry]:
    return [PileGeometry(f"P{g + 1:02d}", "flat", 60, 24, 6.0, (0.3, 2.0, 4.0, 5.7), tuple(
        CablePlace(r * COLS + c + 1, LAYERS, r + 1, c + 1, 0.5 + 4.5 * c, 0.5 + 4.6 * r)
        for r in range(ROWS) for c in range(COLS))) for g in range(granaries)]


def scans(granaries: int, days: int, scan_h: float):
    """(granary, ts, batch, {cable: [temps]}) in time order, temperatures at 0.1 °C."""
    geos = geometries(granaries)
    world = World(geos, SimClock(START, 3600), 42, ClimateSettings(), ThermalSettings())
    batch = 0
    for step in range(int(days * 24 / scan_h)):
        ts = START + timedelta(hours=step * scan_h)
        for geo in geos:
            batch += 1
            temps = world.grain(geo.code, ts.timestamp())
            yield geo.code, ts, batch, {c: [round(v, 1) for v in layers]
                                        for c, layers in temps.items()}


def copy_text(granary, ts, batch, temps, alt: bool) -> str:
    """COPY rows as ingest writes them: hundredths of a degree, batch, flags."""
    stamp = ts.isoformat()
    if alt:
        return "".join(f"{DEPOT}\t{granary}\t{c}\t{stamp}\t"
                       f"{{{','.join(str(hundredths(v)) for v in layers)}}}"
                       f"\t{{}}\t{batch}\t0\n" for c, layers in temps.items())
    return "".join(f"{DEPOT}\t{granary}\t{c}\t{layer}\t{stamp}\t{hundredths(v)}\tf\t{batch}\t0\n"
                   for c, layers in temps.items() for layer, v in enumerate(layers, 1))


def load(url: str, args, alt: bool) -> int:
    table, cols = ("grain_scans", ALT_COLUMNS) if alt else ("grain_readings", GRAIN_COLUMNS)
    readings = 0
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cur:
        pending: list[str] = []
        for granary, ts, batch, temps in scans(args.granaries, args.days, args.scan_h):
            readings += sum(len(v) for v in temps.values())
            pending.append(copy_text(granary, ts, batch, temps, alt))
            if len(pending) >= args.granaries:  # one depot scan per COPY, as ingest would
                with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                    copy.write("".join(pending))
                pending.clear()
        if pending:
            with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                copy.write("".join(pending))
        conn.execute(f"VACUUM ANALYZE {table}")
        stored = conn.execute(f"SELECT {'sum(cardinality(temps_x100))' if alt else 'count(*)'} "
                              f"FROM {table}").fetchone()[0]
        assert stored == readings, f"{stored} readings stored of {readings} loaded"
    print(f"    loaded {readings:,} readings into {table} in "
          f"{time.perf_counter() - started:.0f} s", flush=True)
    return readings


def register(url: str, granaries: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO depots (code, state) VALUES (%s, 'online')", (DEPOT,))
        for geo in geometries(granaries):
            conn.execute("INSERT INTO granaries (depot, granary, type) VALUES (%s, %s, 'flat')",
                         (DEPOT, geo.code))
            conn.cursor().executemany(
                'INSERT INTO cables (depot, granary, cable, "row", col, layers) '
                "VALUES (%s, %s, %s, %s, %s, %s)",
                [(DEPOT, geo.code, c.cable, c.row, c.col, LAYERS) for c in geo.cables])


def size(conn, table: str, timescale: bool) -> int:
    sql = ("SELECT hypertable_size(%s::regclass)" if timescale
           else "SELECT pg_total_relation_size(%s::regclass)")
    return conn.execute(sql, (table,)).fetchone()[0]


def history_p(url: str, args, alt: bool, runs: int, keyed: bool = False) -> tuple[float, float]:
    """p50, p95 in ms of one granary's raw history over 1-7 days at random in the month;
    `keyed`: its grain part only, by the plain path's per-key query whatever the storage."""
    rnd = random.Random(7)
    span = timedelta(days=args.days)
    times = []
    with psycopg.connect(url, autocommit=True) as conn:
        for _ in range(runs):
            days = rnd.randint(1, 7)
            start = START + rnd.random() * (span - timedelta(days=days))
            granary = f"P{rnd.randint(1, args.granaries):02d}"
            rng = HistoryRange(start, start + timedelta(days=days), "raw")
            t0 = time.perf_counter()
            if alt:
                conn.execute(ALT_HISTORY, (DEPOT, granary, rng.start, rng.end)).fetchall()
            elif keyed:
                _grain_rows(conn, DEPOT, granary, rng, per_layer=False)
            else:
                granary_history(conn, DEPOT, granary, rng)
            times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


# The alternative layout's version of the raw history's grain part (per ts and layer).
ALT_HISTORY = """SELECT s.ts, l.layer, min(t)::float8 / 100, max(t)::float8 / 100,
           round(sum(t)::float8 / count(t)) / 100, count(t)
    FROM grain_scans s CROSS JOIN LATERAL unnest(s.temps_x100) WITH ORDINALITY AS l(t, layer)
    WHERE s.depot = %s AND s.granary = %s AND s.ts >= %s AND s.ts < %s AND t IS NOT NULL
    GROUP BY GROUPING SETS ((s.ts, l.layer), (s.ts)) ORDER BY 1, 2 NULLS FIRST"""


def compress_all(conn, table: str) -> float:
    started = time.perf_counter()
    conn.execute(f"SELECT count(compress_chunk(c, if_not_compressed => true)) "
                 f"FROM show_chunks('{table}') c")
    conn.execute(f"ANALYZE {table}")
    return time.perf_counter() - started


def enable_alt_compression(conn, chunk_days: float, rollup_days: int) -> None:
    conn.execute("SELECT create_hypertable('grain_scans', 'ts', chunk_time_interval => "
                 "%s * INTERVAL '1 day')", (chunk_days,))
    conn.execute("ALTER TABLE grain_scans SET (timescaledb.compress, "
                 "timescaledb.compress_segmentby = 'depot, granary', "
                 "timescaledb.compress_orderby = 'cable, ts DESC', "
                 f"timescaledb.compress_chunk_time_interval = '{rollup_days} days')")


def measure(server: str, path: str, args, alt: bool, results: list) -> None:
    label = f"{path:9s} {'cable scan + array' if alt else 'row per reading'}"
    print(f"  {label}", flush=True)
    with scratch_database(server, prefix="grainlink_bench_store") as url:
        migrate(url, Settings(database_url=url, compress_rollup_days=args.rollup_days,
                              timescale="auto" if path == "timescale" else "off"))
        timescale = path == "timescale"
        with psycopg.connect(url, autocommit=True) as conn:
            assert recorded_path(conn) == path
            if timescale:  # the benchmark compresses when it measures, not the workers
                conn.execute("SELECT alter_job(job_id, scheduled => false) "
                             "FROM timescaledb_information.jobs WHERE job_id >= 1000")
            if timescale and args.chunk_days:
                conn.execute("SELECT set_chunk_time_interval('grain_readings', "
                             "%s * INTERVAL '1 day')", (args.chunk_days,))
            if alt:
                conn.execute(ALT_TABLE)
                if timescale:
                    enable_alt_compression(conn, args.chunk_days or 1, args.rollup_days)
                else:
                    conn.execute("CREATE INDEX ON grain_scans USING brin (ts)")
        register(url, args.granaries)
        table = "grain_scans" if alt else "grain_readings"
        readings = load(url, args, alt)
        with psycopg.connect(url, autocommit=True) as conn:
            bytes_ = size(conn, table, timescale)
        p50, p95 = history_p(url, args, alt, args.runs)
        results.append((f"{label} {'uncompressed' if timescale else ''}", bytes_, readings,
                        p50, p95))
        keyed = args.keyed and timescale and not alt
        if keyed:
            results.append((f"{label} uncompressed, keyed", bytes_, readings,
                            *history_p(url, args, alt, args.runs, keyed=True)))
        if timescale:
            with psycopg.connect(url, autocommit=True) as conn:
                took = compress_all(conn, table)
                bytes_ = size(conn, table, True)
            print(f"    compressed every chunk in {took:.0f} s", flush=True)
            p50, p95 = history_p(url, args, alt, args.runs)
            results.append((f"{label} compressed", bytes_, readings, p50, p95))
            if keyed:
                results.append((f"{label} compressed, keyed", bytes_, readings,
                                *history_p(url, args, alt, args.runs, keyed=True)))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--granaries", type=int, default=20)
    ap.add_argument("--scan-h", type=float, default=1.0, help="hours between scans")
    ap.add_argument("--runs", type=int, default=200, help="history queries per measurement")
    ap.add_argument("--alt", action="store_true", help="also the cable-scan-with-array layout")
    ap.add_argument("--keyed", action="store_true",
                    help="TimescaleDB: also time the plain path's per-key raw query on the same "
                         "rows (what the API used there before it summed per layer)")
    ap.add_argument("--rollup-days", type=int, default=Settings().compress_rollup_days,
                    help="compressed roll-up span (setting compress_rollup_days)")
    ap.add_argument("--chunk-days", type=float, default=None,
                    help="TimescaleDB chunk interval to measure (default: the migrated one)")
    ap.add_argument("--plain-url", default=os.environ.get(
        "GRAINLINK_TEST_DATABASE_URL", "postgresql://127.0.0.1:5432/test"))
    ap.add_argument("--timescale-url", default=None)
    ap.add_argument("--no-plain", action="store_true", help="measure TimescaleDB only")
    args = ap.parse_args()

    ts_server = args.timescale_url
    if ts_server is None:
        with scratch_database(args.plain_url, prefix="grainlink_probe") as url, \
                psycopg.connect(url) as conn:
            problem = timescale_problem(conn)
        ts_server = args.plain_url if problem is None else None
        if problem:
            print(f"TimescaleDB not measured: {problem} (give --timescale-url)")
    print(f"{args.granaries} granaries x {ROWS * COLS} cables x {LAYERS} layers, a scan every "
          f"{args.scan_h:g} h for {args.days} days; TimescaleDB chunks of "
          f"{args.chunk_days or 'the migrated'} day(s), rolled up into {args.rollup_days} "
          "day(s) when compressed", flush=True)
    results: list = []
    for alt in ([False, True] if args.alt else [False]):
        if not args.no_plain:
            measure(args.plain_url, "plain", args, alt, results)
        if ts_server:
            measure(ts_server, "timescale", args, alt, results)
    print(f"\n{'storage':52s} {'B/reading':>10s} {'MB':>8s} {'history p50':>12s} "
          f"{'p95 (ms)':>9s}")
    for label, bytes_, readings, p50, p95 in results:
        print(f"{label:52s} {bytes_ / readings:10.2f} {bytes_ / 1e6:8.1f} {p50:12.1f} "
              f"{p95:9.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
