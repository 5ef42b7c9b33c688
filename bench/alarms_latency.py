"""Benchmark: alarm rules inside ingest.

1. Throughput: one scan round of many depots (quiet grain with a few hot spots) through
   mosquitto -> ingest worker -> PostgreSQL, with the alarm hooks off and on alternating
   over successive rounds of the same depots; the ratio of readings/s on/off (goal >= 0.8).
   The first round, when the layouts are not yet in memory, is shown apart.
2. Latency: while many depots publish a steady background load, hot spots are injected one
   at a time (each in another depot); a poller asks the real HTTP API
   (`GET /api/v1/alarms?rule=hotspot`) every 50 ms; latency = publish -> first seen in the
   API. p50/p95/max (goal p95 <= 2 s).

    .venv/bin/python bench/alarms_latency.py [--depots 1000] [--granaries 2] [--rate 40]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from central.db.migrate import migrate  # noqa: E402
from central.ingest.runtime import tune_interpreter  # noqa: E402
from central.settings import Settings  # noqa: E402
from central.users import add_user  # noqa: E402
from central.wiring import ingest_worker  # noqa: E402
from tests.support import services  # noqa: E402

REGION = {"province": "430000", "city": "430100", "county": "430102"}


def ts(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def layout(depot: str, granaries: int, cables: int, layers: int) -> bytes:
    side = max(1, int(cables ** 0.5))
    return json.dumps({
        "schema": "grainlink.layout/1", "depot": depot, "name": depot, "region": REGION,
        "generated_at": ts(datetime(2026, 11, 1, tzinfo=UTC)),
        "granaries": [{
            "granary": f"P{g + 1:02d}", "name": f"{g + 1}", "type": "flat", "length_m": 60,
            "width_m": 24, "grain_height_m": 6, "capacity_t": 5000, "grain": "wheat",
            "storage_mode": "quasi_low", "layer_depths_m": [0.3 + 1.8 * k for k in range(layers)],
            "cameras": [],
            "cables": [{"cable": c, "row": (c - 1) // side + 1, "col": (c - 1) % side + 1,
                        "x_m": 1.0, "y_m": 1.0, "layers": layers} for c in range(1, cables + 1)]}
            for g in range(granaries)],
        "cameras": []}).encode()


def telemetry(depot: str, batch: int, granary: str, at: datetime, cables: int, layers: int,
              rng: random.Random, hot: tuple[int, int] | None = None) -> bytes:
    grain = []
    for c in range(1, cables + 1):
        temps = [round(15.0 + 0.3 * k + rng.uniform(-0.3, 0.3), 2) for k in range(layers)]
        if hot and hot[0] == c:
            temps[hot[1] - 1] += 6.0
        grain.append({"ts": ts(at), "granary": granary, "cable": c, "temps_c": temps, "faults": []})
    air = [{"ts": ts(at), "granary": granary, "place": "indoor", "temp_c": 17.0, "rh_pct": 60.0},
           {"ts": ts(at), "granary": None, "place": "outdoor", "temp_c": 11.0, "rh_pct": 70.0}]
    return json.dumps({"schema": "grainlink.telemetry/1", "depot": depot, "batch": batch,
                       "sent_at": ts(at), "grain": grain, "air": air}).encode()


def round_messages(prefix: str, depots: int, granaries: int, cables: int, layers: int,
                   rounds: int, hot_share: float = 0.01, seed: int = 1,
                   first_round: int = 0) -> list[tuple[str, bytes]]:
    """`rounds` hourly scan rounds of every granary of every depot, from round `first_round`
    (later rounds: later scans, new batch numbers); about `hot_share` of the messages carry
    a hot spot (realistic: most grain is quiet)."""
    rng = random.Random(seed + first_round)
    base = datetime(2026, 11, 2, tzinfo=UTC)
    out = []
    for r in range(first_round, first_round + rounds):
        for d in range(depots):
            depot = f"{prefix}-{d:04d}"
            for g in range(granaries):
                hot = (rng.randint(1, cables), 2) if rng.random() < hot_share else None
                out.append((f"grainlink/v1/{depot}/telemetry", telemetry(
                    depot, r * granaries + g + 1, f"P{g + 1:02d}", base + timedelta(hours=r),
                    cables, layers, rng, hot)))
    return out


def publish(url: str, messages: list[tuple[str, bytes]], rate: float | None, started) -> None:
    """Publish (QoS 1) at `rate` messages/s, or as fast as possible."""
    host, port = url.removeprefix("mqtt://").split(":")
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-{uuid.uuid4().hex[:6]}")
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect(host, int(port))
    client.loop_start()
    started.set()
    t0 = time.perf_counter()
    infos = []
    for i, (topic, payload) in enumerate(messages):
        if rate:
            wait = t0 + i / rate - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
        infos.append(client.publish(topic, payload, qos=1))
    for info in infos:
        info.wait_for_publish(300)
    client.disconnect()
    client.loop_stop()


def start_broker(workdir: Path) -> services.Broker:
    return services.start_private_mosquitto(workdir, persistence=False, max_inflight=1000)


def settings(url: str, broker: services.Broker, hooks: bool, tag: str) -> Settings:
    # auto_provision: the simulated depots are not provisioned (central/depots)
    return Settings(database_url=url, mqtt_url=broker.url, ingest_hooks=hooks,
                    mqtt_client_id=f"bench-alarms-{tag}-{uuid.uuid4().hex[:6]}",
                    auto_provision=True)


def register(url: str, broker: services.Broker, prefix: str, depots: int, granaries: int,
             cables: int, layers: int) -> None:
    """Layouts through ingest (so cables, rows/cols and storage mode are registered)."""
    worker = ingest_worker(settings(url, broker, False, "layout"))
    worker.start()
    worker.ready.wait(10)
    msgs = [(f"grainlink/v1/{prefix}-{d:04d}/layout", layout(f"{prefix}-{d:04d}", granaries,
                                                             cables, layers))
            for d in range(depots)]
    started = multiprocessing.Event()
    proc = multiprocessing.Process(target=publish, args=(broker.url, msgs, None, started))
    proc.start()
    proc.join()
    deadline = time.monotonic() + 120
    with psycopg.connect(url) as conn:
        while time.monotonic() < deadline:
            n = conn.execute("SELECT count(*) FROM depots WHERE code LIKE %s AND layout IS NOT NULL",
                             (prefix + "-%",)).fetchone()[0]
            if n == depots:
                break
            time.sleep(0.2)
    worker.stop()


def throughput(url: str, broker, args, hooks: bool, prefix: str, scan_round: int) -> float:
    """Readings/s of one scan round of every depot through a new ingest worker."""
    msgs = round_messages(prefix, args.depots, args.granaries, args.cables, args.layers, 1,
                          first_round=scan_round)
    expected = len(msgs) * args.cables * args.layers
    worker = ingest_worker(settings(url, broker, hooks, "tp"))
    worker.start()
    worker.ready.wait(10)
    started = multiprocessing.Event()
    proc = multiprocessing.Process(target=publish, args=(broker.url, msgs, None, started))
    proc.start()
    started.wait(10)
    t0 = time.perf_counter()
    while worker.totals.grain_rows < expected:
        if time.perf_counter() - t0 > args.timeout:
            raise SystemExit("timeout: not every reading arrived")
        time.sleep(0.01)
    elapsed = time.perf_counter() - t0
    proc.join()
    worker.stop()
    return expected / elapsed


def serve_api(url: str) -> tuple[str, object]:
    import uvicorn

    from central.wiring import build_app

    port = services.free_port()
    server = uvicorn.Server(uvicorn.Config(build_app(Settings(database_url=url)), host="127.0.0.1",
                                           port=port, log_level="warning", access_log=False))
    threading.Thread(target=server.run, daemon=True).start()
    services.wait_for_port("127.0.0.1", port)
    return f"http://127.0.0.1:{port}", server


def latency(url: str, broker, args, prefix: str) -> list[float]:
    background = round_messages(prefix, args.depots, args.granaries, args.cables, args.layers,
                                args.rounds, hot_share=0.0, seed=2)
    workers = [ingest_worker(Settings(
        database_url=url, mqtt_url=broker.url, ingest_shared_subscription=args.workers > 1,
        mqtt_client_id=f"bench-lat-{i}-{uuid.uuid4().hex[:6]}", auto_provision=True))
        for i in range(args.workers)]
    for w in workers:
        w.start()
        w.ready.wait(10)
    with psycopg.connect(url, autocommit=True) as conn:
        token = add_user(conn, f"bench-{uuid.uuid4().hex[:6]}", "admin", "000000")
    base_url, server = serve_api(url)
    started = multiprocessing.Event()
    proc = multiprocessing.Process(target=publish, args=(broker.url, background, args.rate, started))
    proc.start()
    started.wait(10)
    duration = len(background) / args.rate
    injector = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-inj-{uuid.uuid4().hex[:6]}")
    injector.connect(broker.host, broker.port)
    injector.loop_start()
    sent: dict[str, float] = {}
    seen: dict[str, float] = {}
    stop = threading.Event()
    since = ts(datetime.now(UTC) - timedelta(minutes=1))

    def poll() -> None:
        with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"},
                          timeout=10) as http:
            while not stop.is_set():
                r = http.get("/api/v1/alarms", params={"rule": "hotspot", "since": since,
                                                       "limit": 10000})
                now = time.perf_counter()
                for alarm in r.json():
                    seen.setdefault(alarm["depot"], now)
                stop.wait(0.05)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    rng = random.Random(3)
    injections = min(args.injections, args.depots)
    gap = duration / (injections + 1)
    at = datetime.now(UTC).replace(microsecond=0)
    for i in range(injections):
        time.sleep(gap)
        depot = f"{prefix}-{i:04d}"
        payload = telemetry(depot, 1_000_000 + i, "PH", at, args.cables, args.layers, rng, hot=(5, 2))
        sent[depot] = time.perf_counter()
        injector.publish(f"grainlink/v1/{depot}/telemetry", payload, qos=1)
    deadline = time.perf_counter() + 30
    while len(seen.keys() & sent.keys()) < len(sent) and time.perf_counter() < deadline:
        time.sleep(0.05)
    stop.set()
    proc.join()
    injector.loop_stop()
    server.should_exit = True
    for w in workers:
        w.stop()
    lost = len(sent) - len(seen.keys() & sent.keys())
    if lost:
        print(f"WARNING: {lost} injected hot spots never showed up in the API")
    return [seen[d] - sent[d] for d in sent if d in seen]


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]


def run(args) -> None:
    server_url = args.database_url or services.shared_database_server_url()
    workdir = Path(tempfile.mkdtemp(prefix="grainlink-bench-alarms-"))
    broker = start_broker(workdir)
    try:
        with services.scratch_database(server_url, prefix="grainlink_bench") as url:
            migrate(url)
            prefix = uuid.uuid4().hex[:5]
            register(url, broker, prefix, args.depots, args.granaries, args.cables, args.layers)
            rates: dict[bool, list[float]] = {False: [], True: []}
            cold = None
            if not args.skip_throughput:
                sub = f"{prefix}t"
                register(url, broker, sub, args.depots, args.granaries, args.cables, args.layers)
                # The first round after a worker process starts reads every layout from the
                # database (layout_cache.py); the timed rounds are the steady state after it.
                cold = throughput(url, broker, args, True, sub, 0)
                print(f"  first round, hooks on, layouts not yet in memory: {cold:10,.0f} "
                      f"readings/s", flush=True)
                for i in range(args.repeat):
                    for hooks in (False, True):
                        # a later scan round each run: new batch numbers, newer scans
                        rates[hooks].append(throughput(url, broker, args, hooks, sub,
                                                       1 + 2 * i + hooks))
                        print(f"  run {i + 1} hooks {'on ' if hooks else 'off'}: "
                              f"{rates[hooks][-1]:10,.0f} readings/s", flush=True)
            lat = latency(url, broker, args, prefix) if not args.skip_latency else []
    finally:
        broker.stop()
    readings = args.depots * args.granaries * args.cables * args.layers
    print(f"depots {args.depots} x granaries {args.granaries} x {args.cables} cables x "
          f"{args.layers} layers = {readings:,} readings per round")
    if rates[True]:
        off, on = statistics.median(rates[False]), statistics.median(rates[True])
        print(f"throughput hooks off: {off:10,.0f} readings/s   on: {on:10,.0f} readings/s   "
              f"ratio on/off: {on / off:.2f}  (goal >= 0.8)")
        print(f"first round after start (layouts read from the database): ratio "
              f"{cold / off:.2f}")
    if lat:
        print(f"reading -> alarm in API over {len(lat)} hot spots, background {args.rate:g} msg/s "
              f"({args.rate * args.cables * args.layers:,.0f} readings/s): p50 {pct(lat, 0.5):.2f}s  "
              f"p95 {pct(lat, 0.95):.2f}s  max {max(lat):.2f}s  (goal p95 <= 2 s)")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--depots", type=int, default=1000)
    p.add_argument("--granaries", type=int, default=2)
    p.add_argument("--cables", type=int, default=78)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--rounds", type=int, default=1, help="background scan rounds (latency part)")
    p.add_argument("--rate", type=float, default=40.0, help="background messages/s")
    p.add_argument("--injections", type=int, default=100)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--repeat", type=int, default=3, help="off/on pairs (the median is shown)")
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--skip-throughput", action="store_true")
    p.add_argument("--skip-latency", action="store_true")
    p.add_argument("--database-url", help="PostgreSQL server (a scratch database is made)")
    tune_interpreter()  # as `grainlink central ingest` does: the figures are ingest's
    run(p.parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
