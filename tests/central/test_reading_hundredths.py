"""Migration 0060 on the plain PostgreSQL path: grain temperatures become exact hundredths
(`temp_x100 smallint`), `received_at` leaves the rows, the aggregate views are rebuilt with
the same °C values, and ingest, history and the pure conversion agree with it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from central.db import storage
from central.db.migrate import migrate
from central.ingest.prepare import hundredths, prepare, telemetry_copy, telemetry_rows
from central.settings import Settings
from tests.central import old_grain_schema as old
from tests.central.ingest_support import encode, now_utc, telemetry, unique_depot
from tests.support import services

T0 = datetime(2026, 11, 20, 16, tzinfo=UTC)


@pytest.fixture
def plain_db(database_server_url):
    with services.scratch_database(database_server_url, prefix="grainlink_x100") as url:
        yield url


@pytest.mark.parametrize("temp, stored", [(14.6, 1460), (-0.05, -5), (21.35, 2135),
                                          (-60.0, -6000), (120.0, 12000), (None, None)])
def test_hundredths_are_exact_for_every_contract_temperature(temp, stored):
    assert hundredths(temp) == stored
    if temp is not None:
        assert stored / 100 == temp  # what the readers give back


def test_copy_text_and_rows_carry_hundredths_and_no_receive_time():
    depot = unique_depot()
    body = telemetry(depot, 5, air=False)
    body["grain"][0]["temps_c"] = [14.6, 0.07, -3.25, 16.0]
    item = prepare(f"grainlink/v1/{depot}/telemetry", encode(body), now_utc())
    grain, _ = telemetry_rows(item.message, item.received_at)
    (text, _), _ = telemetry_copy(item.message, item.received_at)
    assert [r[5] for r in grain[:4]] == [1460, 7, -325, 1600]
    assert text.decode().splitlines()[0].split("\t")[5:] == ["1460", "f", "5", "0"]
    assert all(item.received_at not in row for row in grain)


def test_plain_database_converts_with_same_aggregates(plain_db, monkeypatch, tmp_path):
    settings = Settings(database_url=plain_db, timescale="off")
    old.migrate_before_conversion(plain_db, settings, monkeypatch, tmp_path)
    depot = unique_depot("X100")
    temps = [14.6, 21.35, None, -3.1]
    with psycopg.connect(plain_db, autocommit=True) as conn:
        assert "temp_c" in old.columns(conn) and "received_at" in old.columns(conn)
        rows = [(depot, "P01", c, 1, T0 + timedelta(hours=h), temps[c - 1], temps[c - 1] is None,
                 7, 0, T0 + timedelta(hours=h, seconds=5)) for c in range(1, 5) for h in range(3)]
        conn.cursor().executemany(
            f"INSERT INTO grain_readings ({old.OLD_COLUMNS}) VALUES "
            "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", rows)
        storage.refresh_aggregates(conn)
        before = old.aggregate_rows(conn, depot)
    assert before["grain_layer_hourly"], "the old views hold the readings"

    done = migrate(plain_db, settings)
    # (later migrations of other work may follow 0060)
    assert done[0] == "0060_reading_hundredths" and done[-1] == "storage_plain"
    with psycopg.connect(plain_db, autocommit=True) as conn:
        cols = old.columns(conn)
        assert "temp_x100" in cols and not {"temp_c", "received_at"} & cols
        stored = conn.execute("SELECT cable, temp_x100, fault FROM grain_readings "
                              "WHERE depot = %s AND ts = %s ORDER BY cable", (depot, T0)).fetchall()
        assert stored == [(1, 1460, False), (2, 2135, False), (3, None, True), (4, -310, False)]
        storage.refresh_aggregates(conn)
        after = old.aggregate_rows(conn, depot)
    assert old.same_values(before, after) == []
    assert migrate(plain_db, settings) == []


def test_plain_conversion_leaves_no_receive_time_bytes(plain_db, monkeypatch, tmp_path):
    """The type change rewrites the table: received_at must be gone before it, or its eight
    bytes stay on disk until the next rewrite (issue 17 review). Measured on rows that already
    carry a NULL (sensor faults): in a row without one, the null bitmap the dropped column
    then needs costs the same eight bytes, so the size would not tell the order apart."""
    settings = Settings(database_url=plain_db, timescale="off")
    old.migrate_before_conversion(plain_db, settings, monkeypatch, tmp_path)
    with psycopg.connect(plain_db, autocommit=True) as conn:
        conn.execute(f"""INSERT INTO grain_readings ({old.OLD_COLUMNS})
            SELECT 'SIZE01', 'P01', c, l, %s::timestamptz + n * interval '30 minutes',
                   NULL, true, n, 0,
                   %s::timestamptz + n * interval '30 minutes' + interval '4 seconds'
            FROM generate_series(1, 20) c, generate_series(1, 4) l, generate_series(0, 199) n""",
                     (T0, T0))
        conn.execute("VACUUM grain_readings")
        before = conn.execute("SELECT pg_relation_size('grain_readings')").fetchone()[0]
    migrate(plain_db, settings)
    with psycopg.connect(plain_db, autocommit=True) as conn:
        after = conn.execute("SELECT pg_relation_size('grain_readings')").fetchone()[0]
    print(f"grain_readings heap {before} -> {after} bytes ({after / before:.2f}x)")
    assert after < before
