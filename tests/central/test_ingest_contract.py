"""Ingest against real mosquitto and PostgreSQL: contract messages -> rows, idempotence, gaps,
clock skew, hooks."""

from __future__ import annotations

from datetime import timedelta

import pytest

from central.db.aggregates import CLOCK_SKEWED, IMPLAUSIBLE_TIME
from central.db.migrate import migrate
from central.ingest.batches import BatchGap, batch_gaps, batch_summary
from central.ingest.hooks import IngestHooks
from central.ingest.worker import IngestWorker
from central.metrics import INGEST_HOOK_ERRORS
from tests.central.ingest_support import (
    Publisher,
    event,
    forget_session,
    layout,
    now_utc,
    running_worker,
    scalar,
    settings_for,
    status,
    telemetry,
    unique_depot,
    wait_for,
)
from tests.support import services


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    b = services.start_private_mosquitto(tmp_path_factory.mktemp("ingest-broker"))
    yield b
    b.stop()


@pytest.fixture(scope="module")
def db(database_url):
    migrate(database_url)
    return database_url


@pytest.fixture(scope="module")
def worker(db, broker):
    with running_worker(db, broker.url) as w:
        yield w


@pytest.fixture
def pub(broker):
    p = Publisher(broker.url)
    yield p
    p.close()


def topic(depot: str, kind: str) -> str:
    return f"grainlink/v1/{depot}/{kind}"


def test_contract_messages_become_rows(db, worker, pub):
    depot = unique_depot("HN")
    pub.publish(topic(depot, "layout"), layout(depot), retain=True)
    pub.publish(topic(depot, "status"), status(depot), retain=True)
    body = telemetry(depot, 1842)
    body["grain"][0]["temps_c"] = [14.8, 15.1, None, 16.0]
    body["grain"][0]["faults"] = [3]
    body["grain"][1]["temps_c"] = [14.0, None, 15.0, 15.5]  # layer 2: no sensor there
    pub.publish(topic(depot, "telemetry"), body)
    pub.publish(topic(depot, "events"), event(depot))
    pub.flush()
    q = "SELECT count(*) FROM grain_readings WHERE depot = %s"
    assert wait_for(lambda: scalar(db, q, (depot,)), 7) == 7
    assert wait_for(lambda: scalar(db, "SELECT count(*) FROM events WHERE depot = %s", (depot,)),
                    1) == 1
    assert wait_for(lambda: scalar(db, "SELECT state FROM depots WHERE code = %s", (depot,)),
                    "online") == "online"
    import psycopg

    with psycopg.connect(db) as conn:
        d = conn.execute("SELECT name, province, city, county, layout->>'name', last_seen "
                         "FROM depots WHERE code = %s", (depot,)).fetchone()
        assert d[:5] == ("长沙第一粮库", "430000", "430100", "430102", "长沙第一粮库")
        assert d[5] is not None
        cables = conn.execute('SELECT cable, "row", col, layers FROM cables WHERE depot = %s '
                              "ORDER BY cable", (depot,)).fetchall()
        assert cables == [(1, 1, 1, 4), (2, 1, 2, 4)]
        # stored in hundredths of a degree (migration 0060)
        rows = conn.execute("SELECT cable, layer, temp_x100, fault, batch FROM grain_readings "
                            "WHERE depot = %s ORDER BY cable, layer", (depot,)).fetchall()
        assert rows == [(1, 1, 1480, False, 1842), (1, 2, 1510, False, 1842),
                        (1, 3, None, True, 1842), (1, 4, 1600, False, 1842),
                        (2, 1, 1400, False, 1842), (2, 3, 1500, False, 1842),
                        (2, 4, 1550, False, 1842)]
        air = conn.execute("SELECT granary, place, temp_c, rh_pct FROM air_readings "
                           "WHERE depot = %s ORDER BY place", (depot,)).fetchall()
        assert air == [("P01", "indoor", 17.9, 63.5), ("", "outdoor", 11.2, 71.0)]
        ev = conn.execute("SELECT kind, subject, detail FROM events WHERE depot = %s",
                          (depot,)).fetchone()
        assert ev == ("bus_fault", "rs485-1", {"errors": 3})


