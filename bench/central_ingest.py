"""Benchmark: end-to-end ingest (mosquitto -> worker -> PostgreSQL) vs a raw COPY.

Telemetry for many depots (one message per granary scan round, 78 cables x 4 layers by
default) is published to a private mosquitto by a separate process; we time from the first
publish until every reading is committed, as readings/s, and compare with a raw psycopg COPY
of the same rows into the same table in the same run (goal: ratio >= 0.5).

    .venv/bin/python bench/central_ingest.py [--depots 100] [--granaries 10] [--workers 1]
                                             [--with-hooks]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from central.db.migrate import migrate  # noqa: E402
from central.ingest.prepare import GRAIN_COLUMNS, telemetry_rows  # noqa: E402
from central.ingest.runtime import tune_interpreter  # noqa: E402
from central.metrics import INGEST_DB_ERRORS  # noqa: E402
from central.settings import Settings  # noqa: E402
from central.wiring import ingest_worker  # noqa: E402
from protocols.mqtt.models import Telemetry  # noqa: E402
from tests.support import services  # noqa: E402


def ts(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def make_messages(prefix: str, depots: int, granaries: int, cables: int, layers: int,
                  rounds: int) -> list[tuple[str, bytes]]:
    base = datetime(2026, 11, 1, tzinfo=UTC)
    out = []
    for d in range(depots):
        depot = f"{prefix}-{d:04d}"
        batch = 0
        for r in range(rounds):
            at = base + timedelta(hours=r)
            for g in range(granaries):
                batch += 1
                grain = [{"ts": ts(at), "granary": f"P{g + 1:02d}", "cable": c,
                          "temps_c": [round(12 + ((d + g + c + k) % 50) / 10, 2)
                                      for k in range(layers)], "faults": []}
                         for c in range(1, cables + 1)]
                body = {"schema": "grainlink.telemetry/1", "depot": depot, "batch": batch,
                        "sent_at": ts(at + timedelta(seconds=7)), "grain": grain, "air": []}
                out.append((f"grainlink/v1/{depot}/telemetry", json.dumps(body).encode()))
    return out


def publish(url: str, messages: list[tuple[str, bytes]], started) -> None:
    import paho.mqtt.client as mqtt

    host, port = url.removeprefix("mqtt://").split(":")
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-{uuid.uuid4().hex[:6]}")
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect(host, int(port))
    client.loop_start()
    started.set()
    infos = [client.publish(t, p, qos=1) for t, p in messages]
    for info in infos:
        info.wait_for_publish(120)
    client.disconnect()
    client.loop_stop()


def raw_copy(url: str, messages: list[tuple[str, bytes]], prefix: str) -> tuple[int, float]:
    """COPY the same readings (depot renamed) straight into grain_readings."""
    now = datetime.now(UTC)
    rows = []
    for _, payload in messages:
        msg = Telemetry.model_validate_json(payload)
        grain, _ = telemetry_rows(msg, now)
        rows += [(prefix + r[0],) + r[1:] for r in grain]
    cols = ", ".join(GRAIN_COLUMNS)
    with psycopg.connect(url) as conn:
        t0 = time.perf_counter()
        with conn.cursor() as cur, cur.copy(f"COPY grain_readings ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        conn.commit()
        return len(rows), time.perf_counter() - t0


def start_broker(workdir: Path) -> services.Broker:
    return services.start_private_mosquitto(workdir, persistence=False, max_inflight=1000)


def ingest(url: str, broker: services.Broker, args, messages: list[tuple[str, bytes]],
           prefix: str, hooks: bool) -> float:
    """Seconds from the first publish until every reading of `messages` is committed."""
    expected = len(messages) * args.cables * args.layers
    workers = [ingest_worker(Settings(
        database_url=url, mqtt_url=broker.url, ingest_shared_subscription=args.workers > 1,
        mqtt_client_id=f"bench-ingest-{i}-{prefix}", ingest_batch_rows=args.batch_rows,
        ingest_batch_messages=args.batch_messages, ingest_hooks=hooks, auto_provision=True))
        for i in range(args.workers)]
    for w in workers:
        w.start()
        w.ready.wait(10)
    started = multiprocessing.Event()
    proc = multiprocessing.Process(target=publish, args=(broker.url, messages, started))
    proc.start()
    started.wait(10)
    t0 = time.perf_counter()
    while sum(w.totals.grain_rows for w in workers) < expected:
        if time.perf_counter() - t0 > args.timeout:
            raise SystemExit("timeout: not every reading arrived")
        time.sleep(0.01)
    elapsed = time.perf_counter() - t0
    proc.join()
    for w in workers:
        w.stop()
    with psycopg.connect(url) as conn:
        stored = conn.execute("SELECT count(*) FROM grain_readings WHERE depot LIKE %s",
                              (prefix + "-%",)).fetchone()[0]
    assert stored == expected, (stored, expected)
    return elapsed


def run(args) -> float:
    server = args.database_url or services.shared_database_server_url()
    workdir = Path(tempfile.mkdtemp(prefix="grainlink-bench-"))
    broker = start_broker(workdir)
    modes = [False, True] if args.with_hooks else [False]
    elapsed: dict[bool, float] = {}
    try:
        with services.scratch_database(server, prefix="grainlink_ingestbench") as url:
            migrate(url)
            for hooks in modes:
                # new depots for each mode: the same readings, none of them stored yet
                prefix = uuid.uuid4().hex[:6]
                messages = make_messages(prefix, args.depots, args.granaries, args.cables,
                                         args.layers, args.rounds)
                if hooks is False:
                    n1, copy1 = raw_copy(url, messages, "RAW1-")
                elapsed[hooks] = ingest(url, broker, args, messages, prefix, hooks)
            n2, copy2 = raw_copy(url, messages, "RAW2-")
    finally:
        broker.stop()
    expected = len(messages) * args.cables * args.layers
    assert expected == n1 == n2, (expected, n1, n2)
    copy_rate = expected / ((copy1 + copy2) / 2)
    rates = {hooks: expected / s for hooks, s in elapsed.items()}
    print(f"messages: {len(messages)}  readings: {expected}  workers: {args.workers}")
    print(f"raw COPY:   {copy_rate:12,.0f} readings/s  ({copy1:.2f}s, {copy2:.2f}s)")
    for hooks, rate in rates.items():
        print(f"end to end, rules {'on ' if hooks else 'off'}: {rate:12,.0f} readings/s  "
              f"({elapsed[hooks]:.2f}s)  ratio to COPY {rate / copy_rate:.2f}")
    ratio = rates[False] / copy_rate
    print(f"ratio: {ratio:.2f}  (goal >= 0.5)")
    if args.with_hooks:
        print(f"rules on/off: {rates[True] / rates[False]:.2f}  (goal >= 0.8)")
    print(f"database errors/conflicts retried: {INGEST_DB_ERRORS.value():.0f}")
    load = os.getloadavg()[0]
    print(f"load average {load:.1f} on {os.cpu_count()} cores"
          + ("  (busy machine: end to end needs 4 processes, the raw COPY 2)"
             if load > (os.cpu_count() or 1) else ""))
    return ratio


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--depots", type=int, default=100)
    p.add_argument("--granaries", type=int, default=10)
    p.add_argument("--cables", type=int, default=78)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--batch-rows", type=int, default=100_000)
    p.add_argument("--batch-messages", type=int, default=500)
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--with-hooks", action="store_true",
                   help="then the same readings again with the ingest hooks (the alarm rules) "
                        "on: the on/off ratio")
    p.add_argument("--database-url", help="PostgreSQL server (a scratch database is made)")
    tune_interpreter()  # as `grainlink central ingest` does: the figures are ingest's
    args = p.parse_args(argv)
    run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
