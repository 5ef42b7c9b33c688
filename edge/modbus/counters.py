"""Read-error counters per bus and per unit, shared by the pollers, metrics and status."""

from __future__ import annotations

import threading
from collections import Counter


class ErrorCounters:
    """Thread-safe counts of failed attempts by (bus, unit address, kind) and of retries."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: Counter[tuple[str, int, str]] = Counter()
        self._retries: Counter[tuple[str, int]] = Counter()

    def failure(self, bus: str, address: int, kind: str) -> None:
        with self._lock:
            self._failures[(bus, address, kind)] += 1

    def retry(self, bus: str, address: int) -> None:
        with self._lock:
            self._retries[(bus, address)] += 1

    def failures(self) -> dict[tuple[str, int, str], int]:
        with self._lock:
            return dict(self._failures)

    def retries(self) -> dict[tuple[str, int], int]:
        with self._lock:
            return dict(self._retries)

    def bus_total(self, bus: str) -> int:
        with self._lock:
            return sum(n for (b, _, _), n in self._failures.items() if b == bus)

    def unit_total(self, bus: str, address: int, kind: str | None = None) -> int:
        with self._lock:
            return sum(
                n for (b, a, k), n in self._failures.items()
                if b == bus and a == address and (kind is None or k == kind)
            )
