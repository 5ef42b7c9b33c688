"""How fast the MQTT codec decodes and encodes full-size telemetry (run: python bench/mqtt_codec.py).

Goal: a central ingest worker decodes a 256 KiB telemetry message well under 50 ms, so one
worker keeps up with >100,000 readings/s before the database is the limit.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from protocols.mqtt.codec import decode_message, encode_message, split_scans
from protocols.mqtt.models import GrainScan, Telemetry


def main() -> None:
    t0 = datetime(2026, 11, 22, 8, tzinfo=UTC)
    grain = [
        GrainScan(ts=t0, granary=f"P{g:02d}", cable=c, temps_c=[14.8 + (c % 7) / 10] * 6, faults=[])
        for g in range(1, 61)
        for c in range(1, 79)
    ]
    start = time.perf_counter()
    chunks = split_scans("HN-0731-001", grain, [])
    split_s = time.perf_counter() - start
    messages = [
        Telemetry(depot="HN-0731-001", batch=i + 1, sent_at=t0, grain=g, air=a)
        for i, (g, a) in enumerate(chunks)
    ]
    start = time.perf_counter()
    payloads = [encode_message(m) for m in messages]
    encode_s = time.perf_counter() - start
    readings = sum(len(s.temps_c) for s in grain)
    start = time.perf_counter()
    rounds = 5
    for _ in range(rounds):
        for p in payloads:
            decode_message("grainlink/v1/HN-0731-001/telemetry", p)
    decode_s = (time.perf_counter() - start) / rounds
    size = max(len(p) for p in payloads)
    print(f"{len(grain)} scans, {readings} readings -> {len(payloads)} messages, largest {size} B")
    print(f"split  {split_s * 1000:8.1f} ms")
    print(f"encode {encode_s * 1000:8.1f} ms")
    print(f"decode {decode_s * 1000:8.1f} ms  ({readings / decode_s:,.0f} readings/s, "
          f"{decode_s / len(payloads) * 1000:.1f} ms per message)")


if __name__ == "__main__":
    main()
