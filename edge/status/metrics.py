"""Prometheus text metrics and the agent's JSON status on one local HTTP port."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable

from common.prometheus import Labels, label_key, render_family, render_text

log = logging.getLogger(__name__)


class Metrics:
    """Counters and gauges with labels; thread-safe; rendered in Prometheus text format."""

    def __init__(self, prefix: str = "grainlink_edge_"):
        self.prefix = prefix
        self._lock = threading.Lock()
        self._values: dict[str, dict[Labels, float]] = {}
        self._kinds: dict[str, tuple[str, str]] = {}  # name -> (type, help)
        self._collectors: list[Callable[[Metrics], None]] = []

    def describe(self, name: str, kind: str, help_text: str) -> None:
        self._kinds[name] = (kind, help_text)

    def inc(self, name: str, amount: float = 1.0, **labels: object) -> None:
        key = label_key(labels)
        with self._lock:
            series = self._values.setdefault(name, {})
            series[key] = series.get(key, 0.0) + amount

    def set(self, name: str, value: float, **labels: object) -> None:
        with self._lock:
            self._values.setdefault(name, {})[label_key(labels)] = float(value)

    def get(self, name: str, **labels: object) -> float:
        with self._lock:
            return self._values.get(name, {}).get(label_key(labels), 0.0)

    def add_collector(self, fn: Callable[[Metrics], None]) -> None:
        """`fn(metrics)` runs before each render to set gauges read from elsewhere."""
        self._collectors.append(fn)

    def render(self) -> str:
        for fn in self._collectors:
            try:
                fn(self)
            except Exception:  # one broken gauge must not hide the others
                log.exception("metrics collector failed")
        with self._lock:
            families = [
                render_family(self.prefix + name, *self._kinds.get(name, ("gauge", name)),
                              self._values[name].items())
                for name in sorted(self._values)
            ]
        return render_text(families)


class MetricsServer:
    """`GET /metrics` (Prometheus text) and `GET /status` (JSON) on host:port, in a thread."""

    def __init__(self, metrics: Metrics, status_fn: Callable[[], dict], host: str, port: int):
        metrics_ref, status_ref = metrics, status_fn

        # http.server only when the depot runs the metrics port (metrics_port: 0 turns it off)
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                if self.path.startswith("/metrics"):
                    body, ctype = metrics_ref.render().encode(), "text/plain; version=0.0.4"
                elif self.path.startswith("/status"):
                    body, ctype = json.dumps(status_ref(), default=str).encode(), "application/json"
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, name="edge-metrics", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
