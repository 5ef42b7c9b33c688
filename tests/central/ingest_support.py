"""Helpers for the ingest tests: contract payloads, a publisher, waiting on the database."""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
import psycopg

from central.settings import Settings


def unique_depot(prefix: str = "T") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def ts(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def telemetry(depot: str, batch: int, *, at: datetime | None = None, granary: str = "P01",
              cables: int = 2, layers: int = 4, sent_at: datetime | None = None,
              air: bool = True) -> dict:
    at = at or now_utc() - timedelta(minutes=1)
    grain = [{"ts": ts(at), "granary": granary, "cable": c,
              "temps_c": [round(14 + c * 0.1 + layer * 0.5, 2) for layer in range(layers)],
              "faults": []} for c in range(1, cables + 1)]
    body = {"schema": "grainlink.telemetry/1", "depot": depot, "batch": batch,
            "sent_at": ts(sent_at or now_utc()), "grain": grain, "air": []}
    if air:
        body["air"] = [
            {"ts": ts(at), "granary": granary, "place": "indoor", "temp_c": 17.9, "rh_pct": 63.5},
            {"ts": ts(at), "granary": None, "place": "outdoor", "temp_c": 11.2, "rh_pct": 71.0},
        ]
    return body


def layout(depot: str, generated_at: datetime | None = None, cables: int = 2) -> dict:
    return {
        "schema": "grainlink.layout/1", "depot": depot, "name": "长沙第一粮库",
        "region": {"province": "430000", "city": "430100", "county": "430102"},
        "generated_at": ts(generated_at or now_utc()),
        "granaries": [{
            "granary": "P01", "name": "1号仓", "type": "flat", "length_m": 60, "width_m": 24,
            "grain_height_m": 6.0, "capacity_t": 5000, "grain": "wheat",
            "storage_mode": "quasi_low",
            "cables": [{"cable": c, "row": 1, "col": c, "x_m": 2.0 * c, "y_m": 2.0, "layers": 4}
                       for c in range(1, cables + 1)],
            "layer_depths_m": [0.3, 2.0, 4.0, 5.7], "cameras": ["CAM-P01-1"]}],
        "cameras": [{"camera": "CAM-P01-1", "granary": "P01", "name": "1号仓仓内"}],
    }


def status(depot: str, state: str = "online", at: datetime | None = None) -> dict:
    return {"schema": "grainlink.status/1", "depot": depot, "state": state,
            "ts": ts(at or now_utc()), "agent_version": "0.3.0",
            "buffer": {"pending": 0, "oldest": None, "dropped_total": 0},
            "buses": [{"bus": "rs485-1", "ok": True, "errors_total": 2}],
            "cameras": [{"camera": "CAM-P01-1", "ok": True}]}


def event(depot: str, kind: str = "bus_fault", subject: str | None = "rs485-1") -> dict:
    return {"schema": "grainlink.event/1", "depot": depot, "ts": ts(now_utc()), "kind": kind,
            "subject": subject, "detail": {"errors": 3}}


def encode(body: dict) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()


class Publisher:
    """A plain paho client publishing QoS 1 and waiting for every PUBACK."""

    def __init__(self, mqtt_url: str) -> None:
        u = urlparse(mqtt_url)
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                                  client_id=f"test-pub-{uuid.uuid4().hex[:8]}",
                                  protocol=mqtt.MQTTv311)
        self.client.max_inflight_messages_set(200)
        self.client.max_queued_messages_set(0)
        self.client.connect(u.hostname, u.port or 1883)
        self.client.loop_start()
        self._infos: list = []

    def publish(self, topic: str, payload: bytes | dict, retain: bool = False) -> None:
        if isinstance(payload, dict):
            payload = encode(payload)
        self._infos.append(self.client.publish(topic, payload, qos=1, retain=retain))

    def flush(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        for info in self._infos:
            info.wait_for_publish(max(0.1, deadline - time.monotonic()))
            assert info.is_published(), "broker did not acknowledge a publish"
        self._infos.clear()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.flush()
        self.client.disconnect()
        self.client.loop_stop()


def forget_session(mqtt_url: str, client_id: str) -> None:
    """Remove a persistent session from the broker (connect once with a clean session)."""
    u = urlparse(mqtt_url)
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True,
                    protocol=mqtt.MQTTv311)
    with contextlib.suppress(Exception):
        c.connect(u.hostname, u.port or 1883)
        c.loop_start()
        time.sleep(0.2)
        c.disconnect()
        c.loop_stop()


def settings_for(database_url: str, mqtt_url: str, **extra) -> Settings:
    # Hooks (the alarm rules) off unless a test asks: these tests are about storage, and
    # alarms raised from their readings would land in other tests' notification queues.
    values = {"database_url": database_url, "mqtt_url": mqtt_url,
              "mqtt_client_id": f"test-ingest-{uuid.uuid4().hex[:8]}",
              "db_retry_initial_s": 0.2, "db_retry_max_s": 1.0, "ingest_hooks": False,
              # Test depots are not provisioned: their first layout registers them.
              "auto_provision": True}
    values.update(extra)
    return Settings(**values)


def wait_for(fn, expected, timeout: float = 20.0, interval: float = 0.1):
    """Poll `fn()` until it equals `expected`; returns the last value."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        try:
            value = fn()
        except psycopg.OperationalError:
            value = None
        if value == expected:
            return value
        time.sleep(interval)
    return value


def scalar(url: str, sql: str, params=()) -> object:
    with psycopg.connect(url, connect_timeout=3) as conn:
        row = conn.execute(sql, params).fetchone()
        return None if row is None else row[0]


@contextlib.contextmanager
def running_worker(database_url: str, mqtt_url: str, **extra):
    """A started ingest worker with the service's hooks (when `ingest_hooks=True`) that has
    subscribed; stopped on exit."""
    from central.wiring import ingest_worker

    worker = ingest_worker(settings_for(database_url, mqtt_url, **extra))
    worker.start()
    try:
        assert worker.ready.wait(10), "worker did not subscribe"
        yield worker
    finally:
        worker.stop()
