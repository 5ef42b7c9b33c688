"""The whole agent against the simulators and the real broker: what a plain MQTT subscriber
receives equals what the simulator's model holds."""

from __future__ import annotations

import json
import queue
import time
import urllib.request
import uuid
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
import pytest

from edge.agent import EdgeAgent
from edge.config import load_config
from protocols.mqtt.codec import decode_message
from protocols.mqtt.models import Layout, Status, Telemetry
from simulators.depot import SimulatedDepot
from tests.edge.depot_support import write_depot
from tests.support.services import free_port


class Subscriber:
    def __init__(self, url: str, depot: str):
        u = urlparse(url)
        self.messages: queue.Queue = queue.Queue()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"sub-{uuid.uuid4().hex[:8]}")
        self.client.on_message = lambda c, ud, m: self.messages.put((m.topic, m.payload, m.retain))
        self.client.connect(u.hostname, u.port or 1883)
        self.client.subscribe(f"grainlink/v1/{depot}/#", qos=1)
        self.client.loop_start()

    def publish(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(5)

    def collect(self, until, timeout: float = 30.0) -> list:
        got = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                topic, payload, retain = self.messages.get(timeout=0.2)
            except queue.Empty:
                continue
            got.append((topic, decode_message(topic, payload), retain))
            if until(got):
                return got
        raise AssertionError(f"timed out; got {[t for t, _, _ in got]}")

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def running(tmp_path, mqtt_url):
    path = write_depot(tmp_path, mqtt_url=mqtt_url, metrics_port=free_port(), air_interval="1h")
    cfg = load_config(path, environ={})
    sim = SimulatedDepot(cfg.depot, config_source=str(path))
    sim.start()
    sub = Subscriber(mqtt_url, cfg.code)
    agent = EdgeAgent(cfg)
    yield agent, sim, sub, cfg
    agent.stop()
    sub.close()
    sim.stop()
    # leave no retained messages of this test depot behind
    for kind in ("status", "layout"):
        sub.client.reconnect()
        sub.publish(f"grainlink/v1/{cfg.code}/{kind}", b"")


def grain_of(messages) -> dict[tuple[str, int], list]:
    out = {}
    for _, msg, _ in messages:
        if isinstance(msg, Telemetry):
            for g in msg.grain:
                out[(g.granary, g.cable)] = g.temps_c
    return out


def air_of(messages) -> set[tuple[str, str | None]]:
    return {(a.place, a.granary) for _, m, _ in messages if isinstance(m, Telemetry) for a in m.air}


def test_subscriber_receives_what_the_model_holds(running):
    agent, sim, sub, cfg = running
    expected = {(code, cable): temps for code in ("P01", "P02", "P03")
                for cable, temps in sim.expected_grain(code).items()}
    air_places = {("indoor", "P01"), ("indoor", "P02"), ("indoor", "P03"), ("outdoor", None)}
    agent.start()
    # the air is read on its own schedule: wait for it too (on a loaded machine it can come
    # in a later batch than the grain)
    messages = sub.collect(lambda got: expected.keys() <= grain_of(got).keys()
                           and any(isinstance(m, Layout) for _, m, _ in got)
                           and air_places <= air_of(got))
    received = grain_of(messages)
    for key, temps in expected.items():
        assert len(received[key]) == len(temps)
        for a, b in zip(received[key], temps, strict=True):
            assert (a is None and b is None) or abs(a - b) < 0.051, (key, received[key], temps)
    assert air_of(messages) >= air_places
    layout = next(m for _, m, _ in messages if isinstance(m, Layout))
    assert [g.granary for g in layout.granaries] == ["P01", "P02", "P03"]
    batches = sorted(m.batch for _, m, _ in messages if isinstance(m, Telemetry))
    assert batches == list(range(batches[0], batches[0] + len(batches)))

    # status heartbeat (retained, online) names the buses
    status = sub.collect(lambda got: any(isinstance(m, Status) for _, m, _ in got), timeout=10)
    s = next(m for _, m, _ in status if isinstance(m, Status))
    assert s.state == "online" and {b.bus for b in s.buses} == {"tcp-1", "rs485-1"}

    # the local status port and metrics
    port = cfg.depot.agent.metrics_port
    data = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=5).read())
    assert {g["granary"] for g in data["granaries"] if g["last_scan"]} == {"P01", "P02", "P03"}
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    assert 'grainlink_edge_scans_total{granary="P01"} 10' in text
    assert "grainlink_edge_outbox_pending" in text


def test_scan_now_command_is_answered(running):
    agent, sim, sub, cfg = running
    agent.start()
    sub.collect(lambda got: any(isinstance(m, Layout) for _, m, _ in got))
    command_id = str(uuid.uuid4())
    sub.publish(f"grainlink/v1/{cfg.code}/cmd", json.dumps({
        "schema": "grainlink.cmd/1", "depot": cfg.code, "id": command_id, "action": "scan_now",
        "granary": "P03", "issued_at": "2026-11-22T08:00:00Z"}).encode())
    got = sub.collect(lambda got: any(t.endswith("cmd/result") for t, _, _ in got))
    result = next(m for t, m, _ in got if t.endswith("cmd/result"))
    assert result.id == command_id and result.ok, result.detail
    assert "已扫描 1 个分机" in result.detail
