"""Alarm notifications: MQTT on grainlink/v1/alarms/{depot} and webhooks on a real local HTTP
server, with retries and backoff; a hanging webhook does not slow down raising alarms."""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
import pytest

from central.alarms.notify.delivery import Notifier
from central.alarms.notify.settings import NotifySettings, notify_settings
from central.alarms.state import store
from central.db.pool import connect
from central.rules.model import Finding
from central.settings import Settings
from tests.central.api_support import tag


class Hook:
    """A local webhook receiver: fails the first `fail` requests about `depot` with 500
    (other tests' alarms share the session's outbox), or hangs."""

    def __init__(self, fail: int = 0, hang_s: float = 0.0, depot: str | None = None) -> None:
        self.fail, self.hang_s, self.depot = fail, hang_s, depot
        self.calls: list[dict] = []
        self.received: queue.Queue = queue.Queue()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                hook.calls.append(body)
                if hook.hang_s:
                    time.sleep(hook.hang_s)
                mine = [c for c in hook.calls if c.get("depot") == hook.depot]
                status = 500 if body.get("depot") == hook.depot and len(mine) <= hook.fail else 204
                self.send_response(status)
                self.end_headers()
                if status == 204:
                    hook.received.put(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alarm"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def subscriber(mqtt_url: str, depot: str) -> tuple[mqtt.Client, queue.Queue]:
    got: queue.Queue = queue.Queue()
    u = urlparse(mqtt_url)
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"t-alarms-{uuid.uuid4().hex[:8]}",
                    protocol=mqtt.MQTTv311)
    ready = threading.Event()
    c.on_subscribe = lambda *a: ready.set()
    c.on_message = lambda _c, _u, m: got.put((m.topic, m.qos, json.loads(m.payload)))
    c.connect(u.hostname, u.port or 1883)
    c.loop_start()
    c.subscribe(f"grainlink/v1/alarms/{depot}", qos=1)
    assert ready.wait(5)
    return c, got


def finding(value=3.5):
    return Finding("hotspot", "P01/C1/L1", "warning", value, 3.0, "hot", "P01")


def test_backoff_doubles_up_to_the_limit():
    ns = NotifySettings(alarm_retry_initial_s=2, alarm_retry_max_s=30)
    assert [ns.backoff_s(n) for n in (1, 2, 3, 4, 5, 6)] == [2, 4, 8, 16, 30, 30]


def test_settings_from_environment_and_bad_url():
    ns = notify_settings(env={"GRAINLINK_ALARM_WEBHOOKS": "http://a/x, https://b/y",
                              "GRAINLINK_ALARM_RETRY_MAX_ATTEMPTS": "3"})
    assert ns.alarm_webhooks == ("http://a/x", "https://b/y") and ns.alarm_retry_max_attempts == 3
    with pytest.raises(ValueError, match="ftp://x"):
        notify_settings(env={"GRAINLINK_ALARM_WEBHOOKS": "ftp://x"})


def test_mqtt_and_webhook_with_retries(url, mqtt_url):
    depot = f"NT{tag()}"
    hook = Hook(fail=2, depot=depot)
    sub, got = subscriber(mqtt_url, depot)
    ns = NotifySettings(alarm_webhooks=(hook.url,), alarm_retry_initial_s=0.1,
                        alarm_retry_max_s=0.4, alarm_notify_poll_s=0.05)
    notifier = Notifier(Settings(database_url=url, mqtt_url=mqtt_url), ns).start()
    try:
        with connect(url, autocommit=True) as conn:
            _, alarm = store.raise_or_update(conn, depot, "P01", finding(), datetime.now(UTC))
            store.acknowledge(conn, alarm["id"], "zhang", "seen")
        topic, qos, first = got.get(timeout=10)
        assert topic == f"grainlink/v1/alarms/{depot}" and qos == 1
        assert first["change"] == "opened" and first["id"] == alarm["id"]
        assert first["rule"] == "hotspot" and first["state"] == "active"
        assert first["opened_at"].endswith("Z")
        assert got.get(timeout=10)[2]["change"] == "acknowledged"  # in order
        mine = []
        deadline = time.monotonic() + 15
        while len(mine) < 2 and time.monotonic() < deadline:
            body = hook.received.get(timeout=max(0.1, deadline - time.monotonic()))
            if body["depot"] == depot:
                mine.append(body["change"])
        assert mine == ["opened", "acknowledged"]
        deadline = time.monotonic() + 5  # marked delivered just after the answer arrives
        while True:
            with connect(url) as conn:
                rows = conn.execute(
                    "SELECT d.target, d.attempts, d.delivered_at IS NOT NULL FROM alarm_deliveries d"
                    " JOIN alarm_outbox o ON o.id = d.outbox_id WHERE o.alarm_id = %s "
                    "ORDER BY o.id, d.target", (alarm["id"],)).fetchall()
            if all(r[2] for r in rows) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        webhook_rows = [r for r in rows if r[0] == hook.url]
        assert all(r[2] for r in rows)
        # the first two POSTs failed: the first notification needed three attempts
        assert webhook_rows[0][1] == 3
    finally:
        notifier.stop()
        sub.loop_stop()
        hook.close()


