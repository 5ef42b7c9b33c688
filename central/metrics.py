"""A small in-process metrics registry rendered in Prometheus text format (`render()`, the
format itself in common/prometheus.py, shared with the edge agent).

Counters only go up; gauges are set. Labels are fixed per sample key. Thread-safe, no
dependencies; the API serves `render()` at /metrics.
"""

from __future__ import annotations

import threading

from common.prometheus import Labels, label_key, render_family, render_text


class Metric:
    def __init__(self, name: str, help_text: str, kind: str) -> None:
        self.name, self.help, self.kind = name, help_text, kind
        self._values: dict[Labels, float] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(labels: dict[str, str]) -> Labels:
        return label_key(labels)

    def value(self, **labels: str) -> float:
        with self._lock:
            return self._values.get(self._key(labels), 0.0)

    def render(self) -> list[str]:
        with self._lock:
            items = list(self._values.items())
        return render_family(self.name, self.kind, self.help, items)


class Counter(Metric):
    def __init__(self, name: str, help_text: str) -> None:
        super().__init__(name, help_text, "counter")

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        if amount < 0:
            raise ValueError("a counter only goes up")
        key = self._key(labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount


class Gauge(Metric):
    def __init__(self, name: str, help_text: str) -> None:
        super().__init__(name, help_text, "gauge")

    def set(self, value: float, **labels: str) -> None:
        with self._lock:
            self._values[self._key(labels)] = float(value)


class Registry:
    def __init__(self) -> None:
        self._metrics: dict[str, Metric] = {}
        self._lock = threading.Lock()

    def _get(self, cls, name: str, help_text: str):
        with self._lock:
            metric = self._metrics.get(name)
            if metric is None:
                metric = self._metrics[name] = cls(name, help_text)
            elif not isinstance(metric, cls):
                raise ValueError(f"metric {name} already registered as {metric.kind}")
            return metric

    def counter(self, name: str, help_text: str) -> Counter:
        return self._get(Counter, name, help_text)

    def gauge(self, name: str, help_text: str) -> Gauge:
        return self._get(Gauge, name, help_text)

    def render(self) -> str:
        with self._lock:
            metrics = sorted(self._metrics.values(), key=lambda m: m.name)
        return render_text(metric.render() for metric in metrics)


REGISTRY = Registry()


def render() -> str:
    """Every metric of this process in Prometheus text format."""
    return REGISTRY.render()


# --- ingest metrics (central/ingest) ---
INGEST_MESSAGES = REGISTRY.counter(
    "grainlink_ingest_messages_total", "MQTT messages committed, by kind (telemetry, layout, ...).")
INGEST_ROWS = REGISTRY.counter(
    "grainlink_ingest_rows_total", "Reading rows newly stored, by table (redeliveries not counted).")
INGEST_DEAD_LETTERS = REGISTRY.counter(
    "grainlink_ingest_dead_letters_total", "Messages rejected into dead_letters.")
INGEST_COMMITS = REGISTRY.counter(
    "grainlink_ingest_commits_total", "Database transactions committed by ingest.")
INGEST_DB_ERRORS = REGISTRY.counter(
    "grainlink_ingest_db_errors_total", "Database errors met by ingest (each retried).")
INGEST_HOOK_ERRORS = REGISTRY.counter(
    "grainlink_ingest_hook_errors_total", "Post-commit scan hooks that raised.")
INGEST_LAG = REGISTRY.gauge(
    "grainlink_ingest_lag_seconds", "Receive-to-commit time of the oldest message of the last batch.")
INGEST_PENDING = REGISTRY.gauge(
    "grainlink_ingest_pending_messages", "Messages received but not yet committed and acknowledged.")
INGEST_CONNECTED = REGISTRY.gauge(
    "grainlink_ingest_connected", "1 while the ingest worker is connected to the broker.")
