"""Backlog drain: days of a 20-granary depot buffered while the broker is down, then drained.

    .venv/bin/python bench/edge_backlog_drain.py [--granaries 20 --days 30 --max-inflight 20]

The outbox is filled the way the agent fills it (add_telemetry per granary scan, hourly,
78 cables x 4 layers + indoor air, history recorded and pruned to `history_days` by the
hourly housekeeping; the scans of one hour share a commit to keep the fill short) while the
uplink keeps failing to reach a private mosquitto that is not running. Then the broker starts
and the clock runs until the outbox is empty (every message PUBACKed) and a plain subscriber
has received every batch. The database's size on disk (file + WAL) is sampled throughout.
Goals: 30 days (4.5 M readings) empty in <= 60 s; the file never exceeds the bound the
`buffer:` settings give it (buffer.max_rows full messages plus the history kept).
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

from edge.outbox.limits import count_readings  # noqa: E402
from edge.outbox.outbox import Outbox  # noqa: E402
from edge.uplink.broker import BrokerSettings  # noqa: E402
from edge.uplink.uplink import Uplink  # noqa: E402
from protocols.depot.model import Buffer  # noqa: E402
from protocols.mqtt.codec import encode_message  # noqa: E402
from protocols.mqtt.models import Telemetry  # noqa: E402
from tests.edge.scan_samples import T0, granary_scan  # noqa: E402
from tests.support.services import start_private_mosquitto  # noqa: E402

GOAL_S = 60.0


class DiskWatch:
    """Samples the size of the database and its WAL every 50 ms; keeps the peak."""

    def __init__(self, path: Path) -> None:
        self.files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def size(self) -> int:
        return sum(f.stat().st_size for f in self.files if f.exists())

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self.size())

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return max(self.peak, self.size())


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
    p.add_argument("--days", type=float, default=30)
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
    limits = Buffer()
    outbox = Outbox(work / "edge.sqlite", depot, limits, clock=clock)
    disk = DiskWatch(work / "edge.sqlite")
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
            with outbox.transaction():
                for g in range(1, args.granaries + 1):
                    grain, air = granary_scan(f"P{g:02d}", clock.now, args.cables, args.layers)
                    outbox.add_telemetry(grain, air)
                    total_readings += count_readings(grain, air)
            if hour % 24 == 23:  # the agent prunes hourly; daily keeps the fill short
                outbox.housekeep()
        fill_s = time.perf_counter() - t_fill
        fill_peak = disk.peak
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
        peak = disk.stop()
        outbox.close()
        shutil.rmtree(work, ignore_errors=True)

    missing = stats.pending - len(receiver.batches)
    print(f"drained: all {stats.pending} messages PUBACKed in {acked_s:.1f} s, "
          f"{total_readings / acked_s:,.0f} readings/s (max in flight {args.max_inflight})")
    print(f"received: {len(receiver.batches)} distinct batches, {receiver.readings} readings "
          f"at the subscriber after {received_s:.1f} s; missing {missing}")
    bound = disk_bound(limits, stats.pending, args.granaries, args.cables, args.layers)
    print(f"database on disk (file + WAL): peak {fill_peak / 1e6:.0f} MB while filling, "
          f"{peak / 1e6:.0f} MB overall; bound from buffer settings {bound / 1e6:.0f} MB")
    met = acked_s <= GOAL_S and missing == 0 and peak <= bound
    print(f"goal <= {GOAL_S:g} s to empty, within the bound on disk: {'MET' if met else 'MISSED'}")
    return 0 if met else 1


def disk_bound(limits: Buffer, messages: int, granaries: int, cables: int, layers: int) -> int:
    """What the buffer settings let the file hold for this backlog: its messages (at most
    max_rows) plus history_days of hourly scans, with SQLite's page and index overhead (x1.5)
    and the WAL's autocheckpoint size (1000 pages of 4 KiB) on top. A file past it grows
    without bound (a WAL never checkpointed, free pages never reused)."""
    grain, air = granary_scan("P01", T0, cables, layers)
    message = len(encode_message(Telemetry(depot="BENCH-DRAIN", batch=1, sent_at=T0, grain=grain, air=air)))
    history_row = 40 + 7 * layers  # granary, cable, ts, temps as text, faults
    history = int(limits.history_days * 24) * granaries * cables * history_row
    return int((min(limits.max_rows, messages) * message + history) * 1.5) + 1000 * 4096


if __name__ == "__main__":
    sys.exit(main())
