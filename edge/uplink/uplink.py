"""The MQTT uplink: one thread that keeps the broker connection (persistent session, will,
backoff), drains the outbox with a bounded number of messages in flight, deletes a row only
on its PUBACK, and receives commands."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

import paho.mqtt.client as mqtt

from common.backoff import jittered_delay
from edge import AGENT_VERSION
from edge.outbox.outbox import Outbox
from edge.uplink.broker import BrokerSettings, build_client, client_id_for
from edge.uplink.commands import CommandAction, CommandProcessor
from protocols.mqtt import topics
from protocols.mqtt.codec import encode_message
from protocols.mqtt.models import Layout, Status
from protocols.timefmt import utc_now

log = logging.getLogger(__name__)

_IDLE_POLL_S = 1.0  # re-read the outbox at least this often even without a kick
# A broker that cannot be reached is tried again at least this often, so a backlog starts
# draining within seconds of its return; one that answers and refuses (bad credentials, not
# authorised) is backed off up to the configured reconnect_max_s, as retrying cannot help.
UNREACHABLE_MAX_S = 8.0


@dataclass(frozen=True)
class LinkStats:
    """The uplink as the status report and the metrics see it."""

    connected: bool
    published_total: int
    acked_total: int
    publish_latency_s: float | None


class Uplink:
    """Publishes the outbox to the broker. All paho calls happen on the uplink's own thread.

    `on_command(Command) -> detail` runs the agent's action (on a separate worker thread, so
    a long scan never stalls keepalives); `status_fn(state) -> Status` and
    `layout_fn() -> Layout | None` supply the retained messages.
    """

    def __init__(
        self,
        broker_settings: BrokerSettings,
        depot: str,
        outbox: Outbox,
        on_command: CommandAction | None = None,
        *,
        layout_fn: Callable[[], Layout | None] | None = None,
        status_fn: Callable[[str], Status] | None = None,
        agent_version: str = AGENT_VERSION,
        clock: Callable[[], datetime] = utc_now,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = broker_settings
        self.depot = depot
        self.outbox = outbox
        self.layout_fn = layout_fn
        self.status_fn = status_fn
        self.agent_version = agent_version
        self.clock = clock
        self.rng = rng or random.Random()
        self.client_id = client_id_for(broker_settings, depot)
        self.status_topic = topics.topic_for(depot, topics.STATUS)
        self.layout_topic = topics.topic_for(depot, topics.LAYOUT)
        self.cmd_topic = topics.topic_for(depot, topics.CMD)
        self.commands = CommandProcessor(
            outbox, depot, on_command or _no_actions, clock=clock
        )
        self.window = max(1, broker_settings.broker.max_inflight) * 2
        self.client = build_client(broker_settings, self.client_id)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish
        self.client.on_message = self._on_message
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="edge-cmd")
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._want_layout = True
        self._want_status = False
        self._inflight: dict[int, int] = {}  # paho mid -> outbox row id
        self._sent_at: dict[int, float] = {}  # paho mid -> monotonic publish time
        self._acked: list[int] = []
        self._socket_up = False
        self._attempt = 0
        self._refused = False  # the broker answered our last CONNECT with a refusal
        self.connected = threading.Event()
        self.counters = {
            "published_total": 0, "acked_total": 0, "connects_total": 0,
            "connect_failures_total": 0, "commands_total": 0,
        }
        self.last_publish_latency_s: float | None = None

    # ---- public, thread-safe ----------------------------------------------------------

    def start(self) -> None:
        """Answer commands interrupted by a restart, then connect and drain in the background."""
        self.commands.recover_interrupted()
        kwargs = {}
        if self.settings.protocol == "5":
            from paho.mqtt.packettypes import PacketTypes
            from paho.mqtt.properties import Properties

            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = 0xFFFFFFFF
            kwargs = {"clean_start": False, "properties": props}
        self.client.connect_async(
            self.settings.host, self.settings.port, self.settings.broker.keepalive_s, **kwargs
        )
        self._thread = threading.Thread(target=self._run, name="edge-uplink", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Publish status offline (retained), disconnect cleanly, stop the thread."""
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout + 2)
        self._executor.shutdown(wait=True, cancel_futures=False)

    def kick(self) -> None:
        """New rows in the outbox: drain them now rather than at the next poll."""
        self._wake.set()

    def republish_layout(self) -> None:
        """Publish the retained layout again (configuration changed)."""
        self._want_layout = True
        self._wake.set()

    def publish_status(self) -> None:
        """Publish the retained online status now (the agent's heartbeat)."""
        self._want_status = True
        self._wake.set()

    def inflight(self) -> int:
        return len(self._inflight)

    def link_stats(self) -> LinkStats:
        return LinkStats(self.connected.is_set(), self.counters["published_total"],
                         self.counters["acked_total"], self.last_publish_latency_s)

    # ---- message builders -------------------------------------------------------------

    def _status(self, state: str) -> Status:
        if self.status_fn is not None:
            try:
                status = self.status_fn(state)
            except Exception:  # a broken status report must not keep the uplink down
                log.exception("status_fn failed; sending a minimal status")
            else:
                if status.state == state:
                    return status
                return status.model_copy(update={"state": state})
        return Status(
            depot=self.depot, state=state, ts=self.clock(), agent_version=self.agent_version,
            buffer=self.outbox.stats(), buses=[], cameras=[],
        )

    # ---- paho callbacks (all run on the uplink thread, inside client.loop) ------------

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.warning("broker refused the connection: %s", reason_code)
            self.counters["connect_failures_total"] += 1
            self._refused = True
            return
        self._attempt = 0
        self._refused = False
        self.counters["connects_total"] += 1
        log.info("connected to %s:%s (session present: %s, %d in flight re-sent)",
                 self.settings.host, self.settings.port, flags.session_present,
                 len(self._inflight))
        client.subscribe(self.cmd_topic, qos=1)
        self._publish_retained_status("online")
        self._want_layout = True
        self.connected.set()
        self._wake.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        if self.connected.is_set() and not self._stop.is_set():
            log.warning("disconnected from broker: %s", reason_code)
        self.connected.clear()
        self._socket_up = False

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        # Called with paho's out-message lock held: only record; the database work happens
        # after client.loop() returns.
        row_id = self._inflight.pop(mid, None)
        sent = self._sent_at.pop(mid, None)
        if row_id is not None:
            if getattr(reason_code, "is_failure", False):
                log.warning("broker rejected outbox row %d: %s (kept, will retry)", row_id, reason_code)
                return
            self._acked.append(row_id)
            if sent is not None:
                self.last_publish_latency_s = time.monotonic() - sent

    def _on_message(self, client, userdata, message: mqtt.MQTTMessage) -> None:
        if message.topic != self.cmd_topic:
            client.ack(message.mid, message.qos)
            return
        self.counters["commands_total"] += 1
        try:
            job = self.commands.receive(message.topic, message.payload)
        except Exception:
            # Not recorded: no PUBACK, so the broker delivers it again after a reconnect.
            log.exception("could not record command; leaving it unacknowledged")
            return
        client.ack(message.mid, message.qos)
        if job is not None:
            self._executor.submit(self._execute, job)
        self._wake.set()

    def _execute(self, job) -> None:
        try:
            self.commands.execute(job)
        except Exception:
            log.exception("command %s could not be answered", job.command.id)
        self._wake.set()

    # ---- the thread ---------------------------------------------------------------------

    def _publish_retained_status(self, state: str) -> mqtt.MQTTMessageInfo:
        return self.client.publish(
            self.status_topic, encode_message(self._status(state)), qos=1, retain=True
        )

    def reconnect_delay(self, attempt: int, refused: bool) -> float:
        """The wait before connection attempt `attempt + 1`: jittered doubling from
        reconnect_min_s, capped at UNREACHABLE_MAX_S unless the broker refused us."""
        broker = self.settings.broker
        cap = broker.reconnect_max_s if refused else min(broker.reconnect_max_s, UNREACHABLE_MAX_S)
        return jittered_delay(attempt, broker.reconnect_min_s, max(cap, broker.reconnect_min_s), self.rng)

    def _connect_once(self) -> bool:
        try:
            self.client.will_set(
                self.status_topic, encode_message(self._status("offline")), qos=1, retain=True
            )
            self.client.reconnect()
        except Exception as exc:  # OSError, SSLError, a bad host name: all mean "retry later"
            self.counters["connect_failures_total"] += 1
            self._refused = False  # unreachable now: whatever refused us is not answering
            log.info("cannot reach broker %s:%s: %s", self.settings.host, self.settings.port, exc)
            return False
        self._socket_up = True
        return True

    def _run(self) -> None:
        last_poll = 0.0
        while not self._stop.is_set():
            if not self._socket_up:
                if self._attempt:
                    delay = self.reconnect_delay(self._attempt, self._refused)
                    if self._stop.wait(delay):
                        break
                self._attempt += 1
                if not self._connect_once():
                    continue
            try:
                rc = self.client.loop(timeout=0.05)
                if rc != mqtt.MQTT_ERR_SUCCESS:
                    self.connected.clear()
                    self._socket_up = False
                acked = self._flush_acks()
                if self.connected.is_set():
                    self._publish_requested()
                    now = time.monotonic()
                    if acked or self._wake.is_set() or now - last_poll > _IDLE_POLL_S:
                        self._wake.clear()
                        last_poll = now
                        self._fill_window()
            except Exception:
                # E.g. the SD card full or the database locked: keep the connection, retry.
                # Unflushed acks stay in memory and are retried with the next loop.
                log.exception("uplink loop error; retrying in 1 s")
                self._stop.wait(1.0)
        self._shutdown()

    def _flush_acks(self) -> int:
        """Delete the rows PUBACKed during the last loop in one transaction."""
        if not self._acked:
            return 0
        acked = self._acked
        self.outbox.mark_acked_many(acked)
        self._acked = []
        self.counters["acked_total"] += len(acked)
        return len(acked)

    def _publish_requested(self) -> None:
        if self._want_status:
            self._want_status = False
            self._publish_retained_status("online")
        if self._want_layout:
            self._want_layout = False
            try:
                layout = self.layout_fn() if self.layout_fn else None
            except Exception:
                log.exception("layout_fn failed; layout not published")
                layout = None
            if layout is not None:
                self.client.publish(self.layout_topic, encode_message(layout), qos=1, retain=True)

    def _fill_window(self) -> None:
        room = self.window - len(self._inflight)
        # Refill in chunks: each next_pending may stamp rows (one fsync), so not one per ack.
        if room < max(1, self.window // 2):
            return
        pending = self.outbox.next_pending(room, exclude=set(self._inflight.values()))
        for message in pending:
            info = self.client.publish(message.topic, message.payload, qos=1)
            if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
                log.warning("publish of outbox row %d refused by client: %s", message.id,
                            mqtt.error_string(info.rc))
                break
            # NO_CONN: paho keeps the message and sends it after the reconnect, same mid.
            self._inflight[info.mid] = message.id
            self._sent_at[info.mid] = time.monotonic()
            self.counters["published_total"] += 1

    def _shutdown(self) -> None:
        if self._socket_up and self.connected.is_set():
            try:
                info = self._publish_retained_status("offline")
                deadline = time.monotonic() + 2.0
                while not info.is_published() and time.monotonic() < deadline:
                    if self.client.loop(timeout=0.05) != mqtt.MQTT_ERR_SUCCESS:
                        break
                self._flush_acks()
                self.client.disconnect()
                self.client.loop(timeout=0.05)
            except Exception:  # shutting down: best effort, the will covers the rest
                log.exception("error while disconnecting")
        self.connected.clear()
        self._socket_up = False


def _no_actions(command):
    raise ValueError(f"本代理不支持操作 {command.action}")
