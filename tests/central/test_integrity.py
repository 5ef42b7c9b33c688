"""Data integrity (issue 17): batch gaps bounded by what a depot can produce, and one stored
copy per unit scan, through the real ingest transaction on the session's database."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from central.db.pool import connect
from central.ingest.batches import (
    SCAN_REPEATS,
    BatchAnomaly,
    BatchGap,
    batch_anomalies,
    batch_gaps,
    batch_summary,
)
from central.ingest.prepare import prepare
from central.ingest.store import store_batch
from central.settings import Settings
from protocols.mqtt.codec import decode_message, encode_message
from protocols.mqtt.errors import MessageError
from tests.central.ingest_support import encode, now_utc, telemetry, ts, unique_depot


def _store(url: str, bodies: list[dict], window_s: float = 86400.0):
    received = now_utc()
    items = [prepare(f"grainlink/v1/{b['depot']}/telemetry", encode(b), received)
             for b in bodies]
    assert all(it.ok for it in items), [str(it.error) for it in items if not it.ok]
    with connect(url, autocommit=True) as conn:
        return store_batch(conn, items, scan_window_s=window_s)


def _count(url: str, sql: str, params=()) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchone()[0]


def test_absurd_batch_number_is_an_anomaly_not_ten_million_missing(url):
    depot, t = unique_depot(), now_utc() - timedelta(hours=1)
    _store(url, [telemetry(depot, b, at=t + timedelta(minutes=b), air=False)
                 for b in (1, 2, 3, 5, 7)])
    _store(url, [telemetry(depot, 10_000_037, at=t + timedelta(minutes=8), air=False)])
    with psycopg.connect(url) as conn:
        assert batch_gaps(conn, depot) == [BatchGap(4, 4), BatchGap(6, 6)]
        [anomaly] = batch_anomalies(conn, depot)
        assert (anomaly.after_batch, anomaly.batch, anomaly.jump) == (7, 10_000_037, 10_000_029)
        assert batch_summary(conn, depot) == {
            "first": 1, "last": 10_000_037, "received": 6, "missing": 2, "redelivered": 0,
            "anomalies": 1}
    # the SQL views answer the same (default bounds)
    assert _count(url, "SELECT sum(missing) FROM batch_gaps WHERE depot = %s", (depot,)) == 2
    assert _count(url, "SELECT count(*) FROM batch_anomalies WHERE depot = %s", (depot,)) == 1


def test_the_bound_grows_with_the_time_between_batches(url):
    depot, t = unique_depot(), now_utc() - timedelta(hours=6)
    tight = Settings(batch_jump_slack=10, batch_rate_max_per_hour=60)
    _store(url, [telemetry(depot, 1, at=t, air=False),
                 # 5 h later: up to 10 + 300 batches could have been made in between
                 telemetry(depot, 200, at=t + timedelta(hours=5), air=False),
                 # a minute after that: 11 at most
                 telemetry(depot, 400, at=t + timedelta(hours=5, minutes=1), air=False)])
    with psycopg.connect(url) as conn:
        assert batch_gaps(conn, depot, tight) == [BatchGap(2, 199)]
        assert batch_anomalies(conn, depot, tight) == [BatchAnomaly(200, 400, 11)]
        # with the default, generous bounds both jumps are plausible
        assert batch_gaps(conn, depot) == [BatchGap(2, 199), BatchGap(201, 399)]


def _scan_body(depot: str, batch: int, at, counter: int | None, cable: int = 1) -> dict:
    body = telemetry(depot, batch, at=at, cables=1, air=False)
    body["grain"][0]["cable"] = cable
    if counter is not None:
        body["grain"][0]["scan_counter"] = counter
    return body


def test_a_scan_restamped_under_the_same_counter_is_stored_once(url):
    depot, t = unique_depot(), now_utc() - timedelta(minutes=10)
    readings = "SELECT count(*) FROM grain_readings WHERE depot = %s"
    before = SCAN_REPEATS.value(depot=depot)
    assert _store(url, [_scan_body(depot, 1, t, 41)]).scan_repeats == 0
    # the edge restarted and read the same scan again, 1 s later by its clock
    result = _store(url, [_scan_body(depot, 2, t + timedelta(seconds=1), 41)])
    assert (result.scan_repeats, result.grain_rows) == (1, 0)
    assert _count(url, readings, (depot,)) == 4
    # the batch itself is recorded (it is not a gap), and a redelivery is refused again
    assert _store(url, [_scan_body(depot, 2, t + timedelta(seconds=1), 41)]).scan_repeats == 1
    with psycopg.connect(url) as conn:
        assert batch_summary(conn, depot)["missing"] == 0
    # the same scan redelivered under its own time is no repeat; the next counter is new
    assert _store(url, [_scan_body(depot, 1, t, 41)]).scan_repeats == 0
    assert _store(url, [_scan_body(depot, 3, t + timedelta(minutes=5), 42)]).grain_rows == 4
    # two copies inside one message: the second is refused; another cable is its own scan
    both = _scan_body(depot, 4, t + timedelta(minutes=6), 43)
    both["grain"].append({**both["grain"][0], "ts": ts(t + timedelta(minutes=6, seconds=1))})
    both["grain"].append({**both["grain"][0], "cable": 2})
    assert _store(url, [both]).scan_repeats == 1
    assert _count(url, readings, (depot,)) == 16
    assert _count(url, "SELECT refused FROM scan_repeats WHERE depot = %s", (depot,)) == 3
    assert SCAN_REPEATS.value(depot=depot) - before == 3


def test_counter_past_the_window_is_a_new_scan_and_scans_without_one_are_untouched(url):
    depot, t = unique_depot(), now_utc() - timedelta(hours=3)
    assert _store(url, [_scan_body(depot, 1, t, 7)], window_s=3600).grain_rows == 4
    # the counter wrapped: two hours later it names another scan
    assert _store(url, [_scan_body(depot, 2, t + timedelta(hours=2), 7)],
                  window_s=3600).grain_rows == 4
    # publishers that do not know the counter are stored as before
    assert _store(url, [_scan_body(depot, 3, t + timedelta(hours=2, seconds=1), None)],
                  window_s=3600).grain_rows == 4
    assert _count(url, "SELECT count(*) FROM scan_repeats WHERE depot = %s", (depot,)) == 0


def test_scan_counter_on_the_wire_is_optional_and_a_u16():
    depot = unique_depot()
    without = decode_message(f"grainlink/v1/{depot}/telemetry",
                             encode(_scan_body(depot, 1, now_utc(), None)))
    assert b"scan_counter" not in encode_message(without)
    body = _scan_body(depot, 1, now_utc(), 65535)
    assert decode_message(f"grainlink/v1/{depot}/telemetry", encode(body)).grain[0].scan_counter \
        == 65535
    body["grain"][0]["scan_counter"] = 65536
    with pytest.raises(MessageError, match="scan_counter"):
        decode_message(f"grainlink/v1/{depot}/telemetry", encode(body))


def test_the_api_lists_gaps_and_anomalies_apart(url):
    from fastapi.testclient import TestClient

    from central.wiring import build_app
    from tests.central.api_support import bearer, insert_depot, migrated_settings, new_user, tag

    depot = f"GAP{tag()}"
    with connect(url, autocommit=True) as conn:
        insert_depot(conn, depot, {"province": "430000"}, {"P01": [(1, 1, 1, 4)]})
        for batch in (1, 2, 4, 10_000_037):
            conn.execute("INSERT INTO batches (depot, batch) VALUES (%s, %s)", (depot, batch))
    headers = bearer(new_user(url, "admin", "000000"))
    with TestClient(build_app(migrated_settings(url))) as client:
        gaps = client.get(f"/api/v1/depots/{depot}/gaps", headers=headers)
        odd = client.get(f"/api/v1/depots/{depot}/batch-anomalies", headers=headers)
        missing = client.get("/api/v1/depots/NOSUCH/batch-anomalies", headers=headers)
    assert gaps.json() == [{"first_missing": 3, "last_missing": 3, "missing": 1}]
    assert odd.json() == [{"after_batch": 4, "batch": 10_000_037, "plausible_max": 1000,
                           "jump": 10_000_032}]
    assert missing.status_code == 404
