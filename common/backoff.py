"""The one retry-delay formula: doubling from an initial wait up to a cap."""

from __future__ import annotations

import random


def doubling_delay(attempt: int, initial: float, cap: float) -> float:
    """The wait after the `attempt`-th failure (1-based): initial·2^(attempt-1), at most `cap`."""
    # The exponent is clamped so a long outage never overflows the float.
    return min(cap, initial * 2 ** max(0, min(attempt - 1, 30)))


def jittered_delay(attempt: int, low: float, high: float, rng: random.Random | None = None) -> float:
    """Full jitter: uniform in [low, doubling_delay(attempt, low, high)]. Jitter spreads the
    reconnects of a province's depots after a broker outage."""
    return (rng or random).uniform(low, max(low, doubling_delay(attempt, low, high)))
