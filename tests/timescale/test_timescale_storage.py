"""What the TimescaleDB storage path promises beyond the plain one: old chunks compressed by
the migrated policy, history (raw and aggregated) still answered from compressed chunks,
redeliveries into a compressed chunk stored once, real-time aggregates, and retention that
drops raw chunks while the aggregates keep their buckets. Skipped without TimescaleDB."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from central.api.history_queries import _grain_rows, _raw_per_layer_source, granary_history
from central.api.history_range import HistoryRange
from central.db.migrate import migrate
from central.db.pool import connect
from central.db.storage import recorded_path, refresh_aggregates
from central.ingest.prepare import prepare
from central.ingest.store import store_batch
from central.settings import Settings
from tests.central.api_support import insert_depot
from tests.central.ingest_support import encode, now_utc, telemetry, unique_depot
from tests.support import services


@pytest.fixture
def tsdb(timescale_server):
    with services.scratch_database(timescale_server, prefix="grainlink_ts") as url:
        yield url


def _migrated(url: str, **settings) -> str:
    """Migrated, with the policies paused: the tests run them when they mean to, rather
    than racing the background workers."""
    migrate(url, Settings(database_url=url, **settings))
    with psycopg.connect(url, autocommit=True) as conn:
        assert recorded_path(conn) == "timescale"
        conn.execute("SELECT alter_job(job_id, scheduled => false) "
                     "FROM timescaledb_information.jobs WHERE hypertable_name IS NOT NULL")
    return url


def _store(url: str, *bodies: dict):
    items = [prepare(f"grainlink/v1/{b['depot']}/telemetry", encode(b), now_utc())
             for b in bodies]
    with connect(url, autocommit=True) as conn:
        return store_batch(conn, items)


def _run_policy(conn, proc: str, table: str) -> None:
    job = conn.execute("SELECT job_id FROM timescaledb_information.jobs WHERE proc_name = %s "
                       "AND hypertable_name = %s", (proc, table)).fetchone()
    assert job is not None, f"migrate created no {proc} for {table}"
    conn.execute("CALL run_job(%s)", job)


def _chunk_of(conn, table: str, ts) -> tuple | None:
    return conn.execute(
        "SELECT chunk_name, is_compressed FROM timescaledb_information.chunks "
        "WHERE hypertable_name = %s AND range_start <= %s AND %s < range_end",
        (table, ts, ts)).fetchone()


def test_hypertables_and_continuous_aggregates_exist(tsdb):
    url = _migrated(tsdb)
    with psycopg.connect(url) as conn:
        tables = conn.execute("SELECT hypertable_name, compression_enabled FROM "
                              "timescaledb_information.hypertables ORDER BY 1").fetchall()
        views = {r[0] for r in conn.execute(
            "SELECT view_name FROM timescaledb_information.continuous_aggregates "
            "WHERE NOT materialized_only")}
    assert tables == [("air_readings", True), ("grain_readings", True)]
    assert views == {"grain_hourly", "grain_daily", "grain_layer_hourly", "grain_layer_daily",
                     "air_hourly", "air_daily"}


def test_old_chunks_compress_and_history_is_still_answered(tsdb):
    url = _migrated(tsdb, compress_after_days=7)
    depot = unique_depot()
    old = now_utc().replace(minute=0, second=0) - timedelta(days=20)  # air chunks: 7 days
    recent = now_utc() - timedelta(minutes=30)
    _store(url, telemetry(depot, 1, at=old), telemetry(depot, 2, at=recent))
    with connect(url, autocommit=True) as conn:
        # real-time aggregation: readings count before any refresh materializes them
        n = conn.execute("SELECT sum(n) FROM grain_layer_hourly WHERE depot = %s AND bucket "
                         ">= %s", (depot, recent - timedelta(hours=1))).fetchone()[0]
        assert n == 8
        _run_policy(conn, "policy_compression", "grain_readings")
        _run_policy(conn, "policy_compression", "air_readings")
        refresh_aggregates(conn)  # materialized from the compressed chunks
        assert _chunk_of(conn, "grain_readings", old)[1] is True
        assert _chunk_of(conn, "air_readings", old)[1] is True
        assert _chunk_of(conn, "grain_readings", recent)[1] is False
        raw = conn.execute("SELECT count(*), avg(temp_x100::float8) / 100 FROM grain_readings "
                           "WHERE depot = %s AND ts = %s", (depot, old)).fetchone()
        assert raw == (8, pytest.approx(14.9))  # 2 cables x 4 layers, read from compressed
        layer1 = conn.execute("SELECT n, temp_min, temp_max FROM grain_layer_hourly "
                              "WHERE depot = %s AND bucket = %s AND layer = 1",
                              (depot, old)).fetchone()
        assert layer1 == (2, pytest.approx(14.1), pytest.approx(14.2))
        air = conn.execute("SELECT n FROM air_hourly WHERE depot = %s AND bucket = %s "
                           "AND place = 'indoor'", (depot, old)).fetchone()
        assert air == (1,)

    # a redelivery into the compressed chunk is stored once; a late new scan is stored
    assert _store(url, telemetry(depot, 1, at=old)).grain_rows == 0
    late = telemetry(depot, 3, at=old + timedelta(minutes=5), cables=1, air=False)
    assert _store(url, late).grain_rows == 4
    with connect(url, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM grain_readings WHERE depot = %s AND ts >= %s "
                            "AND ts < %s", (depot, old, old + timedelta(hours=1))
                            ).fetchone() == (12,)
        refresh_aggregates(conn)
        n = conn.execute("SELECT sum(n) FROM grain_layer_hourly WHERE depot = %s AND bucket "
                         "= %s", (depot, old)).fetchone()[0]
        assert n == 12


def test_retention_drops_raw_chunks_and_the_aggregates_keep_them(tsdb):
    url = _migrated(tsdb, raw_retention_days=40)
    depot = unique_depot()
    old = now_utc().replace(minute=0, second=0) - timedelta(days=50)
    _store(url, telemetry(depot, 1, at=old, air=False),
           telemetry(depot, 2, at=now_utc() - timedelta(minutes=5), air=False))
    with connect(url, autocommit=True) as conn:
        # what the refresh policy did while these readings were younger than its window
        for name in ("grain_layer_hourly", "grain_layer_daily"):
            conn.execute("CALL refresh_continuous_aggregate(%s, %s::timestamptz, %s)",
                         (name, old - timedelta(days=2), old + timedelta(days=2)))
        assert _chunk_of(conn, "grain_readings", old) is not None
        _run_policy(conn, "policy_retention", "grain_readings")
        assert _chunk_of(conn, "grain_readings", old) is None
        assert conn.execute("SELECT count(*) FILTER (WHERE ts = %s), count(*) FROM "
                            "grain_readings WHERE depot = %s", (old, depot)).fetchone() == (0, 8)
        # the helper's refresh does not wipe what only the aggregates still hold
        assert "grain_layer_daily" in refresh_aggregates(conn)
        for name in ("grain_layer_hourly", "grain_layer_daily"):
            kept = conn.execute(f"SELECT sum(n) FROM {name} WHERE depot = %s AND bucket <= %s",
                                (depot, old)).fetchone()[0]
            assert kept == 8, name


def _copy_hourly_scans(conn, depot: str, start, hours: int, cables, layers: int) -> int:
    rows = [f"{depot}\tP01\t{c}\t{layer}\t{(start + timedelta(hours=h)).isoformat()}\t"
            f"{1500 + 7 * c + 40 * layer + h % 24}\tf\t0\n"
            for h in range(hours) for c in cables for layer in range(1, layers + 1)]
    with conn.cursor() as cur, cur.copy("COPY grain_readings (depot, granary, cable, layer, "
                                        "ts, temp_x100, fault, flags) FROM STDIN") as copy:
        copy.write("".join(rows))
    return len(rows)


def test_raw_history_over_compressed_chunks_is_read_column_wise(tsdb):
    url = _migrated(tsdb)
    depot = unique_depot()
    start = now_utc().replace(minute=0, second=0) - timedelta(days=20)
    cables = [*range(1, 20), *range(21, 41)]  # 39 cables, one gap: no `= ANY` list
    with connect(url, autocommit=True) as conn:
        insert_depot(conn, depot, None, {"P01": [(c, 1, c, 4) for c in cables]})
        stored = _copy_hourly_scans(conn, depot, start, 72, [*cables, 20], 4)
        conn.execute("SELECT count(compress_chunk(c)) FROM show_chunks('grain_readings') c")
        assert conn.execute("SELECT bool_and(is_compressed) FROM timescaledb_information.chunks "
                            "WHERE hypertable_name = 'grain_readings'").fetchone() == (True,)
        # a late reading lands beside the compressed batches (a partly compressed chunk)
        conn.execute("INSERT INTO grain_readings (depot, granary, cable, layer, ts, temp_x100)"
                     " VALUES (%s, 'P01', 1, 1, %s, 2000)", (depot, start + timedelta(minutes=5)))
        rng = HistoryRange(start, start + timedelta(days=3), "raw")
        body = granary_history(conn, depot, "P01", rng)
        whole = body["granary_stats"]
        assert len(whole) == 73 and [p["n"] for p in whole[:2]] == [156, 1]
        assert sum(p["n"] for p in whole) == stored - 72 * 4 + 1  # cable 20 is not registered
        assert _grain_rows(conn, depot, "P01", rng, per_layer=True) == \
            _grain_rows(conn, depot, "P01", rng, per_layer=False)
        version = conn.execute("SELECT extversion FROM pg_extension "
                               "WHERE extname = 'timescaledb'").fetchone()[0]
        source, params = _raw_per_layer_source([(c,) for c in cables], [1, 2, 3, 4], depot,
                                               "P01", rng)
        plan = "\n".join(r[0] for r in conn.execute(f"EXPLAIN SELECT * FROM {source}", params))
    if tuple(int(p) for p in version.split(".")[:2]) < (2, 20):
        pytest.skip(f"TimescaleDB {version} aggregates compressed batches row by row")
    # what keeps a week of raw history within the API's goal (bench/storage_per_reading.py)
    assert "VectorAgg" in plan, plan
