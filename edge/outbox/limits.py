"""The pure decisions the depot file's `buffer:` limits drive (what to drop when the
outbox is full). The limits themselves are `protocols.depot.model.Buffer`."""

from __future__ import annotations

from collections.abc import Iterable

from protocols.depot.model import Buffer
from protocols.mqtt.models import AirReading, GrainScan

DROP_OLDEST = "drop_oldest"
REJECT_NEW = "reject_new"


def count_readings(grain: Iterable[GrainScan], air: Iterable[AirReading]) -> int:
    """Readings in a message: one per sensor position of each cable scan, one per air reading."""
    return sum(len(g.temps_c) for g in grain) + sum(1 for _ in air)


def fits(rows: int, limits: Buffer) -> bool:
    """True when an outbox of `rows` messages is within the limits (`max_rows` counts
    messages: one telemetry message is a batch of cable scans, not one reading)."""
    return rows <= limits.max_rows


def rows_to_drop(oldest_first: Iterable[int], current_rows: int, new_rows: int,
                 limits: Buffer) -> list[int]:
    """Ids of the oldest rows (oldest first) to delete so the new messages fit. Drops
    everything offered when even an empty outbox is too small."""
    rows = current_rows + new_rows
    dropped: list[int] = []
    for row_id in oldest_first:
        if fits(rows, limits):
            break
        dropped.append(row_id)
        rows -= 1
    return dropped
