"""Migration 0060 on a TimescaleDB database that already has compressed chunks, continuous
aggregates and buckets whose raw chunks retention dropped: converted chunk by chunk
(`central/db/timescale.py` before_migration), compressed chunks compressed again, the
aggregates rebuilt with the same °C values and the retained-only buckets kept."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import psycopg
import pytest

from central.db import timescale
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


def _grain_bytes(conn) -> int:
    return conn.execute("SELECT hypertable_size('grain_readings')").fetchone()[0]


def test_conversion_does_not_grow_compressed_history(tsdb, monkeypatch, tmp_path):
    """Each recompressed chunk must carry neither received_at nor temp_c's values (issue 17
    review: they were dropped only after the chunks had been compressed again)."""
    settings = Settings(database_url=tsdb, raw_retention_days=40, compress_after_days=7)
    old.migrate_before_conversion(tsdb, settings, monkeypatch, tmp_path)
    start = now_utc().replace(minute=0, second=0, microsecond=0) - timedelta(days=14)
    with psycopg.connect(tsdb, autocommit=True) as conn:
        conn.execute("SELECT alter_job(job_id, scheduled => false) "
                     "FROM timescaledb_information.jobs WHERE hypertable_name IS NOT NULL")
        # four days of half-hourly scans, 2 granaries x 20 cables x 4 layers, drifting slowly
        conn.execute(f"""INSERT INTO grain_readings ({old.OLD_COLUMNS})
            SELECT 'SIZE01', 'P0' || g, c, l, t,
                   round((15 + c * 0.1 + l * 0.05 + extract(epoch FROM t - %s) / 360000
                          + (c * l * 7 + n) %% 5 * 0.01)::numeric, 2)::real,
                   false, n, 0, t + interval '4 seconds'
            FROM generate_series(1, 2) g, generate_series(1, 20) c, generate_series(1, 4) l,
                 generate_series(0, 4 * 48 - 1) n,
                 LATERAL (SELECT %s::timestamptz + n * interval '30 minutes' AS t) s""",
                     (start, start))
        conn.execute("SELECT compress_chunk(c) FROM show_chunks('grain_readings') c")
        assert all(_compressed(conn))
        before = _grain_bytes(conn)
        count = conn.execute("SELECT count(*) FROM grain_readings").fetchone()[0]

    migrate(tsdb, settings)
    with psycopg.connect(tsdb, autocommit=True) as conn:
        after = _grain_bytes(conn)
        assert all(_compressed(conn))
        assert conn.execute("SELECT count(*), count(temp_x100) FROM grain_readings"
                            ).fetchone() == (count, count)
    print(f"grain_readings {before} -> {after} bytes ({after / before:.2f}x), {count} rows")
    assert after <= before


def test_conversion_pauses_retention_and_keeps_rows_an_old_ingest_wrote(
        tsdb, monkeypatch, tmp_path):
    """Retention is paused with compression for the whole conversion, and rows an ingest of
    the old version wrote (temp_c only) after their chunk was converted get their temp_x100
    in `finish`, before temp_c goes."""
    settings = Settings(database_url=tsdb, raw_retention_days=40, compress_after_days=7)
    old.migrate_before_conversion(tsdb, settings, monkeypatch, tmp_path)
    depot = unique_depot("X100")
    hour = now_utc().replace(minute=0, second=0, microsecond=0)
    old_t, new_t = hour - timedelta(days=20), hour - timedelta(hours=2)
    prepare_sql, convert_sql, finish_sql = timescale._hundredths_statements()
    cols = "depot, granary, cable, layer, ts, temp_c, fault, batch, flags"
    with psycopg.connect(tsdb, autocommit=True) as conn:
        conn.execute("SELECT alter_job(job_id, scheduled => false) "
                     "FROM timescaledb_information.jobs WHERE hypertable_name IS NOT NULL")
        conn.cursor().executemany(
            f"INSERT INTO grain_readings ({cols}) VALUES (%s, 'P01', 1, 1, %s, 12.5, false, 1, 0)",
            [(depot, old_t), (depot, new_t)])
        conn.execute("CALL run_job(%s)", _jobs(conn, "policy_compression")[:1])
        assert _compressed(conn) == [True, False]
        conn.execute(prepare_sql)
        assert _jobs(conn, "policy_retention") == [] and _jobs(conn, "policy_compression") == []
        conn.execute(convert_sql)
        # the old ingest, still running: into the compressed chunk and the newest one
        conn.cursor().executemany(
            f"INSERT INTO grain_readings ({cols}) VALUES (%s, 'P01', 2, 1, %s, 7.25, false, 2, 0)",
            [(depot, old_t), (depot, new_t)])
        conn.execute(finish_sql)
        got = conn.execute("SELECT cable, ts, temp_x100 FROM grain_readings WHERE depot = %s "
                           "ORDER BY ts, cable", (depot,)).fetchall()
        assert got == [(1, old_t, 1250), (2, old_t, 725), (1, new_t, 1250), (2, new_t, 725)]
        assert _compressed(conn) == [True, False]
    migrate(tsdb, settings)
    with psycopg.connect(tsdb, autocommit=True) as conn:
        assert len(_jobs(conn, "policy_retention")) == 1  # the storage step put it back


def test_conversion_skips_a_chunk_dropped_while_it_waited(tsdb, monkeypatch, tmp_path):
    """A retention run that was already under way when `prepare` paused the policy may drop a
    chunk the conversion listed: it is skipped, not an error."""
    settings = Settings(database_url=tsdb, raw_retention_days=40, compress_after_days=7)
    old.migrate_before_conversion(tsdb, settings, monkeypatch, tmp_path)
    depot = unique_depot("X100")
    hour = now_utc().replace(minute=0, second=0, microsecond=0)
    times = [hour - timedelta(days=20), hour - timedelta(days=18), hour - timedelta(hours=2)]
    prepare_sql, convert_sql, _ = timescale._hundredths_statements()
    with psycopg.connect(tsdb, autocommit=True) as conn:
        conn.execute("SELECT alter_job(job_id, scheduled => false) "
                     "FROM timescaledb_information.jobs WHERE hypertable_name IS NOT NULL")
        conn.cursor().executemany(
            "INSERT INTO grain_readings (depot, granary, cable, layer, ts, temp_c, fault, batch,"
            " flags) VALUES (%s, 'P01', 1, 1, %s, 12.5, false, 1, 0)", [(depot, t) for t in times])
        conn.execute(prepare_sql)
        oldest = conn.execute("SELECT format('%I.%I', chunk_schema, chunk_name) FROM "
                              "timescaledb_information.chunks WHERE hypertable_name = "
                              "'grain_readings' ORDER BY range_start LIMIT 1").fetchone()[0]
    errors: list[Exception] = []
    with psycopg.connect(tsdb) as holder, psycopg.connect(tsdb, autocommit=True) as runner:
        holder.execute(f"LOCK TABLE {oldest} IN ACCESS EXCLUSIVE MODE")

        def convert():
            try:
                runner.execute(convert_sql)
            except Exception as exc:  # reported by the assertion below
                errors.append(exc)

        worker = threading.Thread(target=convert)
        worker.start()
        for _ in range(200):  # until the conversion waits for the chunk
            if holder.execute("SELECT wait_event_type = 'Lock' FROM pg_stat_activity "
                              "WHERE pid = %s", (runner.info.backend_pid,)).fetchone()[0]:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the conversion never waited for the locked chunk")
        holder.execute("SELECT drop_chunks('grain_readings', older_than => %s)",
                       (times[0] + timedelta(days=1),))
        holder.commit()
        worker.join(60)
    assert errors == []
    with psycopg.connect(tsdb, autocommit=True) as conn:
        assert conn.execute("SELECT ts, temp_x100 FROM grain_readings WHERE depot = %s "
                            "ORDER BY ts", (depot,)).fetchall() == [(t, 1250) for t in times[1:]]
