"""A slave that stops answering is left alone for a while, doubling up to a cap, so it never
eats its bus's time; it is tried again on its own schedule, with one short probe (see BusPoller)."""

from __future__ import annotations

from dataclasses import dataclass

from common.backoff import doubling_delay


@dataclass
class UnitBackoff:
    initial_s: float
    max_s: float
    failures: int = 0
    retry_at: float = 0.0  # monotonic seconds

    def ready(self, now: float) -> bool:
        return now >= self.retry_at

    def failed(self, now: float) -> float:
        """Record a failed poll at `now`; returns the pause before the next try."""
        self.failures += 1
        pause = doubling_delay(self.failures, self.initial_s, self.max_s)
        self.retry_at = now + pause
        return pause

    def succeeded(self) -> None:
        self.failures = 0
        self.retry_at = 0.0

    @property
    def dead(self) -> bool:
        return self.failures > 0
