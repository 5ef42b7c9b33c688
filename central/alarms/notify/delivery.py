"""Alarm notifications: drain `alarm_outbox` to MQTT (`grainlink/v1/alarms/{depot}`, QoS 1,
the alarm's JSON) and to the configured webhooks (HTTP POST, JSON), retrying with backoff.

Ingest (and the API) only INSERT into the outbox inside their own transactions; this
background thread does all the network work, so a slow or failing webhook never holds up
ingest. Each notification becomes one delivery row per target; a delivery is claimed by
pushing its next attempt into the future (a lease) and committing, so several `serve`
processes can drain one outbox without sending twice, and no transaction stays open
during a webhook call. Targets are independent: a dead webhook does not delay MQTT.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg

from central.alarms.notify.settings import NotifySettings, notify_settings
from central.broker import broker_client
from central.db.pool import connect
from central.metrics import REGISTRY
from protocols.mqtt.topics import alarms_topic

log = logging.getLogger("central.alarms.notify.delivery")

MQTT_TARGET = "mqtt"
HELD = "held back behind an earlier failure to the same target"
LEASE_S = 120.0

NOTIFY_SENT = REGISTRY.counter("grainlink_alarm_notifications_total",
                               "Alarm notifications delivered, by target kind.")
NOTIFY_FAILED = REGISTRY.counter("grainlink_alarm_notification_failures_total",
                                 "Failed delivery attempts, by target kind (each retried).")


def targets(ns: NotifySettings) -> list[str]:
    return ([MQTT_TARGET] if ns.alarm_mqtt else []) + list(ns.alarm_webhooks)


def fan_out(conn, ns: NotifySettings, limit: int = 1000) -> int:
    """New outbox rows → one delivery row per target; returns how many rows were taken."""
    row = conn.execute(
        """WITH new AS (SELECT id FROM alarm_outbox WHERE NOT fanned_out ORDER BY id LIMIT %s
                        FOR UPDATE SKIP LOCKED),
                marked AS (UPDATE alarm_outbox o SET fanned_out = true FROM new
                           WHERE o.id = new.id RETURNING o.id),
                ins AS (INSERT INTO alarm_deliveries (outbox_id, target)
                        SELECT marked.id, t FROM marked, unnest(%s::text[]) AS t
                        ON CONFLICT DO NOTHING)
           SELECT count(*) FROM marked""", (limit, targets(ns))).fetchone()
    return row[0]


def claim(conn, limit: int) -> list[tuple]:
    """Due deliveries, leased to this process: (outbox_id, target, attempts, depot, payload).

    The changes of one alarm reach a target in order: a delivery waits while an earlier
    change of the same alarm to the same target is still pending (retrying after a failure,
    or leased to another notifier)."""
    return conn.execute(
        """UPDATE alarm_deliveries d SET attempts = d.attempts + 1,
                  next_attempt_at = now() + make_interval(secs => %s)
           FROM (SELECT x.outbox_id, x.target FROM alarm_deliveries x
                 JOIN alarm_outbox xo ON xo.id = x.outbox_id
                 WHERE x.delivered_at IS NULL AND x.failed_at IS NULL
                   AND x.next_attempt_at <= now()
                   AND NOT EXISTS (
                       SELECT 1 FROM alarm_deliveries e JOIN alarm_outbox eo ON eo.id = e.outbox_id
                       WHERE e.target = x.target AND eo.alarm_id = xo.alarm_id
                         AND e.outbox_id < x.outbox_id
                         AND e.delivered_at IS NULL AND e.failed_at IS NULL)
                 ORDER BY x.outbox_id LIMIT %s FOR UPDATE OF x SKIP LOCKED) c, alarm_outbox o
           WHERE d.outbox_id = c.outbox_id AND d.target = c.target AND o.id = d.outbox_id
           RETURNING d.outbox_id, d.target, d.attempts, o.depot, o.payload""",
        (LEASE_S, limit)).fetchall()


def mark_delivered(conn, outbox_id: int, target: str) -> None:
    conn.execute("UPDATE alarm_deliveries SET delivered_at = now(), last_error = NULL "
                 "WHERE outbox_id = %s AND target = %s", (outbox_id, target))


def mark_failed(conn, outbox_id: int, target: str, attempts: int, error: str,
                ns: NotifySettings) -> None:
    give_up = attempts >= ns.alarm_retry_max_attempts
    conn.execute(
        """UPDATE alarm_deliveries SET last_error = %s,
                  next_attempt_at = now() + make_interval(secs => %s),
                  failed_at = CASE WHEN %s THEN now() ELSE NULL END
           WHERE outbox_id = %s AND target = %s""",
        (error[:1000], ns.backoff_s(attempts), give_up, outbox_id, target))
    if give_up:
        log.error("giving up on alarm notification %s to %s after %d attempts: %s",
                  outbox_id, target, attempts, error)


def release(conn, outbox_id: int, target: str, after_s: float) -> None:
    """Give back a claimed delivery that was not attempted."""
    conn.execute("UPDATE alarm_deliveries SET attempts = attempts - 1, "
                 "next_attempt_at = now() + make_interval(secs => %s) "
                 "WHERE outbox_id = %s AND target = %s", (after_s, outbox_id, target))


def post_webhook(url: str, payload: dict, timeout_s: float) -> None:
    """POST the JSON; raises on anything but a 2xx answer."""
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": "application/json",
                                          "User-Agent": "grainlink-alarms/1"})
    with urllib.request.urlopen(req, timeout=timeout_s) as resp:  # noqa: S310 (http(s) only)
        if not 200 <= resp.status < 300:
            raise OSError(f"HTTP {resp.status}")


class MqttPublisher:
    """A paho client kept connected in the background; `publish` waits for the PUBACK."""

    def __init__(self, settings, timeout_s: float = 5.0) -> None:
        self.timeout_s = timeout_s
        self.client = broker_client(settings, f"grainlink-alarms-{uuid.uuid4().hex[:8]}")
        self.connected = threading.Event()
        self.client.on_connect = lambda *_: self.connected.set()
        self.client.on_disconnect = lambda *_: self.connected.clear()
        self.client.connect_async(settings.mqtt_host, settings.mqtt_port, keepalive=30)
        self.client.loop_start()

    def publish(self, depot: str, payload: dict) -> None:
        # Just started, or reconnecting: worth a short wait rather than a retry much later.
        if not self.connected.wait(self.timeout_s) or not self.client.is_connected():
            raise OSError("not connected to the broker")
        info = self.client.publish(alarms_topic(depot), json.dumps(payload, ensure_ascii=False),
                                   qos=1)
        info.wait_for_publish(self.timeout_s)
        if not info.is_published():
            raise OSError("no PUBACK from the broker")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class Notifier:
    """`start()` / `stop()`; `drain_once()` does one round (used by tests and the thread)."""

    def __init__(self, settings, ns: NotifySettings | None = None, publisher=None) -> None:
        self.settings = settings
        self.ns = ns or notify_settings(settings)
        self._publisher = publisher
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="alarm-notifier", daemon=True)
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="alarm-webhook")
        self._conn: psycopg.Connection | None = None

    @property
    def publisher(self):
        if self._publisher is None and self.ns.alarm_mqtt:
            self._publisher = MqttPublisher(self.settings)
        return self._publisher

    def start(self) -> Notifier:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self._publisher is not None:
            self._publisher.close()
        if self._conn is not None:
            self._conn.close()

    def _connection(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            self._conn = connect(self.settings.database_url, autocommit=True,
                                 application_name="grainlink-alarm-notifier")
        return self._conn

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                done = self.drain_once()
            except psycopg.Error as exc:
                log.warning("alarm notifier: database error (%s); retrying", str(exc).strip()[:200])
                self._conn = None
                done = 0
            except Exception:
                log.exception("alarm notifier round failed")
                done = 0
            if not done:
                self._stop.wait(self.ns.alarm_notify_poll_s)

    def _send(self, target: str, depot: str, payload: dict) -> None:
        if target == MQTT_TARGET:
            if self.publisher is None:
                raise OSError("MQTT notifications are switched off")
            self.publisher.publish(depot, payload)
        else:
            post_webhook(target, payload, self.ns.alarm_webhook_timeout_s)

    def _deliver_target(self, items: list[tuple]) -> list[tuple[tuple, str | None]]:
        """Deliver one target's items in order; after a failure the rest wait for the retry
        (marked HELD: not attempted, so it does not count against them)."""
        out = []
        failed = None
        for item in items:
            if failed is not None:
                out.append((item, HELD))
                continue
            outbox_id, target, _attempts, depot, payload = item
            try:
                self._send(target, depot, payload)
                out.append((item, None))
            except (OSError, urllib.error.URLError, ValueError) as exc:
                failed = f"{type(exc).__name__}: {exc}"
                out.append((item, failed))
        return out

    def drain_once(self) -> int:
        """Fan out new notifications and attempt every due delivery; returns how many
        deliveries were attempted (0 = nothing to do)."""
        conn = self._connection()
        fan_out(conn, self.ns)
        items = claim(conn, self.ns.alarm_notify_batch)
        if not items:
            return 0
        by_target: dict[str, list[tuple]] = {}
        for item in items:
            by_target.setdefault(item[1], []).append(item)
        futures = [self._pool.submit(self._deliver_target, group) for group in by_target.values()]
        for future in futures:
            retry_after = 0.0  # held-back items wait as long as the failure before them
            for (outbox_id, target, attempts, _depot, _payload), error in future.result():
                kind = "mqtt" if target == MQTT_TARGET else "webhook"
                if error is None:
                    mark_delivered(conn, outbox_id, target)
                    NOTIFY_SENT.inc(target=kind)
                elif error is HELD:
                    release(conn, outbox_id, target, retry_after)
                else:
                    retry_after = self.ns.backoff_s(attempts)
                    mark_failed(conn, outbox_id, target, attempts, error, self.ns)
                    NOTIFY_FAILED.inc(target=kind)
        return len(items)
