"""Backlog drain: a week of a 20-granary depot buffered while the broker is down, then drained.

    .venv/bin/python bench/edge_backlog_drain.py [--granaries 20 --days 7 --max-inflight 20]

The outbox is filled the way the agent fills it (one committed add_telemetry per granary
scan, hourly, 78 cables x 4 layers + indoor air, history recorded) while the uplink keeps
failing to reach a private mosquitto that is not running. Then the broker starts and the
clock runs until the outbox is empty (every message PUBACKed) and a plain subscriber has
received every batch. Goal: the backlog (~1 million readings) empties in <= 5 minutes.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import paho.mqtt.client as mqtt  # noqa: E402

from edge.mqtt_settings import BrokerSettings  # noqa: E402
from edge.outbox import Outbox  # noqa: E402
from edge.outbox_limits import OutboxLimits, count_readings  # noqa: E402
from edge.uplink import Uplink  # noqa: E402
from tests.edge.scan_samples import T0, granary_scan  # noqa: E402
from tests.support.services import start_private_mosquitto  # noqa: E402

GOAL_MINUTES = 5.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self):
        return self.now


class Receiver:
    """A plain subscriber counting distinct batches and readings (persistent session)."""

    def __init__(self, host: str, port: int, depot: str) -> None:
        self.batches: set[int] = set()
        self.readings = 0
        self.lock = threading.Lock()
        self.ready = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                                  client_id=f"bench-receiver-{depot}", clean_session=False)
        self.topic = f"grainlink/v1/{depot}/telemetry"
        self.client.on_connect = lambda c, *a: c.subscribe(self.topic, qos=1)
        self.client.on_subscribe = lambda *a: self.ready.set()
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(0.1, 1.0)
        self.client.connect(host, port)
        self.client.loop_start()
        self.ready.wait(10)

    def _on_message(self, client, userdata, message) -> None:
        data = json.loads(message.payload)
        with self.lock:
            if data["batch"] not in self.batches:
                self.batches.add(data["batch"])
                self.readings += sum(len(g["temps_c"]) for g in data["grain"]) + len(data["air"])

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--granaries", type=int, default=20)
    p.add_argument("--days", type=float, default=7)
    p.add_argument("--cables", type=int, default=78)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--max-inflight", type=int, default=20)
    args = p.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="grainlink-drain-"))
    # mosquitto drops to its own user when started as root: let it write its persistence
    # file, or the receiver's session (and the backlog queued for it) dies with the restart.
    (work / "mosquitto").mkdir()
    for d in (work, work / "mosquitto"):
        d.chmod(0o777)
    depot = "BENCH-DRAIN"
    clock = Clock()
    outbox = Outbox(work / "edge.sqlite", depot, OutboxLimits(), clock=clock)
    broker = start_private_mosquitto(work / "mosquitto")
    receiver = Receiver(broker.host, broker.port, depot)  # its session waits for the backlog
    broker.stop()
    settings = BrokerSettings.from_url(broker.url, max_inflight=args.max_inflight,
                                       reconnect_min_s=0.5, reconnect_max_s=2.0)
    uplink = Uplink(settings, depot, outbox)
    uplink.start()
    try:
        hours = int(args.days * 24)
        total_readings = 0
        t_fill = time.perf_counter()
        for hour in range(hours):
            clock.now = T0 + timedelta(hours=hour)
            for g in range(1, args.granaries + 1):
                grain, air = granary_scan(f"P{g:02d}", clock.now, args.cables, args.layers)
                outbox.add_telemetry(grain, air)
                total_readings += count_readings(grain, air)
        fill_s = time.perf_counter() - t_fill
        clock.now = T0 + timedelta(hours=hours)
        stats = outbox.stats()
        size_mb = (work / "edge.sqlite").stat().st_size / 1e6
        print(f"buffered: {stats.pending} messages, {total_readings} readings, "
              f"{args.granaries} granaries x {hours} hourly scans; fill {fill_s:.1f} s "
              f"({total_readings / fill_s:,.0f} readings/s committed); database {size_mb:.0f} MB")

        broker.start()
        t0 = time.perf_counter()
        while outbox.stats().pending:
            time.sleep(0.05)
        acked_s = time.perf_counter() - t0
        deadline = time.monotonic() + 120
        while len(receiver.batches) < stats.pending and time.monotonic() < deadline:
            time.sleep(0.05)
        received_s = time.perf_counter() - t0
    finally:
        uplink.stop()
        receiver.close()
        broker.stop()
        outbox.close()
        shutil.rmtree(work, ignore_errors=True)

    missing = stats.pending - len(receiver.batches)
    minutes = acked_s / 60
    print(f"drained: all {stats.pending} messages PUBACKed in {acked_s:.1f} s "
          f"= {minutes:.2f} min, {total_readings / acked_s:,.0f} readings/s "
          f"(max in flight {args.max_inflight})")
    print(f"received: {len(receiver.batches)} distinct batches, {receiver.readings} readings "
          f"at the subscriber after {received_s:.1f} s; missing {missing}")
    verdict = "MET" if minutes <= GOAL_MINUTES and missing == 0 else "MISSED"
    print(f"goal <= {GOAL_MINUTES:g} min to empty: {verdict}")
    return 0 if verdict == "MET" else 1


if __name__ == "__main__":
    sys.exit(main())
