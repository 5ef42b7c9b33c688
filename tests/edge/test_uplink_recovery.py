"""Prompt recovery: after a long broker outage the outbox starts draining within 10 s of the
broker's return; a broker that answers but refuses (not authorised) is still backed off up to
the long cap."""

from __future__ import annotations

import random
import time
import uuid

from edge.outbox.outbox import Outbox
from edge.uplink.broker import BrokerSettings
from edge.uplink.uplink import UNREACHABLE_MAX_S, Uplink
from tests.edge.scan_samples import T0, granary_scan
from tests.support.services import start_private_mosquitto


def test_delay_is_short_for_a_broker_that_is_down_and_long_for_one_that_refuses(tmp_path):
    settings = BrokerSettings.from_url("mqtt://127.0.0.1:1", reconnect_min_s=1.0, reconnect_max_s=120.0)
    uplink = Uplink(settings, f"T-RC-{uuid.uuid4().hex[:6]}", Outbox(tmp_path / "e.sqlite", "T-RC-1"))
    uplink.rng = random.Random(7)
    down = [uplink.reconnect_delay(n, refused=False) for n in range(1, 40)]
    assert max(down) <= UNREACHABLE_MAX_S <= 8.0 and min(down) >= 1.0
    refused = [uplink.reconnect_delay(n, refused=True) for n in range(1, 40)]
    assert max(refused) > 30.0 and max(refused) <= 120.0


def test_outbox_drains_within_10_s_after_a_long_outage(tmp_path):
    broker = start_private_mosquitto(tmp_path / "mq")
    depot = f"T-RC-{uuid.uuid4().hex[:6]}"
    outbox = Outbox(tmp_path / "e.sqlite", depot)
    # the deployment's defaults: 1 s doubling up to 120 s
    uplink = Uplink(BrokerSettings.from_url(broker.url, reconnect_min_s=1.0, reconnect_max_s=120.0),
                    depot, outbox)
    uplink.start()
    try:
        deadline = time.monotonic() + 15
        while not uplink.connected.is_set():
            assert time.monotonic() < deadline, "never connected"
            time.sleep(0.05)
        broker.stop()
        time.sleep(25)  # long enough for the old backoff to grow past 10 s
        outbox.add_telemetry(*granary_scan("P01", T0))
        broker.start()
        back = time.monotonic()
        while outbox.stats().pending:
            assert time.monotonic() - back <= 10.0, "outbox did not drain within 10 s of the broker's return"
            time.sleep(0.05)
    finally:
        uplink.stop()
        broker.stop()
        outbox.close()


def test_a_broker_that_refuses_is_recognised_and_backed_off_long(tmp_path):
    broker = start_private_mosquitto(tmp_path / "mq", "allow_anonymous false\n", persistence=False)
    depot = f"T-RC-{uuid.uuid4().hex[:6]}"
    outbox = Outbox(tmp_path / "e.sqlite", depot)
    uplink = Uplink(BrokerSettings.from_url(broker.url, reconnect_min_s=0.2, reconnect_max_s=120.0),
                    depot, outbox)
    uplink.start()
    try:
        deadline = time.monotonic() + 10
        while uplink.counters["connect_failures_total"] < 2:
            assert time.monotonic() < deadline, "the broker's refusal was never seen"
            time.sleep(0.05)
        assert uplink._refused and not uplink.connected.is_set()
        # the wait before the next try is no longer held under the short cap
        waits = [uplink.reconnect_delay(12, uplink._refused) for _ in range(50)]
        assert max(waits) > UNREACHABLE_MAX_S
    finally:
        uplink.stop()
        broker.stop()
        outbox.close()
