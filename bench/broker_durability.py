"""Broker crash durability: what saving mosquitto's store after every change costs, and what
a SIGKILL loses with each setting, side by side in one run.

    .venv/bin/python bench/broker_durability.py [--messages 2000 --size 8000 --publishers 20]

For each autosave setting a private mosquitto (persistence on) receives `--messages` QoS 1
telemetry-sized messages from one depot, then from `--publishers` depots at once, each keeping
`--inflight` unacknowledged and counting PUBACKs like the edge agent. Two cases: ingest keeping up (an online persistent
subscriber takes every message, the broker's queue stays short) and ingest behind (the
subscriber's session is offline, the queue grows to every message). Then, in the ingest-behind
case, the broker is SIGKILLed right after the last PUBACK and restarted: what the subscriber's
session still receives is what survived. Printed: publish rate per setting and case, the ratio
new/old, and the messages acknowledged but lost.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import paho.mqtt.client as mqtt  # noqa: E402

from tests.support.services import Broker, start_private_mosquitto  # noqa: E402

SETTINGS = {
    "autosave_interval 60 (before)": "autosave_on_changes false\nautosave_interval 60\n",
    "autosave_on_changes, interval 100": "autosave_on_changes true\nautosave_interval 100\n",
    "autosave_on_changes, interval 1 (recommended)": "autosave_on_changes true\nautosave_interval 1\n",
}
TOPIC = "grainlink/v1/+/telemetry"


class Subscriber:
    """The ingest side: a persistent session on the telemetry topic, counting what arrives."""

    def __init__(self, broker: Broker, client_id: str) -> None:
        self.got: set[bytes] = set()
        self.lock = threading.Lock()
        self.ready = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                                  clean_session=False)
        self.client.on_connect = lambda c, *_: c.subscribe(TOPIC, qos=1)
        self.client.on_subscribe = lambda *_: self.ready.set()
        self.client.on_message = self._on_message
        self.broker = broker

    def _on_message(self, _c, _u, msg) -> None:
        with self.lock:
            self.got.add(msg.payload[:12])

    def start(self) -> Subscriber:
        self.client.connect(self.broker.host, self.broker.port)
        self.client.loop_start()
        if not self.ready.wait(10):
            raise RuntimeError("the subscriber was not subscribed")
        return self

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def wait_for(self, count: int, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.got) >= count:
                    break
            time.sleep(0.02)
        with self.lock:
            return len(self.got)


def publish_all(broker: Broker, messages: int, size: int, inflight: int, publishers: int) -> float:
    """Seconds until every message is PUBACKed (the point where the edge deletes it), sent by
    `publishers` depots at once, each keeping `inflight` unacknowledged."""
    acked = threading.Semaphore(0)
    clients = []
    for p in range(publishers):
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-edge-{p}",
                             clean_session=False)
        client.max_inflight_messages_set(inflight)
        client.max_queued_messages_set(0)
        client.on_publish = lambda *_: acked.release()
        client.connect(broker.host, broker.port)
        client.loop_start()
        clients.append(client)
    filler = b"x" * max(0, size - 12)
    t0 = time.perf_counter()
    for i in range(messages):
        clients[i % publishers].publish(TOPIC.replace("+", f"BENCH-{i % publishers}"),
                                        f"{i:012d}".encode() + filler, qos=1)
    for _ in range(messages):
        if not acked.acquire(timeout=300):
            raise RuntimeError("a PUBACK never came")
    elapsed = time.perf_counter() - t0
    for client in clients:
        client.disconnect()
        client.loop_stop()
    return elapsed


def run_setting(extra: str, args, workdir: Path) -> dict:
    out = {}
    for publishers in sorted({1, args.publishers}):
        broker = start_private_mosquitto(workdir / f"keeping-up-{publishers}", extra, max_inflight=1000)
        try:
            sub = Subscriber(broker, "bench-ingest").start()
            took = publish_all(broker, args.messages, args.size, args.inflight, publishers)
            out[("keeping up", publishers)] = args.messages / took
            sub.wait_for(args.messages, 60)
            sub.stop()
        finally:
            broker.stop()
        broker = start_private_mosquitto(workdir / f"behind-{publishers}", extra, max_inflight=1000)
        try:
            sub = Subscriber(broker, "bench-ingest").start()
            sub.stop()  # offline: the broker queues for it
            took = publish_all(broker, args.messages, args.size, args.inflight, publishers)
            out[("behind", publishers)] = args.messages / took
            broker.process.send_signal(signal.SIGKILL)
            broker.process.wait()
            broker.start()
            sub = Subscriber(broker, "bench-ingest").start()
            out[("lost", publishers)] = args.messages - sub.wait_for(args.messages, 15)
            sub.stop()
        finally:
            broker.stop()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--size", type=int, default=8000, help="bytes per message")
    parser.add_argument("--inflight", type=int, default=20, help="the edge's max_inflight")
    parser.add_argument("--publishers", type=int, default=20, help="depots publishing at once")
    args = parser.parse_args(argv)
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-broker-") as tmp:
        for i, (name, extra) in enumerate(SETTINGS.items()):
            results[name] = run_setting(extra, args, Path(tmp, str(i)))
    print(f"{args.messages} QoS 1 messages of {args.size} B, {args.inflight} in flight per depot; "
          "msg/s until the last PUBACK; lost = acknowledged, then gone after a SIGKILL")
    counts = sorted({1, args.publishers})
    head = "".join(f"{f'{case}, {n} depot(s)':>26}" for case in ("keeping up", "behind") for n in counts)
    print(f"{'setting':46}{head}{'lost (1 / ' + str(args.publishers) + ')':>16}")
    for name, r in results.items():
        cells = "".join(f"{r[(case, n)]:26.0f}" for case in ("keeping up", "behind") for n in counts)
        lost = " / ".join(str(r[("lost", n)]) for n in counts)
        print(f"{name:46}{cells}{lost:>16}")
    old, new = results[next(iter(SETTINGS))], results[list(SETTINGS)[-1]]
    ratios = ", ".join(f"{case} {n}: {new[(case, n)] / old[(case, n)]:.2f}"
                       for case in ("keeping up", "behind") for n in counts)
    print(f"recommended / before: {ratios}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
