"""Outbox limits and the pure decisions they drive (what to drop when the buffer is full)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from protocols.mqtt.models import AirReading, GrainScan

DROP_OLDEST = "drop_oldest"
REJECT_NEW = "reject_new"
POLICIES = (DROP_OLDEST, REJECT_NEW)


@dataclass(frozen=True)
class OutboxLimits:
    """How much the outbox may hold; None means no limit of that kind.

    `max_rows` counts outbox messages (one telemetry message is one cable-scan batch of up
    to 256 KiB, not one reading). The agent fills this from the depot file's `buffer:`.
    """

    max_rows: int | None = 2_000_000
    max_bytes: int | None = None
    max_age_s: float | None = 30 * 86400.0
    when_full: str = DROP_OLDEST
    history_days: float = 7.0
    command_memory_days: float = 30.0

    def __post_init__(self) -> None:
        if self.when_full not in POLICIES:
            raise ValueError(
                f"buffer.when_full: {self.when_full!r} is not one of {', '.join(POLICIES)}"
            )
        for name in ("max_rows", "max_bytes", "max_age_s"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"buffer.{name}: must be greater than zero, got {value!r}")
        if self.history_days < 0:
            raise ValueError(f"buffer.history_days: must not be negative, got {self.history_days!r}")


def count_readings(grain: Iterable[GrainScan], air: Iterable[AirReading]) -> int:
    """Readings in a message: one per sensor position of each cable scan, one per air reading."""
    return sum(len(g.temps_c) for g in grain) + sum(1 for _ in air)


def fits(rows: int, nbytes: int, limits: OutboxLimits) -> bool:
    """True when a buffer of `rows` messages and `nbytes` bytes is within the limits."""
    if limits.max_rows is not None and rows > limits.max_rows:
        return False
    return not (limits.max_bytes is not None and nbytes > limits.max_bytes)


def rows_to_drop(
    oldest_first: Iterable[tuple[int, int]],
    current_rows: int,
    current_bytes: int,
    new_rows: int,
    new_bytes: int,
    limits: OutboxLimits,
) -> list[int]:
    """Ids of the oldest rows (given as (id, nbytes), oldest first) to delete so the new
    messages fit. Drops everything offered when even an empty buffer is too small."""
    rows, nbytes = current_rows + new_rows, current_bytes + new_bytes
    dropped: list[int] = []
    for row_id, size in oldest_first:
        if fits(rows, nbytes, limits):
            break
        dropped.append(row_id)
        rows -= 1
        nbytes -= size
    return dropped
