"""Migration 0060 on a TimescaleDB database that already has compressed chunks, continuous
aggregates and buckets whose raw chunks retention dropped: converted chunk by chunk
(`central/db/timescale.py` before_migration), compressed chunks compressed again, the
aggregates rebuilt with the same °C values and the retained-only buckets kept."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from central.db.migrate import migrate
from central.db.pool import connect
from central.ingest.prepare import prepare
from central.ingest.store import store_batch
from central.settings import Settings
from tests.central import old_grain_schema as old
from tests.central.ingest_support import encode, now_utc, telemetry, unique_depot
from tests.support import services


@pytest.fixture
def tsdb(timescale_server):
    with services.scratch_database(timescale_server, prefix="grainlink_ts_x100") as url:
        yield url


def _jobs(conn, proc: str) -> list[int]:
    return [r[0] for r in conn.execute(
        "SELECT job_id FROM timescaledb_information.jobs WHERE proc_name = %s "
        "AND hypertable_name = 'grain_readings'", (proc,)).fetchall()]


def _compressed(conn) -> list[bool]:
    return [r[0] for r in conn.execute(
        "SELECT is_compressed FROM timescaledb_information.chunks "
        "WHERE hypertable_name = 'grain_readings' ORDER BY range_start").fetchall()]


def test_compressed_hypertable_converts_and_aggregates_keep_their_values(
        tsdb, monkeypatch, tmp_path):
    settings = Settings(database_url=tsdb, raw_retention_days=40, compress_after_days=7)
    old.migrate_before_conversion(tsdb, settings, monkeypatch, tmp_path)
    depot = unique_depot("X100")
    hour = now_utc().replace(minute=0, second=0, microsecond=0)
    # dropped by retention later / compressed / recent (uncompressed)
    times = [hour - timedelta(days=50), hour - timedelta(days=20), hour - timedelta(days=19),
             hour - timedelta(hours=2)]
    temps = {1: 14.6, 2: 21.35, 3: None, 4: -3.1}
    with psycopg.connect(tsdb, autocommit=True) as conn:
        conn.execute("SELECT alter_job(job_id, scheduled => false) "
                     "FROM timescaledb_information.jobs WHERE hypertable_name IS NOT NULL")
        rows = [(depot, "P01", c, layer, t, temps[c], temps[c] is None, 9, 0,
                 t + timedelta(seconds=4)) for t in times for c in temps for layer in (1, 2)]
        conn.cursor().executemany(
            f"INSERT INTO grain_readings ({old.OLD_COLUMNS}) VALUES "
            "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", rows)
        for name in old.aggregate_rows(conn, depot):
            conn.execute("CALL refresh_continuous_aggregate(%s, NULL, NULL)", (name,))
        conn.execute("CALL run_job(%s)", _jobs(conn, "policy_compression")[:1])
        conn.execute("CALL run_job(%s)", _jobs(conn, "policy_retention")[:1])
        assert conn.execute("SELECT count(*) FROM grain_readings WHERE depot = %s",
                            (depot,)).fetchone()[0] == 3 * 8  # the 50-day-old chunk dropped
        compressed_before = _compressed(conn)
        assert compressed_before.count(True) >= 1 and compressed_before[-1] is False
        before = old.aggregate_rows(conn, depot)
    assert before["grain_layer_daily"][0][3] <= times[0]  # only the aggregate still has it

    done = migrate(tsdb, settings)
    # (later migrations of other work may follow 0060)
    assert done[:2] == ["0060_reading_hundredths: TimescaleDB conversion",
                        "0060_reading_hundredths"] and done[-1] == "storage_timescale"
    with psycopg.connect(tsdb, autocommit=True) as conn:
        cols = old.columns(conn)
        assert "temp_x100" in cols and not {"temp_c", "received_at"} & cols
        stored = conn.execute(
            "SELECT ts, cable, layer, temp_x100, fault FROM grain_readings WHERE depot = %s "
            "ORDER BY ts, cable, layer", (depot,)).fetchall()
        expect = [(t, c, layer, None if temps[c] is None else round(temps[c] * 100),
                   temps[c] is None) for t in times[1:] for c in temps for layer in (1, 2)]
        assert stored == expect
        # compressed again, not left expanded (rolled up maybe further: fewer chunks)
        compressed = _compressed(conn)
        assert all(compressed[:-1]) and compressed[-1] is False
        assert len(compressed) <= len(compressed_before)
        assert len(_jobs(conn, "policy_compression")) == 1  # the policy is back
        after = old.aggregate_rows(conn, depot)
        leftovers = conn.execute("SELECT relname FROM pg_class WHERE relname LIKE "
                                 "'\\_grainlink\\_%%'").fetchall()
    assert old.same_values(before, after) == []
    assert leftovers == []
    assert migrate(tsdb, settings) == []

    # ingest writes the new layout, also into the compressed range
    item = prepare(f"grainlink/v1/{depot}/telemetry",
                   encode(telemetry(depot, 10, at=times[1] + timedelta(minutes=5), air=False)),
                   now_utc())
    with connect(tsdb, autocommit=True) as conn:
        assert store_batch(conn, [item]).grain_rows == 8
        assert conn.execute("SELECT temp_x100 FROM grain_readings WHERE depot = %s AND ts = %s "
                            "AND cable = 1 AND layer = 1",
                            (depot, times[1] + timedelta(minutes=5))).fetchone() == (1410,)
