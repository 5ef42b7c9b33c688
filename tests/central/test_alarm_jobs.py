"""The scheduled time-driven rules against real PostgreSQL: offline by silence, camera
offline after the hold, humidity held high, inspection overdue, temperature rise, stuck
sensors; each clears once the condition is gone and the hysteresis passed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from central.alarms.scheduled import jobs
from central.alarms.state import thresholds_store
from tests.central.api_support import insert_air, insert_depot, insert_scan, tag

NOW = datetime.now(UTC).replace(microsecond=0)


def new_depot(conn, granaries=("P01",)) -> str:
    depot = f"JB{tag()}"
    insert_depot(conn, depot, {"province": "430000", "city": "430100", "county": "430102"},
                 {g: [(c, 1, c, 4) for c in (1, 2, 3)] for g in granaries})
    return depot


def alarms(conn, depot):
    return conn.execute("SELECT rule, subject, state FROM alarms WHERE depot = %s "
                        "ORDER BY rule, subject", (depot,)).fetchall()


def test_depot_offline_by_silence_then_clears_after_hysteresis(conn):
    depot = new_depot(conn)
    conn.execute("UPDATE depots SET last_telemetry = %s WHERE code = %s",
                 (NOW - timedelta(hours=3, minutes=1), depot))  # limit: 3 x 60 min
    jobs.time_rules_job(conn, now=NOW, only={depot})
    assert alarms(conn, depot) == [("depot_offline", "@depot", "active")]
    conn.execute("UPDATE depots SET last_telemetry = %s WHERE code = %s", (NOW, depot))
    jobs.time_rules_job(conn, now=NOW + timedelta(minutes=1), only={depot})
    jobs.time_rules_job(conn, now=NOW + timedelta(minutes=30), only={depot})
    assert alarms(conn, depot) == [("depot_offline", "@depot", "active")]  # 29 min false
    jobs.time_rules_job(conn, now=NOW + timedelta(minutes=31), only={depot})
    assert alarms(conn, depot) == [("depot_offline", "@depot", "cleared")]


def test_just_inside_the_silence_limit_raises_nothing(conn):
    depot = new_depot(conn)
    conn.execute("UPDATE depots SET last_telemetry = %s WHERE code = %s",
                 (NOW - timedelta(hours=3), depot))
    jobs.time_rules_job(conn, now=NOW, only={depot})
    assert alarms(conn, depot) == []


def test_camera_offline_after_the_hold_time(conn):
    depot = new_depot(conn)
    for camera, minutes in (("CAM-1", 11), ("CAM-2", 9)):
        conn.execute("INSERT INTO events (depot, ts, kind, subject) VALUES (%s, %s, %s, %s)",
                     (depot, NOW - timedelta(minutes=minutes), "camera_offline", camera))
    jobs.time_rules_job(conn, now=NOW, only={depot})
    assert alarms(conn, depot) == [("camera_offline", "CAM-1", "active")]


def test_indoor_humidity_held_high(conn):
    depot = new_depot(conn, ("P01", "P02"))
    for k in range(7):  # every 30 min over 3 h
        at = NOW - timedelta(minutes=30 * k)
        insert_air(conn, depot, "P01", "indoor", at, 20.0, 80.0)
        insert_air(conn, depot, "P02", "indoor", at, 20.0, 70.0 if k == 2 else 80.0)
    jobs.time_rules_job(conn, now=NOW, only={depot})
    assert alarms(conn, depot) == [("indoor_humidity_high", "P01", "active")]


def test_inspection_overdue_by_band_and_heating(conn):
    depot = new_depot(conn, ("P01", "P02", "P03"))
    marks = [("P01", 16.0, 11), ("P02", 14.0, 11), ("P03", 14.0, 2)]  # warm 10 d, cool 15 d
    for granary, max_c, days in marks:
        conn.execute("INSERT INTO alarm_scan_marks (depot, granary, scan_ts, max_c, last_complete_at)"
                     " VALUES (%s, %s, %s, %s, %s)",
                     (depot, granary, NOW, max_c, NOW - timedelta(days=days)))
    # P03 is heating (an open hotspot): due every day
    conn.execute("INSERT INTO alarms (depot, granary, rule, subject, severity, opened_at, updated_at)"
                 " VALUES (%s, 'P03', 'hotspot', 'P03/C1/L1', 'warning', %s, %s)", (depot, NOW, NOW))
    jobs.time_rules_job(conn, now=NOW, only={depot})
    assert alarms(conn, depot) == [("hotspot", "P03/C1/L1", "active"),
                                   ("inspection_overdue", "P01", "active"),
                                   ("inspection_overdue", "P03", "active")]


def test_temp_rise_and_seasonal_drift(conn):
    depot = new_depot(conn)
    conn.execute("UPDATE depots SET last_telemetry = %s WHERE code = %s", (NOW, depot))
    for day in range(4):
        at = NOW - timedelta(days=day, minutes=5)
        insert_scan(conn, depot, "P01", 1, at, [15.0 - 1.2 * day, 15.0, 15.0 - 0.3 * day, 15.1])
    jobs.daily_rules_job(conn, now=NOW, only={depot})
    assert alarms(conn, depot) == [("temp_rise", "P01/C1/L1", "active")]


def test_stuck_sensor_and_its_own_subject(conn):
    depot = new_depot(conn)
    conn.execute("UPDATE depots SET last_telemetry = %s WHERE code = %s", (NOW, depot))
    thresholds_store.set_overrides(conn, depot, "", {"clear_hysteresis_min": 0}, "test")
    for k in range(17):  # every 12 h over 8 days
        at = NOW - timedelta(hours=12 * k, minutes=1)
        insert_scan(conn, depot, "P01", 2, at, [14.5, 14.0 + 0.01 * k, 14.0 + 0.02 * k, 14.2 - 0.01 * k])
    jobs.daily_rules_job(conn, now=NOW, only={depot})
    assert alarms(conn, depot) == [("sensor_fault", "P01/C2/L1/stuck", "active")]
    insert_scan(conn, depot, "P01", 2, NOW, [14.7, 14.0, 14.0, 14.0])
    jobs.daily_rules_job(conn, now=NOW + timedelta(seconds=1), only={depot})
    assert alarms(conn, depot) == [("sensor_fault", "P01/C2/L1/stuck", "cleared")]
