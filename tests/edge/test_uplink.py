"""The uplink against a real mosquitto: delivery, retained status/layout, will, outages,
commands once per id."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from urllib.parse import urlparse

import paho.mqtt.publish as publish
import pytest

from edge.outbox.outbox import Outbox
from edge.uplink.broker import BrokerSettings
from edge.uplink.uplink import Uplink
from protocols.mqtt.codec import decode_message, encode_message
from protocols.mqtt.models import Command, Layout, Region
from tests.edge.mqtt_collector import Collector
from tests.edge.scan_samples import T0, granary_scan
from tests.edge.waits import wait_empty


def depot_code() -> str:
    return f"T-UP-{uuid.uuid4().hex[:8]}"


def settings(url: str, **kw) -> BrokerSettings:
    return BrokerSettings.from_url(url, reconnect_min_s=0.1, reconnect_max_s=0.5, **kw)


def layout_for(depot: str) -> Layout:
    return Layout(depot=depot, name="测试库", generated_at=datetime.now(UTC),
                  region=Region(province="430000", city="430100", county="430102"),
                  granaries=[], cameras=[])


def batches(payloads: list[bytes]) -> list[int]:
    return [json.loads(p)["batch"] for p in payloads]


@pytest.fixture
def depot():
    return depot_code()


def test_telemetry_status_layout_and_clean_stop(tmp_path, mqtt_url, depot):
    collector = Collector(mqtt_url, f"grainlink/v1/{depot}/#")
    outbox = Outbox(tmp_path / "e.sqlite", depot)
    for g in range(1, 4):
        outbox.add_telemetry(*granary_scan(f"P0{g}", T0))
    uplink = Uplink(settings(mqtt_url), depot, outbox, layout_fn=lambda: layout_for(depot))
    uplink.start()
    try:
        assert collector.wait_for(lambda: len(collector.on("telemetry")) == 3)
        assert batches(collector.on("telemetry")) == [1, 2, 3]
        assert wait_empty(outbox, 5)
        assert collector.wait_for(lambda: collector.on("layout") and collector.on("status"))
        status = decode_message(f"grainlink/v1/{depot}/status", collector.on("status")[0])
        assert status.state == "online"
        uplink.kick()
        outbox.add_telemetry(*granary_scan("P04", T0))
        uplink.kick()
        assert collector.wait_for(lambda: batches(collector.on("telemetry")) == [1, 2, 3, 4])
    finally:
        uplink.stop()
        collector.close()
    # Retained: a newcomer sees the offline status (clean stop) and the layout.
    late = Collector(mqtt_url, f"grainlink/v1/{depot}/+")
    try:
        assert late.wait_for(lambda: late.on("status") and late.on("layout"), 5)
        assert json.loads(late.on("status")[-1])["state"] == "offline"
        assert all(r for _, _, r in late.messages)
    finally:
        late.close()
        clear_retained(mqtt_url, depot)


def clear_retained(url: str, depot: str) -> None:
    u = urlparse(url)
    for kind in ("status", "layout"):
        publish.single(f"grainlink/v1/{depot}/{kind}", b"", retain=True,
                       hostname=u.hostname, port=u.port)


def test_last_will_says_offline_when_the_agent_dies(tmp_path, mqtt_url, depot):
    """A publisher killed with SIGKILL: the broker publishes its retained offline will."""
    collector = Collector(mqtt_url, f"grainlink/v1/{depot}/status")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.edge.outbox_publisher", "--url", mqtt_url,
         "--depot", depot, "--db", str(tmp_path / "e.sqlite"), "--scans", "1",
         "--keepalive", "5"],
        cwd=os.getcwd(), stdout=subprocess.PIPE, text=True,
    )
    try:
        assert collector.wait_for(lambda: any(
            json.loads(p)["state"] == "online" for p in collector.on("status")))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        # The broker notices after 1.5 x keepalive.
        assert collector.wait_for(lambda: json.loads(collector.on("status")[-1])["state"]
                                  == "offline", 15)
    finally:
        proc.kill()
        collector.close()
        clear_retained(mqtt_url, depot)


def make_persistence_work(broker) -> None:
    """mosquitto started as root drops to the `mosquitto` user, which cannot write its
    persistence file into pytest's private tmp dir, so sessions would vanish on restart.
    Restart it as root (tests/support/services.py should do this itself)."""
    if os.geteuid() == 0 and "user root" not in broker.config_path.read_text():
        broker.stop()
        broker.config_path.write_text(broker.config_path.read_text() + "user root\n")
        broker.start()


def test_broker_outage_every_batch_arrives_contiguous(tmp_path, private_broker, depot):
    make_persistence_work(private_broker)
    url = private_broker.url
    collector = Collector(url, f"grainlink/v1/{depot}/telemetry")
    outbox = Outbox(tmp_path / "e.sqlite", depot)
    uplink = Uplink(settings(url, max_inflight=5), depot, outbox)
    uplink.start()
    try:
        for i in range(5):
            outbox.add_telemetry(*granary_scan("P01", T0.replace(hour=i)))
            uplink.kick()
        assert collector.wait_for(lambda: len(set(batches(collector.on("telemetry")))) == 5)
        private_broker.stop()
        # Buffered while the broker is down; some are handed to paho and kept in flight.
        for i in range(5, 40):
            outbox.add_telemetry(*granary_scan(f"P{i:02d}", T0))
            uplink.kick()
            time.sleep(0.02)
        assert outbox.stats().pending >= 35
        time.sleep(1.0)
        private_broker.start()
        assert wait_empty(outbox, 30), outbox.stats()
        assert collector.wait_for(lambda: set(batches(collector.on("telemetry")))
                                  == set(range(1, 41)), 30), str(sorted(batches(collector.on("telemetry"))))
        assert uplink.counters["connects_total"] >= 2
    finally:
        uplink.stop()
        collector.close()
    got = batches(collector.on("telemetry"))
    assert sorted(set(got)) == list(range(1, 41))
    # Redeliveries are exact repeats.
    by_batch: dict[int, set[bytes]] = {}
    for p in collector.on("telemetry"):
        by_batch.setdefault(json.loads(p)["batch"], set()).add(p)
    assert all(len(v) == 1 for v in by_batch.values())


def command(depot: str, action: str = "scan_now", granary: str | None = "P01", cid=None):
    return Command(depot=depot, id=cid or str(uuid.uuid4()), action=action, granary=granary,
                   issued_at=datetime.now(UTC))


def test_commands_run_once_per_id_and_are_answered(tmp_path, mqtt_url, depot):
    u = urlparse(mqtt_url)
    calls: list[tuple[str, str | None]] = []

    def on_command(cmd: Command) -> str:
        if cmd.granary == "P99":
            raise ValueError("unknown granary P99")
        calls.append((cmd.action, cmd.granary))
        return f"{cmd.action} started"

    collector = Collector(mqtt_url, f"grainlink/v1/{depot}/cmd/result")
    db = tmp_path / "e.sqlite"
    outbox = Outbox(db, depot)
    uplink = Uplink(settings(mqtt_url), depot, outbox, on_command)
    uplink.start()
    cmd_topic = f"grainlink/v1/{depot}/cmd"

    def send(payload: bytes) -> None:
        publish.single(cmd_topic, payload, qos=1, hostname=u.hostname, port=u.port)

    try:
        assert uplink.connected.wait(10)
        time.sleep(0.2)  # subscription in place
        first = command(depot)
        send(encode_message(first))
        send(encode_message(first))  # the same id again
        send(encode_message(command(depot, granary="P99")))
        send(b'{"schema": "grainlink.cmd/1", "depot": "%s", "id": "%s", "action": "reboot",'
             b' "granary": null, "issued_at": "2026-11-22T08:00:00Z"}'
             % (depot.encode(), str(uuid.uuid4()).encode()))
        assert collector.wait_for(lambda: len(collector.on("result")) >= 4, 15)
        results = [json.loads(p) for p in collector.on("result")]
        mine = [r for r in results if r["id"] == first.id]
        assert len(mine) == 2 and all(r["ok"] for r in mine)
        assert mine[0]["detail"] == mine[1]["detail"] == "scan_now started"
        failures = [r for r in results if not r["ok"]]
        assert any("unknown granary P99" in r["detail"] for r in failures)
        assert any("action" in r["detail"] for r in failures)
    finally:
        uplink.stop()
    assert calls == [("scan_now", "P01")]
    # After a restart the id is still remembered: answered, not run again.
    outbox2 = Outbox(db, depot)
    uplink2 = Uplink(settings(mqtt_url), depot, outbox2, on_command)
    uplink2.start()
    try:
        assert uplink2.connected.wait(10)
        time.sleep(0.2)
        send(encode_message(first))
        assert collector.wait_for(
            lambda: sum(json.loads(p)["id"] == first.id for p in collector.on("result")) == 3, 15)
    finally:
        uplink2.stop()
        collector.close()
    assert calls == [("scan_now", "P01")]


def test_mqtt5_session_also_works(tmp_path, mqtt_url, depot):
    collector = Collector(mqtt_url, f"grainlink/v1/{depot}/telemetry")
    outbox = Outbox(tmp_path / "e.sqlite", depot)
    outbox.add_telemetry(*granary_scan("P01", T0))
    uplink = Uplink(settings(mqtt_url, protocol="5"), depot, outbox)
    uplink.start()
    try:
        assert wait_empty(outbox, 10)
        assert collector.wait_for(lambda: batches(collector.on("telemetry")) == [1])
    finally:
        uplink.stop()
        collector.close()
        clear_retained(mqtt_url, depot)
