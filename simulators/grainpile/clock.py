"""Simulated time: a start instant and a speed (simulated seconds per real second)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta


class SimClock:
    """Maps the real monotonic clock onto simulated time running `speed` times faster."""

    def __init__(self, start: datetime, speed: float = 1.0, *, monotonic=time.monotonic):
        if start.tzinfo is None:
            raise ValueError("SimClock start must be timezone-aware (UTC)")
        if speed <= 0:
            raise ValueError(f"SimClock speed must be > 0, got {speed}")
        self.start = start.astimezone(UTC)
        self.speed = float(speed)
        self._monotonic = monotonic
        self._real0 = monotonic()
        self._offset_s = 0.0  # simulated seconds added by advance()

    def elapsed_s(self) -> float:
        """Simulated seconds since `start`."""
        return (self._monotonic() - self._real0) * self.speed + self._offset_s

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.elapsed_s())

    def timestamp(self) -> float:
        """Simulated now as UNIX seconds (what the model functions take)."""
        return self.start.timestamp() + self.elapsed_s()

    def advance(self, seconds: float) -> None:
        """Jump simulated time forward (tests, fast-forwarding a demo)."""
        self._offset_s += seconds

    def real_seconds_for(self, sim_seconds: float) -> float:
        return sim_seconds / self.speed


class FrozenClock(SimClock):
    """A clock that moves only by `advance()`: deterministic tests."""

    def __init__(self, start: datetime):
        super().__init__(start, 1.0, monotonic=lambda: 0.0)