def test_same_message_three_times_and_gap(db, worker, pub):
    depot = unique_depot()
    for _ in range(3):
        pub.publish(topic(depot, "telemetry"), telemetry(depot, 1))
    pub.publish(topic(depot, "telemetry"), telemetry(depot, 2, at=now_utc() - timedelta(hours=1)))
    pub.publish(topic(depot, "telemetry"), telemetry(depot, 4, at=now_utc() - timedelta(hours=2)))
    pub.flush()
    q = "SELECT count(*) FROM batches WHERE depot = %s"
    assert wait_for(lambda: scalar(db, q, (depot,)), 3) == 3
    assert wait_for(lambda: scalar(db, "SELECT deliveries FROM batches WHERE depot = %s AND "
                                       "batch = 1", (depot,)), 3) == 3
    # 3 scans x 8 readings; batch 1 stored once although it arrived three times
    assert scalar(db, "SELECT count(*) FROM grain_readings WHERE depot = %s", (depot,)) == 24
    assert scalar(db, "SELECT count(*) FROM air_readings WHERE depot = %s", (depot,)) == 6
    import psycopg

    with psycopg.connect(db) as conn:
        assert batch_gaps(conn, depot) == [BatchGap(3, 3)]
        summary = batch_summary(conn, depot)
    assert summary == {"first": 1, "last": 4, "received": 3, "missing": 1, "redelivered": 1,
                       "anomalies": 0}


def test_clock_skew_and_implausible_times_are_kept_flagged(db, worker, pub):
    depot = unique_depot()
    ahead = telemetry(depot, 1, sent_at=now_utc() + timedelta(hours=2),
                      at=now_utc() + timedelta(hours=2), air=False)
    pub.publish(topic(depot, "telemetry"), ahead)
    old = telemetry(depot, 2, at=now_utc().replace(year=2001), air=False)
    pub.publish(topic(depot, "telemetry"), old)
    pub.flush()
    q = "SELECT count(*) FROM grain_readings WHERE depot = %s"
    assert wait_for(lambda: scalar(db, q, (depot,)), 16) == 16
    flags = scalar(db, "SELECT array_agg(DISTINCT flags ORDER BY flags) FROM grain_readings "
                       "WHERE depot = %s", (depot,))
    assert flags == [IMPLAUSIBLE_TIME, IMPLAUSIBLE_TIME | CLOCK_SKEWED]
    assert scalar(db, "SELECT count(*) FROM clock_skew_flags WHERE depot = %s", (depot,)) == 1
    # the hourly aggregate leaves implausible times out once refreshed
    assert scalar(db, "SELECT count(*) FROM grain_readings WHERE depot = %s "
                      "AND flags & 1 = 0", (depot,)) == 0


def test_batch_hooks_run_once_per_new_batch_and_errors_do_not_block(db, private_broker):
    depot = unique_depot()
    calls = []

    def record(conn, items):
        for d, message, _prepared in items:
            if d == depot:
                n = conn.execute("SELECT count(*) FROM grain_readings WHERE depot = %s "
                                 "AND batch = %s", (d, message.batch)).fetchone()[0]
                calls.append((message.batch, n))

    def broken(conn, items):
        if any(d == depot for d, *_ in items):
            conn.execute("SELECT 1/0")

    # only this test's hooks, handed in as the service's are (central/wiring.py)
    hooked = IngestWorker(settings_for(db, private_broker.url), IngestHooks(batch=(record, broken)))
    hooked.start()
    assert hooked.ready.wait(10)
    pub = Publisher(private_broker.url)
    errors_before = INGEST_HOOK_ERRORS.value(hook="broken")
    try:
        pub.publish(topic(depot, "telemetry"), telemetry(depot, 7))
        pub.publish(topic(depot, "telemetry"), telemetry(depot, 7))
        pub.flush()
        q = "SELECT deliveries FROM batches WHERE depot = %s"
        assert wait_for(lambda: scalar(db, q, (depot,)), 2) == 2
    finally:
        pub.close()
        hooked.stop()
    assert calls == [(7, 8)]  # the hook sees the rows of its batch; the repeat is not re-run
    assert INGEST_HOOK_ERRORS.value(hook="broken") == errors_before + 1
    assert scalar(db, "SELECT count(*) FROM grain_readings WHERE depot = %s", (depot,)) == 8


