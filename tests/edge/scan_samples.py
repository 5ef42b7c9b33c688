"""Readings shaped like a real depot's scans, for the outbox/uplink tests and benchmark."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from protocols.mqtt.models import AirReading, GrainScan

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def granary_scan(
    granary: str, ts: datetime, cables: int = 78, layers: int = 4, seed: int = 0
) -> tuple[list[GrainScan], list[AirReading]]:
    """One scan of a granary: `cables` cables of `layers` points, one fault, indoor air."""
    rng = random.Random(f"{granary}{ts.isoformat()}{seed}")
    grain = []
    for cable in range(1, cables + 1):
        temps = [round(12 + rng.random() * 8, 2) for _ in range(layers)]
        faults = []
        if cable == 1:
            temps[-1] = None
            faults = [layers]
        grain.append(GrainScan(ts=ts, granary=granary, cable=cable, temps_c=temps, faults=faults))
    air = [AirReading(ts=ts, granary=granary, place="indoor", temp_c=17.9, rh_pct=63.5)]
    return grain, air


def depot_scans(granaries: int, hours: int, cables: int = 78, layers: int = 4):
    """Hourly scans of every granary: yields (grain, air) per granary per hour, oldest first."""
    for hour in range(hours):
        ts = T0 + timedelta(hours=hour)
        for g in range(1, granaries + 1):
            yield granary_scan(f"P{g:02d}", ts, cables, layers)
