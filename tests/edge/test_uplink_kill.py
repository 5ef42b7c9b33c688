"""The publisher killed with SIGKILL again and again while filling and publishing: after a
final restart no batch number is missing at a plain subscriber, and every duplicate is an
exact repeat."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path

from tests.edge.mqtt_collector import Collector

ROOT = Path(__file__).resolve().parents[2]
SCANS = 400


def publisher(url: str, depot: str, db: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.edge.outbox_publisher", "--url", url, "--depot", depot,
         "--db", str(db), "--scans", str(SCANS), "--interval", "0.005", "--max-inflight", "5"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )


def test_sigkill_mid_publishing_loses_no_batch(tmp_path, mqtt_url):
    depot = f"T-KILL-{uuid.uuid4().hex[:8]}"
    db = tmp_path / "edge.sqlite"
    collector = Collector(mqtt_url, f"grainlink/v1/{depot}/telemetry")
    rng = random.Random(7)
    kills = 0
    try:
        for _ in range(6):
            proc = publisher(mqtt_url, depot, db)
            assert proc.stdout.readline().strip() == "started"
            time.sleep(rng.uniform(0.15, 0.5))
            if proc.poll() is None:
                proc.kill()
                kills += 1
            proc.wait()
        final = publisher(mqtt_url, depot, db)
        out, _ = final.communicate(timeout=60)
        assert final.returncode == 0 and "drained" in out
        assert collector.wait_for(lambda: len({json.loads(p)["batch"]
                                               for p in collector.on("telemetry")}) >= SCANS, 20)
    finally:
        collector.close()
    payloads = collector.on("telemetry")
    by_batch: dict[int, set[bytes]] = {}
    for p in payloads:
        by_batch.setdefault(json.loads(p)["batch"], set()).add(p)
    assert kills >= 3, "the publisher finished before it could be killed: raise SCANS"
    assert sorted(by_batch) == list(range(1, SCANS + 1))
    # Redelivered batches are byte-for-byte the first delivery (same sent_at, same readings).
    assert all(len(versions) == 1 for versions in by_batch.values())
    print(f"{kills} kills, {len(payloads)} deliveries of {SCANS} batches")