def test_older_retained_layout_does_not_overwrite(db, worker, pub):
    depot = unique_depot()
    pub.publish(topic(depot, "layout"), layout(depot, cables=3))
    pub.flush()
    q = "SELECT count(*) FROM cables WHERE depot = %s"
    assert wait_for(lambda: scalar(db, q, (depot,)), 3) == 3
    pub.publish(topic(depot, "layout"), layout(depot, now_utc() - timedelta(days=1), cables=1))
    pub.publish(topic(depot, "status"), status(depot))
    pub.flush()
    assert wait_for(lambda: scalar(db, "SELECT state FROM depots WHERE code = %s", (depot,)),
                    "online") == "online"
    assert scalar(db, q, (depot,)) == 3


def test_machine_broker_smoke(db, mqtt_url):
    """The machine's mosquitto (the one CI and the demo use) carries the contract too."""
    settings = settings_for(db, mqtt_url)
    w = IngestWorker(settings)
    w.start()
    try:
        assert w.ready.wait(10)
        p = Publisher(mqtt_url)
        depot = unique_depot()
        p.publish(topic(depot, "telemetry"), telemetry(depot, 1))
        p.close()
        q = "SELECT count(*) FROM grain_readings WHERE depot = %s"
        assert wait_for(lambda: scalar(db, q, (depot,)), 8) == 8
    finally:
        w.stop()
        forget_session(mqtt_url, settings.mqtt_client_id)


def test_last_will_marks_the_depot_offline(db, worker, broker):
    import json as _json
    import socket

    import paho.mqtt.client as mqtt

    depot = unique_depot("WILL")
    edge = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"edge-{depot}",
                       protocol=mqtt.MQTTv311)
    edge.will_set(topic(depot, "status"), _json.dumps(status(depot, "offline")), qos=1,
                  retain=True)
    edge.connect(broker.host, broker.port, keepalive=5)
    edge.loop_start()
    info = edge.publish(topic(depot, "status"), _json.dumps(status(depot, "online")), qos=1,
                        retain=True)
    info.wait_for_publish(5)
    q = "SELECT state FROM depots WHERE code = %s"
    assert wait_for(lambda: scalar(db, q, (depot,)), "online") == "online"
    edge.loop_stop()
    edge.socket().shutdown(socket.SHUT_RDWR)  # the link dies without a DISCONNECT
    edge.socket().close()
    assert wait_for(lambda: scalar(db, q, (depot,)), "offline") == "offline"
    assert scalar(db, "SELECT count(*) FROM depot_status WHERE depot = %s", (depot,)) == 2


def test_metrics_render_prometheus_text(db, worker, pub):
    from central.metrics import render

    depot = unique_depot()
    pub.publish(topic(depot, "telemetry"), telemetry(depot, 1))
    pub.flush()
    q = "SELECT count(*) FROM batches WHERE depot = %s"
    assert wait_for(lambda: scalar(db, q, (depot,)), 1) == 1
    assert wait_for(lambda: 'grainlink_ingest_messages_total{kind="telemetry"}' in render(),
                    True) is True
    text = render()
    assert "# TYPE grainlink_ingest_messages_total counter" in text
    assert 'grainlink_ingest_messages_total{kind="telemetry"}' in text
    assert "grainlink_ingest_connected 1" in text