def test_hanging_webhook_never_slows_raising_alarms(url, mqtt_url):
    depot = f"NH{tag()}"
    hook = Hook(hang_s=2.0)
    sub, got = subscriber(mqtt_url, depot)
    ns = NotifySettings(alarm_webhooks=(hook.url,), alarm_webhook_timeout_s=0.3,
                        alarm_retry_initial_s=0.2, alarm_retry_max_s=0.5, alarm_notify_poll_s=0.05)
    notifier = Notifier(Settings(database_url=url, mqtt_url=mqtt_url), ns).start()
    try:
        with connect(url, autocommit=True) as conn:
            took = []
            for i in range(5):
                start = time.monotonic()
                store.raise_or_update(conn, depot, "P01", finding(3.5 + i), datetime.now(UTC))
                took.append(time.monotonic() - start)
                time.sleep(0.2)
        assert max(took) < 0.2, took
        changes = [got.get(timeout=10)[2]["change"] for _ in range(5)]
        assert changes == ["opened"] + ["updated"] * 4
        time.sleep(1.0)
        with connect(url) as conn:
            attempts, errors = conn.execute(
                "SELECT max(d.attempts), count(*) FILTER (WHERE d.last_error LIKE '%%timed out%%') "
                "FROM alarm_deliveries d JOIN alarm_outbox o ON o.id = d.outbox_id "
                "WHERE o.depot = %s AND d.target = %s", (depot, hook.url)).fetchone()
        assert attempts >= 2 and errors >= 1  # retried, each attempt timed out
    finally:
        notifier.stop()
        sub.loop_stop()
        hook.close()


class FlakyPublisher:
    """Fails its first publish about `depot`, then records what it is given."""

    def __init__(self, depot: str) -> None:
        self.depot, self.failed, self.sent = depot, False, []

    def publish(self, depot: str, payload: dict) -> None:
        if depot != self.depot:
            return
        if not self.failed:
            self.failed = True
            raise OSError("broker away")
        self.sent.append(payload["change"])


def test_a_change_waits_for_the_retry_of_the_earlier_change_of_its_alarm(url):
    """'opened' fails and is retried later; the 'acknowledged' made meanwhile must not
    overtake it."""
    depot = f"NO{tag()}"
    publisher = FlakyPublisher(depot)
    ns = NotifySettings(alarm_webhooks=(), alarm_retry_initial_s=60, alarm_notify_poll_s=0.05)
    notifier = Notifier(Settings(database_url=url, mqtt_url="mqtt://127.0.0.1:1"), ns,
                        publisher=publisher)
    with connect(url, autocommit=True) as conn:
        _, alarm = store.raise_or_update(conn, depot, "P01", finding(), datetime.now(UTC))
        notifier.drain_once()
        assert publisher.failed and publisher.sent == []
        store.acknowledge(conn, alarm["id"], "zhang", "seen")
        notifier.drain_once()
        assert publisher.sent == []  # held behind the 'opened' retry
        conn.execute("UPDATE alarm_deliveries d SET next_attempt_at = now() FROM alarm_outbox o "
                     "WHERE o.id = d.outbox_id AND o.alarm_id = %s", (alarm["id"],))
        for _ in range(3):
            notifier.drain_once()
    assert publisher.sent == ["opened", "acknowledged"]
