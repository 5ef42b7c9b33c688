"""Scan-driven alarms through the real path: MQTT publish → ingest worker → hook → alarms;
the edge's last will → depot_offline."""

from __future__ import annotations

import json
import time
import uuid
from datetime import timedelta
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
import pytest

from central.alarms.state import thresholds_store
from central.db.migrate import migrate
from central.db.pool import connect
from tests.central.ingest_support import (
    Publisher,
    layout,
    now_utc,
    running_worker,
    status,
    ts,
    unique_depot,
)
from tests.support import services

GRID = [(c, (c - 1) // 3 + 1, (c - 1) % 3 + 1) for c in range(1, 10)]  # 3 x 3, cable 5 inside


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    b = services.start_private_mosquitto(tmp_path_factory.mktemp("alarm-broker"))
    yield b
    b.stop()


@pytest.fixture(scope="module")
def worker(database_url, broker):
    migrate(database_url)
    with running_worker(database_url, broker.url, ingest_hooks=True) as w:
        yield w


@pytest.fixture
def pub(broker):
    p = Publisher(broker.url)
    yield p
    p.close()


def grid_layout(depot: str) -> dict:
    body = layout(depot)
    g = body["granaries"][0]
    g["cables"] = [{"cable": c, "row": r, "col": k, "x_m": 2.0 * k, "y_m": 2.0 * r, "layers": 4}
                   for c, r, k in GRID]
    return body


def scan(depot, batch, at, temps=None, faults=None, indoor=(17.0, 60.0), outdoor=(11.0, 70.0)):
    temps = temps or {}
    faults = faults or {}
    grain = [{"ts": ts(at), "granary": "P01", "cable": c,
              "temps_c": temps.get(c, [15.0, 15.2, 15.4, 15.6]), "faults": faults.get(c, [])}
             for c, _, _ in GRID]
    air = [{"ts": ts(at), "granary": "P01", "place": "indoor", "temp_c": indoor[0], "rh_pct": indoor[1]},
           {"ts": ts(at), "granary": None, "place": "outdoor", "temp_c": outdoor[0], "rh_pct": outdoor[1]}]
    return {"schema": "grainlink.telemetry/1", "depot": depot, "batch": batch,
            "sent_at": ts(now_utc()), "grain": grain, "air": air}


def alarms_of(url, depot):
    with connect(url) as conn:
        return conn.execute("SELECT rule, subject, severity, state FROM alarms WHERE depot = %s "
                            "ORDER BY rule, subject", (depot,)).fetchall()


def wait_alarms(url, depot, pred, timeout=15.0):
    deadline = time.monotonic() + timeout
    rows = []
    while time.monotonic() < deadline:
        rows = alarms_of(url, depot)
        if pred(rows):
            return rows
        time.sleep(0.1)
    return rows


def registered(url, depot, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connect(url) as conn:
            if conn.execute("SELECT count(*) FROM cables WHERE depot = %s", (depot,)).fetchone()[0] == 9:
                return True
        time.sleep(0.05)
    return False


def batches(url, depot):
    with connect(url) as conn:
        return conn.execute("SELECT count(*) FROM batches WHERE depot = %s", (depot,)).fetchone()[0]


def test_hotspot_fault_condensation_and_clear(database_url, worker, pub):
    depot = unique_depot("ALI")
    pub.publish(f"grainlink/v1/{depot}/layout", grid_layout(depot), retain=True)
    pub.flush()
    assert registered(database_url, depot)
    with connect(database_url, autocommit=True) as conn:
        thresholds_store.set_overrides(conn, depot, "", {"clear_hysteresis_min": 0}, "test")
    t0 = now_utc() - timedelta(hours=3)

    # a hot spot at cable 5 layer 2: hotspot on that point and nothing else
    hot = {5: [15.0, 21.0, 15.4, 15.6]}
    pub.publish(f"grainlink/v1/{depot}/telemetry", scan(depot, 1, t0, temps=hot))
    pub.flush()
    rows = wait_alarms(database_url, depot, lambda r: len(r) > 0)
    assert rows == [("hotspot", "P01/C5/L2", "alarm", "active")]

    # the same again: no duplicate; then a fault sentinel on cable 2 layer 3
    pub.publish(f"grainlink/v1/{depot}/telemetry", scan(
        depot, 2, t0 + timedelta(hours=1), temps={**hot, 2: [15.0, 15.2, None, 15.6]},
        faults={2: [3]}))
    pub.flush()
    rows = wait_alarms(database_url, depot, lambda r: any(x[0] == "sensor_fault" for x in r))
    assert rows == [("hotspot", "P01/C5/L2", "alarm", "active"),
                    ("sensor_fault", "P01/C2/L3", "warning", "active")]

    # cooled down and repaired; the indoor air's dew point reaches the top layer: condensation
    pub.publish(f"grainlink/v1/{depot}/telemetry", scan(
        depot, 3, t0 + timedelta(hours=2), indoor=(20.0, 80.0)))  # dew point 16.4 °C > 15.0
    pub.flush()
    rows = wait_alarms(database_url, depot, lambda r: any(x[0] == "condensation_risk" for x in r))
    assert rows == [("condensation_risk", "P01", "alarm", "active"),
                    ("hotspot", "P01/C5/L2", "alarm", "cleared"),
                    ("sensor_fault", "P01/C2/L3", "warning", "cleared")]
    assert batches(database_url, depot) == 3


def test_cable_gone_raises_sensor_fault_on_the_cable(database_url, worker, pub):
    depot = unique_depot("ALG")
    pub.publish(f"grainlink/v1/{depot}/layout", grid_layout(depot), retain=True)
    pub.flush()
    assert registered(database_url, depot)
    body = scan(depot, 1, now_utc() - timedelta(minutes=5))
    body["grain"] = [g for g in body["grain"] if g["cable"] != 7]
    pub.publish(f"grainlink/v1/{depot}/telemetry", body)
    pub.flush()
    rows = wait_alarms(database_url, depot, lambda r: len(r) > 0)
    assert rows == [("sensor_fault", "P01/C7", "warning", "active")]


def test_last_will_raises_depot_offline(database_url, worker, broker, pub):
    depot = unique_depot("ALW")
    u = urlparse(broker.url)
    edge = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"edge-{uuid.uuid4().hex[:8]}",
                       protocol=mqtt.MQTTv311)
    edge.will_set(f"grainlink/v1/{depot}/status", json.dumps(status(depot, "offline")), qos=1,
                  retain=True)
    edge.connect(u.hostname, u.port, keepalive=5)
    edge.loop_start()
    edge.publish(f"grainlink/v1/{depot}/status", json.dumps(status(depot, "online")), qos=1,
                 retain=True).wait_for_publish(5)
    time.sleep(0.5)
    assert alarms_of(database_url, depot) == []
    # the edge dies without a DISCONNECT: the broker publishes its will
    edge.loop_stop()
    edge.socket().close()
    rows = wait_alarms(database_url, depot, lambda r: len(r) > 0)
    assert rows == [("depot_offline", "@depot", "alarm", "active")]
    # clean up the retained messages of this depot
    pub.publish(f"grainlink/v1/{depot}/status", b"", retain=True)
