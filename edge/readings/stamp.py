"""Unit readings + wiring → `GrainScan` / `AirReading` messages in granary cable numbers."""

from __future__ import annotations

from datetime import datetime, timedelta

from protocols.depot.model import Granary, Unit
from protocols.mqtt.models import AirReading, GrainScan


def scan_time(read_at: datetime, scan_age_s: int | None) -> datetime:
    """When the unit actually measured: the read time less the unit's scan age, to the second
    (so reading the same unit scan twice gives the same timestamps, which central dedupes)."""
    ts = read_at - timedelta(seconds=scan_age_s or 0)
    return ts.replace(microsecond=0)


def grain_scans(reading, unit: Unit, granary: Granary, ts: datetime,
                scan_counter: int | None = None) -> list[GrainScan]:
    """One `GrainScan` per wired cable of `reading`, numbered as the granary numbers them,
    each carrying the unit's scan counter when it has one.

    A unit's sensor list is cut to the cable's configured layers (slots past the last sensor
    are not grain); missing slots are `null` (no sensor).
    """
    to_granary = dict(unit.wiring())
    layers_of = {c.cable: c.layers for c in granary.cable_list()}
    scans = []
    for cable in reading.cables:
        number = to_granary.get(cable.cable)
        if number is None or number not in layers_of:
            continue
        layers = layers_of[number]
        temps = list(cable.temps_c[:layers]) + [None] * max(0, layers - len(cable.temps_c))
        faults = sorted({f for f in cable.faults if 1 <= f <= layers})
        for f in faults:
            temps[f - 1] = None
        scans.append(GrainScan(ts=ts, granary=granary.code, cable=number, temps_c=temps, faults=faults,
                               scan_counter=scan_counter))
    return sorted(scans, key=lambda s: s.cable)


def air_reading(value, place: str, granary: str | None, ts: datetime) -> AirReading | None:
    """An `AirReading` from a decoded air value; None when neither sensor gave anything."""
    if value is None:
        return None
    temp = None if value.temp_fault else value.temp_c
    rh = None if value.rh_fault else value.rh_pct
    if temp is None and rh is None and not (value.temp_fault or value.rh_fault):
        return None  # no sensor at all
    return AirReading(ts=ts, granary=granary if place == "indoor" else None, place=place,
                      temp_c=temp, rh_pct=rh)
