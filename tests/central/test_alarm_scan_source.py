"""Scan evaluation against the database: a scan split over two messages, a late older scan,
a batch of several messages, the status and event hooks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from central.alarms.evaluate import ingest_hook
from central.alarms.evaluate.layout_cache import GranaryLayout
from central.alarms.evaluate.scan_source import message_scans
from central.alarms.state import thresholds_store
from central.ingest.hooks import IngestHooks
from central.metrics import INGEST_HOOK_ERRORS
from central.settings import Settings
from central.wiring import ingest_hooks
from protocols.mqtt.models import Event, Status, Telemetry
from tests.central.api_support import insert_depot, insert_scan, tag
from tests.central.ingest_support import status, ts

T0 = datetime(2026, 11, 20, 8, tzinfo=UTC)
REGION = {"province": "430000", "city": "430100", "county": "430102"}


def depot_with_grid(conn) -> str:
    depot = f"SS{tag()}"
    insert_depot(conn, depot, REGION, {"P01": [(c, (c - 1) // 3 + 1, (c - 1) % 3 + 1, 4)
                                               for c in range(1, 10)]})
    thresholds_store.set_overrides(conn, depot, "", {"clear_hysteresis_min": 0}, "test")
    return depot


def telemetry(depot, batch, at, cables, hot=None):
    grain = [{"ts": ts(at), "granary": "P01", "cable": c,
              "temps_c": [15.0, 21.0 if hot == c else 15.2, 15.4, 15.6], "faults": []} for c in cables]
    return Telemetry.model_validate({"schema": "grainlink.telemetry/1", "depot": depot,
                                     "batch": batch, "sent_at": ts(at), "grain": grain, "air": []})


def store(conn, msg):
    """What ingest does before the hook: the readings are in the table."""
    for g in msg.grain:
        insert_scan(conn, msg.depot, g.granary, g.cable, g.ts, list(g.temps_c))


def alarms(conn, depot):
    return conn.execute("SELECT rule, subject, state FROM alarms WHERE depot = %s "
                        "ORDER BY rule, subject", (depot,)).fetchall()


def test_a_split_scan_is_completed_from_the_table(conn):
    depot = depot_with_grid(conn)
    first, second = telemetry(depot, 1, T0, range(1, 6), hot=5), telemetry(depot, 2, T0, range(6, 10))
    with conn.transaction():
        store(conn, first)
        ingest_hook.evaluate_telemetry(conn, depot, first, T0)
    # cables 6-9 have not arrived yet and have no recent reading: gone, for now
    assert ("sensor_fault", "P01/C6", "active") in alarms(conn, depot)
    with conn.transaction():
        store(conn, second)
        ingest_hook.evaluate_telemetry(conn, depot, second, T0 + timedelta(seconds=5))
    # the second part completes the scan from the table: the hot spot stays, the rest clears
    assert [a for a in alarms(conn, depot) if a[2] != "cleared"] == [("hotspot", "P01/C5/L2", "active")]


def test_an_older_scan_arriving_late_is_not_evaluated(conn):
    depot = depot_with_grid(conn)
    new, old = telemetry(depot, 2, T0, range(1, 10)), telemetry(depot, 1, T0 - timedelta(hours=1),
                                                                range(1, 10), hot=3)
    with conn.transaction():
        store(conn, new)
        ingest_hook.evaluate_telemetry(conn, depot, new, T0)
        store(conn, old)
        ingest_hook.evaluate_telemetry(conn, depot, old, T0)
    assert alarms(conn, depot) == []


def test_a_batch_evaluates_the_newest_scan_of_each_granary(conn):
    depots = [depot_with_grid(conn) for _ in range(3)]
    items = []
    for i, depot in enumerate(depots):
        older = telemetry(depot, 1, T0, range(1, 10), hot=2)
        newer = telemetry(depot, 2, T0 + timedelta(hours=1), range(1, 10), hot=4 if i == 1 else None)
        store(conn, older)
        store(conn, newer)
        items += [(depot, older), (depot, newer)]
    with conn.transaction():
        ingest_hook.evaluate_batch(conn, items, T0 + timedelta(hours=1))
    assert [alarms(conn, d) for d in depots] == [[], [("hotspot", "P01/C4/L2", "active")], []]
    marks = conn.execute("SELECT depot, scan_ts, max_c, last_complete_at FROM alarm_scan_marks "
                         "WHERE depot = ANY(%s) ORDER BY depot", (depots,)).fetchall()
    assert [m[1] for m in marks] == [T0 + timedelta(hours=1)] * 3
    assert {m[0]: m[2] for m in marks} == dict(zip(depots, [15.6, 21.0, 15.6], strict=True))
    assert all(m[3] == T0 + timedelta(hours=1) for m in marks)


def test_status_and_camera_hooks(conn):
    depot = depot_with_grid(conn)
    now = datetime.now(UTC)
    will = Status.model_validate(status(depot, "offline"))
    conn.execute("UPDATE depots SET state = 'offline' WHERE code = %s", (depot,))
    ingest_hook.on_status(conn, depot, will, now)
    assert alarms(conn, depot) == [("depot_offline", "@depot", "active")]
    conn.execute("UPDATE depots SET state = 'online' WHERE code = %s", (depot,))
    ingest_hook.on_status(conn, depot, Status.model_validate(status(depot, "online")), now)
    assert alarms(conn, depot) == [("depot_offline", "@depot", "cleared")]  # hysteresis 0
    conn.execute("INSERT INTO alarms (depot, rule, subject, severity, opened_at, updated_at) "
                 "VALUES (%s, 'camera_offline', 'CAM-1', 'warning', %s, %s)", (depot, now, now))
    back = Event.model_validate({"schema": "grainlink.event/1", "depot": depot, "ts": ts(now),
                                 "kind": "camera_online", "subject": "CAM-1", "detail": {}})
    ingest_hook.on_event(conn, depot, back, now)
    assert ("camera_offline", "CAM-1", "cleared") in alarms(conn, depot)


def test_figures_prepared_against_an_older_layout_are_computed_again(conn):
    """The preparer saw a layout of cables 1-5 (revision now outdated); the depot's layout
    lists 1-9, so cables 6-9 are gone and the batch must say so."""
    depot = depot_with_grid(conn)
    msg = telemetry(depot, 1, T0, range(1, 6))
    store(conn, msg)
    rev = conn.execute("SELECT layout_rev FROM depots WHERE code = %s", (depot,)).fetchone()[0]
    old = GranaryLayout.of("normal", [(c, 1, c) for c in range(1, 6)])
    prepared = {ingest_hook.PREPARER: message_scans(msg, lambda g: (rev - 1, old))}
    assert prepared[ingest_hook.PREPARER]["P01"].stats is not None  # looked complete then
    with conn.transaction():
        ingest_hook.evaluate_batch(conn, [(depot, msg, prepared)], T0)
    assert ("sensor_fault", "P01/C6", "active") in alarms(conn, depot)


def test_a_failing_preparer_is_counted_and_the_others_still_run():
    def broken(_msg):
        raise RuntimeError("bug")

    msg = telemetry("SSX", 1, T0, range(1, 3))
    before = INGEST_HOOK_ERRORS.value(hook="test.broken")
    service = ingest_hooks(Settings(database_url="postgresql://127.0.0.1/unused"))
    hooks = IngestHooks(preparers={"test.broken": broken, **service.preparers})
    out = hooks.prepare(msg)
    assert "test.broken" not in out and ingest_hook.PREPARER in out
    assert INGEST_HOOK_ERRORS.value(hook="test.broken") == before + 1
