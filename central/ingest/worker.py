"""The ingest worker: MQTT (paho 2.x, MQTT 3.1.1, QoS 1, persistent session) -> PostgreSQL.

Two threads: paho's network thread decodes each message (`prepare`) and queues it; the
writer thread takes many queued messages, stores them in one transaction (`store_batch`)
and only then acknowledges them (manual PUBACK). If the database is unreachable the writer
keeps the batch, acknowledges nothing and retries with exponential backoff; the broker holds
everything else (its inflight window stops it sending more). A message that arrived on an
earlier broker connection is stored but not acknowledged: the broker has re-sent it on the new
connection, and that copy is the one acknowledged (packet ids are per connection).

The worker is handed its hooks (`IngestHooks`, built in central/wiring.py); their telemetry
preparers run on the network thread right after decoding. It changes nothing process-wide:
the `grainlink central ingest` command tunes the interpreter for this load (runtime.py).

Subscriptions: telemetry, events (and snapshot, cmd/result when a hook wants them) through the
shared subscription when enabled, so N workers split them; layout and status always
non-shared, so every worker sees them (their upserts are idempotent and ordered by time).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
import psycopg

from central import metrics
from central.broker import broker_client
from central.db.pool import connect
from central.depots.identity import LayoutPolicy
from central.ingest.hooks import NO_HOOKS, IngestHooks
from central.ingest.prepare import Prepared, TimeLimits, prepare
from central.ingest.store import BatchResult, store_batch, store_dead_letter_only
from common.backoff import doubling_delay
from common.secrets import mask_url
from protocols.mqtt import topics
from protocols.mqtt.errors import MessageError

log = logging.getLogger("central.ingest")

_RETRYABLE = (psycopg.OperationalError, psycopg.InterfaceError)
_CONFLICT = (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure)


def subscriptions(shared: bool, group: str = topics.INGEST_SHARED_GROUP,
                  extra_kinds: set[str] | None = None) -> list[tuple[str, int]]:
    """(topic filter, QoS) pairs a worker subscribes to."""
    split = [topics.TELEMETRY, topics.EVENTS]
    split += sorted((extra_kinds or set()) & {topics.SNAPSHOT, topics.CMD_RESULT})
    subs = [(topics.shared_subscription(k, group) if shared else topics.subscription(k), 1)
            for k in split]
    subs += [(topics.subscription(k), 1) for k in (topics.LAYOUT, topics.STATUS)]
    return subs


class IngestWorker:
    """`start()`, `stop()`; counters in `totals` and in central.metrics."""

    def __init__(self, settings, hooks: IngestHooks = NO_HOOKS, *,
                 client_id: str | None = None) -> None:
        self.settings = settings
        self.hooks = hooks
        self.client_id = client_id or settings.mqtt_client_id
        self.limits = TimeLimits.from_settings(settings)
        self.totals = BatchResult()
        self._queue: queue.Queue[Prepared] = queue.Queue(maxsize=settings.ingest_queue_max)
        self._generation = 0
        self._closing = threading.Event()
        self._stopped = threading.Event()
        self._pending = 0
        self._lock = threading.Lock()
        self._conn: psycopg.Connection | None = None
        self.connected = threading.Event()
        self.ready = threading.Event()      # connected and subscribed
        self._writer = threading.Thread(target=self._write_loop, name="ingest-writer",
                                        daemon=True)
        self._subs = subscriptions(settings.ingest_shared_subscription,
                                   settings.ingest_shared_group, hooks.kinds())
        self._client = self._make_client()

    # --- MQTT side ----------------------------------------------------------------------

    def _make_client(self) -> mqtt.Client:
        # A persistent session, and PUBACK only once the batch is committed.
        client = broker_client(self.settings, self.client_id, clean_session=False,
                               manual_ack=True)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        return client

    def _on_connect(self, client, _userdata, flags, reason_code, _properties) -> None:
        if reason_code.is_failure:
            log.error("broker refused the connection: %s", reason_code)
            return
        self._generation += 1
        # A resumed session still has its subscriptions; subscribing again would make the
        # broker re-send every retained layout and status.
        if not flags.session_present:
            client.subscribe(self._subs)
        else:
            self.ready.set()
        metrics.INGEST_CONNECTED.set(1)
        self.connected.set()
        log.info("connected to %s as %s (session %s)", mask_url(self.settings.mqtt_url),
                 self.client_id, "resumed" if flags.session_present else "new")

    def _on_subscribe(self, _client, _userdata, _mid, reason_codes, _properties) -> None:
        refused = [str(rc) for rc in reason_codes if rc.is_failure]
        if refused:
            log.error("broker refused subscriptions %s: %s", self._subs, refused)
        self.ready.set()

    def _on_disconnect(self, _client, _userdata, _flags, reason_code, _properties) -> None:
        self.connected.clear()
        self.ready.clear()
        metrics.INGEST_CONNECTED.set(0)
        if not self._stopped.is_set():
            log.warning("disconnected from the broker (%s); reconnecting", reason_code)

    def _on_message(self, _client, _userdata, msg: mqtt.MQTTMessage) -> None:
        if self._closing.is_set():
            return  # not acknowledged: the broker re-sends it to the next session
        try:
            received_at = datetime.now(UTC)
            item = prepare(msg.topic, msg.payload, received_at, self.limits,
                           retained=bool(msg.retain))
        except Exception as exc:  # prepare never raises for bad input; this is a last resort
            log.exception("could not prepare a message on %r", msg.topic)
            item = Prepared(topic=str(msg.topic), payload=bytes(msg.payload),
                            received_at=datetime.now(UTC))
            item.error = MessageError(f"internal error while decoding: {exc}")
        item.mid, item.qos, item.generation = msg.mid, msg.qos, self._generation
        if self.hooks.preparers and item.ok and item.kind == topics.TELEMETRY:
            item.hook_data = self.hooks.prepare(item.message)
        with self._lock:
            self._pending += 1
            metrics.INGEST_PENDING.set(self._pending)
        # A full queue (the database is slow or down and the broker's inflight window is
        # large) blocks this thread: TCP backpressure instead of unbounded memory.
        while not self._closing.is_set():
            try:
                self._queue.put(item, timeout=0.5)
                return
            except queue.Full:
                continue
        with self._lock:
            self._pending -= 1

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        s = self.settings
        self._writer.start()
        self._client.connect_async(s.mqtt_host, s.mqtt_port, keepalive=s.mqtt_keepalive_s)
        self._client.loop_start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop taking messages, store and acknowledge what is queued, disconnect."""
        self._closing.set()
        if self._writer.is_alive():
            self._writer.join(timeout)
        self._stopped.set()
        self._client.disconnect()
        self._client.loop_stop()
        if self._conn is not None:
            self._conn.close()
        log.info("ingest stopped: %d messages, %d readings, %d dead letters",
                 self.totals.messages, self.totals.grain_rows + self.totals.air_rows,
                 self.totals.dead_letters)

    def pending(self) -> int:
        """Messages received but not yet committed and acknowledged."""
        with self._lock:
            return self._pending

    # --- writer side --------------------------------------------------------------------

    def _collect(self) -> list[Prepared]:
        s = self.settings
        try:
            first = self._queue.get(timeout=0.2)
        except queue.Empty:
            return []
        batch, rows = [first], first.reading_count
        deadline = time.monotonic() + s.ingest_batch_latency_s
        while len(batch) < s.ingest_batch_messages and rows < s.ingest_batch_rows:
            wait = min(s.ingest_idle_flush_s, deadline - time.monotonic())
            if wait <= 0:
                break
            try:
                item = self._queue.get(timeout=wait)
            except queue.Empty:
                break  # nothing more is coming right now (or the broker's window is full)
            batch.append(item)
            rows += item.reading_count
        return batch

    def _write_loop(self) -> None:
        batch: list[Prepared] = []
        failures = 0  # in a row, for the retry delay

        def delay() -> float:
            s = self.settings
            return doubling_delay(failures, s.db_retry_initial_s, s.db_retry_max_s)

        while True:
            if not batch:
                if self._closing.is_set() and self._queue.empty():
                    return
                batch = self._collect()
                if not batch:
                    continue
            try:
                self._store(batch)
            except _RETRYABLE + _CONFLICT as exc:
                metrics.INGEST_DB_ERRORS.inc()
                failures += 1
                conflict = isinstance(exc, _CONFLICT)
                if not conflict:
                    self._drop_connection()
                log.warning("database %s (%s); %d messages held, retry in %.1fs",
                            "conflict" if conflict else "unavailable", str(exc).strip()[:200],
                            len(batch), delay())
                if self._closing.wait(delay()) and not conflict:
                    return  # stopping with the database down: the broker keeps them
                continue
            except Exception:  # a bug of ours must not kill the thread: hold and retry
                failures += 1
                log.exception("ingest writer failed; %d messages held", len(batch))
                if self._closing.wait(delay()):
                    return
                continue
            failures = 0
            self._ack(batch)
            batch = []

    def _connection(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            # Ingest runs short statements only: past jit_above_cost (a batch's statements
            # grow with it) PostgreSQL would spend time JIT-compiling each for nothing.
            self._conn = connect(self.settings.database_url, autocommit=True,
                                 application_name=f"grainlink-ingest {self.client_id}"[:63],
                                 options="-c jit=off")
        return self._conn

    def _drop_connection(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:
                pass
        self._conn = None

    def _store(self, batch: list[Prepared]) -> None:
        conn = self._connection()
        try:
            result = store_batch(conn, batch, self.client_id, self.hooks,
                                 self.settings.scan_counter_window_h * 3600,
                                 LayoutPolicy.from_settings(self.settings))
        except _RETRYABLE + _CONFLICT:
            raise
        except Exception as exc:
            # Something in the batch that validation let through but the database (or a bug
            # of ours) refuses: store the messages one by one and dead-letter only the
            # culprit, so one message can never block the queue.
            if len(batch) > 1:
                for item in batch:
                    self._store([item])
                return
            log.warning("message on %s refused: %s", batch[0].topic, exc)
            reason = str(exc).strip() if isinstance(exc, psycopg.Error) else (
                f"internal error: {type(exc).__name__}: {exc}")
            store_dead_letter_only(conn, batch[0], reason)
            result = BatchResult(messages=1, dead_letters=1)
        self._count(result, batch)

    def _count(self, result: BatchResult, batch: list[Prepared]) -> None:
        t = self.totals
        t.messages += result.messages
        t.grain_rows += result.grain_rows
        t.air_rows += result.air_rows
        t.dead_letters += result.dead_letters
        for kind, n in result.by_kind.items():
            metrics.INGEST_MESSAGES.inc(n, kind=kind)
        metrics.INGEST_ROWS.inc(result.grain_rows, table="grain_readings")
        metrics.INGEST_ROWS.inc(result.air_rows, table="air_readings")
        if result.dead_letters:
            metrics.INGEST_DEAD_LETTERS.inc(result.dead_letters)
        metrics.INGEST_COMMITS.inc()
        oldest = min(it.received_at for it in batch)
        metrics.INGEST_LAG.set((datetime.now(UTC) - oldest).total_seconds())

    def _ack(self, batch: list[Prepared]) -> None:
        acked: set[int] = set()
        generation = self._generation
        for it in batch:
            if it.qos and it.generation == generation and it.mid not in acked:
                acked.add(it.mid)
                self._client.ack(it.mid, it.qos)
        with self._lock:
            self._pending -= len(batch)
            metrics.INGEST_PENDING.set(self._pending)
