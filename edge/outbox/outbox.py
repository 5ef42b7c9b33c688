"""The SQLite outbox: every message is committed here before any publish is attempted, and
leaves only when the broker has acknowledged it (QoS 1 PUBACK)."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from edge.outbox import history
from edge.outbox.limits import REJECT_NEW, count_readings, fits, rows_to_drop
from edge.outbox.schema import Database, open_database
from protocols.depot.model import Buffer
from protocols.mqtt import topics
from protocols.mqtt.codec import MAX_PAYLOAD_BYTES, decode_message, encode_message, split_scans
from protocols.mqtt.errors import MessageError
from protocols.mqtt.models import AirReading, BufferStatus, Event, GrainScan, Message, Telemetry
from protocols.timefmt import format_ts, utc_now

log = logging.getLogger(__name__)

# Results and events first: an answer to an operator's command must not wait behind a week
# of buffered telemetry. Telemetry itself drains strictly oldest first.
PRIORITY = {topics.CMD_RESULT: 0, topics.EVENTS: 1, topics.SNAPSHOT: 2, topics.TELEMETRY: 3}
KINDS = tuple(PRIORITY)
# Answered command ids are remembered this long, so a command central repeats is not re-run.
COMMAND_MEMORY_S = 30 * 86400.0


class OutboxFull(Exception):
    """A scan refused by the `reject_new` policy (its readings are counted as dropped)."""


@dataclass(frozen=True)
class PendingMessage:
    """A message ready to publish: its row id (give it back to `mark_acked_many`), topic and bytes."""

    id: int
    kind: str
    topic: str
    payload: bytes
    batch: int | None


def _whole_seconds(dt: datetime) -> datetime:
    # Fixed-length `sent_at`: re-stamping never changes a message's size.
    return dt.replace(microsecond=0)


_SENT_AT = b'"sent_at":"'


def _restamped(payload: bytes, sent_at: datetime) -> bytes | None:
    """The payload with its `sent_at` replaced in place (None when it cannot be): a backlog
    drains at the speed of this, and re-encoding every message would cost more than sending
    it. Our encoder wrote `"sent_at":"…"` once, whole seconds, so the length never changes."""
    at = payload.find(_SENT_AT)
    if at < 0:
        return None
    start = at + len(_SENT_AT)
    end = payload.find(b'"', start)
    value = format_ts(sent_at).encode()
    if end - start != len(value) or payload.find(_SENT_AT, end) >= 0:
        return None
    return payload[:start] + value + payload[end:]


class Outbox:
    """Outbox, batch counter, drop accounting and local history in one SQLite file.

    Thread-safe: the agent's scan jobs add while the uplink drains.
    """

    def __init__(
        self,
        path: str | Path,
        depot: str,
        limits: Buffer | None = None,
        clock: Callable[[], datetime] = utc_now,
        max_payload_bytes: int = MAX_PAYLOAD_BYTES,
    ) -> None:
        topics.topic_for(depot, topics.TELEMETRY)  # rejects a bad depot code early
        self.path = Path(path)
        self.depot = depot
        self.limits = limits or Buffer()
        self.clock = clock
        self.max_payload_bytes = max_payload_bytes
        self._lock = threading.RLock()
        self._tx_depth = 0  # only touched by the thread holding _lock
        self.db: Database = open_database(self.path)

    # ---- plumbing -------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Database]:
        """One write transaction under the outbox lock (also used by the command log). A
        transaction opened inside another joins it: both commit or roll back together."""
        with self._lock:
            outer = self._tx_depth == 0
            if outer:
                self.db.execute("BEGIN IMMEDIATE")
            self._tx_depth += 1
            try:
                yield self.db
            except BaseException:
                if outer:
                    self.db.conn.rollback()
                raise
            else:
                if outer:
                    self.db.conn.commit()
            finally:
                self._tx_depth -= 1

    def close(self) -> None:
        with self._lock:
            self.db.close()

    def _meta(self, key: str) -> int:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else 0

    def _set_meta(self, key: str, value: int) -> None:
        self.db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [key, value],
        )

    def _now(self) -> float:
        return self.clock().timestamp()

    def _insert(self, kind: str, payload: bytes, *, batch=None, readings=0, stamped=1) -> int:
        cursor = self.db.execute(
            "INSERT INTO outbox (kind, priority, batch, created_at, readings, nbytes, stamped, "
            "payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [kind, PRIORITY[kind], batch, self._now(), readings, len(payload), stamped, payload],
        )
        return cursor.lastrowid

    # ---- adding ---------------------------------------------------------------------

    @property
    def last_batch(self) -> int:
        """The last telemetry batch number handed out (0 before the first)."""
        with self._lock:
            return self._meta("next_batch")

    def add_telemetry(
        self,
        grain: list[GrainScan],
        air: list[AirReading],
        sent_at_fn: Callable[[], datetime] | None = None,
        *,
        record_history: bool = True,
    ) -> list[int]:
        """Split, number and commit one scan's messages; returns their batch numbers.

        Everything (counter increment, rows, history) is one transaction, committed with
        fsync before this returns. `sent_at` is written when the message is first handed to
        the uplink (so a backlog drained days later does not look like a wrong clock); pass
        `sent_at_fn` to stamp it now instead. Raises OutboxFull under `reject_new` when the
        buffer is full (the readings are counted as dropped and a `buffer_dropped` event is
        queued).
        """
        if not grain and not air:
            return []
        parts = split_scans(self.depot, grain, air, self.max_payload_bytes)
        stamp_now = sent_at_fn is not None
        sent_at = _whole_seconds((sent_at_fn or self.clock)())
        with self.transaction():
            first = self._meta("next_batch") + 1
            messages: list[tuple[int, bytes, int]] = []
            for offset, (part_grain, part_air) in enumerate(parts):
                msg = Telemetry(
                    depot=self.depot, batch=first + offset, sent_at=sent_at,
                    grain=part_grain, air=part_air,
                )
                payload = encode_message(msg)
                if len(payload) > self.max_payload_bytes:
                    raise ValueError(
                        f"遥测消息拆分后仍有 {len(payload)} 字节，超过上限 "
                        f"{self.max_payload_bytes} 字节"
                    )
                messages.append((first + offset, payload, count_readings(part_grain, part_air)))
            if not self._make_room(len(messages), count_readings(grain, air)):
                raise_full = True
            else:
                raise_full = False
                for batch, payload, readings in messages:
                    self._insert(
                        topics.TELEMETRY, payload, batch=batch, readings=readings,
                        stamped=int(stamp_now),
                    )
                self._set_meta("next_batch", first + len(messages) - 1)
            if record_history:  # kept on site even when the outbox refuses the scan
                history.record(self.db, grain, air)
        if raise_full:
            raise OutboxFull(
                f"缓存已满（{self.limits.when_full}）：本次扫描的 "
                f"{count_readings(grain, air)} 个读数未被接收"
            )
        return [batch for batch, _, _ in messages]

    def add_message(self, kind: str, payload_model: Message) -> int:
        """Queue an event, snapshot or command result (kind = its topic kind); returns the row id.

        These are small and rare, so they are kept even when telemetry is being refused: a
        `buffer_dropped` event must get out.
        """
        return self.add_encoded(kind, encode_message(payload_model))

    def add_encoded(self, kind: str, payload: bytes) -> int:
        """`add_message` for a message already encoded (e.g. a stored command answer sent
        again). Inside the caller's `transaction()` it commits with it."""
        if kind not in KINDS or kind == topics.TELEMETRY:
            raise ValueError(
                f"outbox kind {kind!r} is not one of {', '.join(k for k in KINDS if k != 'telemetry')}"
            )
        with self.transaction():
            return self._insert(kind, payload)

    # ---- limits ---------------------------------------------------------------------

    def _make_room(self, new_rows: int, new_readings: int) -> bool:
        """Inside a transaction: apply the full-buffer policy; False when the new rows must
        be refused."""
        (rows,) = self.db.execute("SELECT count(*) FROM outbox").fetchone()
        if self.limits.when_full == REJECT_NEW:
            if fits(rows + new_rows, self.limits):
                return True
            self._record_drop(new_readings, new_rows, "缓存已满，拒收新数据")
            return False
        cursor = self.db.execute("SELECT id FROM outbox ORDER BY id")
        victims = rows_to_drop((r[0] for r in cursor), rows, new_rows, self.limits)
        cursor.close()
        if victims:
            self._delete_counted(victims, "缓存已满，丢弃最早的数据")
        return True

    def _delete_counted(self, ids: list[int], reason: str) -> None:
        readings = 0
        for chunk_start in range(0, len(ids), 500):
            chunk = ids[chunk_start:chunk_start + 500]
            marks = ",".join("?" * len(chunk))
            (n,) = self.db.execute(
                f"SELECT total(readings) FROM outbox WHERE id IN ({marks})", chunk
            ).fetchone()
            readings += int(n)
            self.db.execute(f"DELETE FROM outbox WHERE id IN ({marks})", chunk)
        self._record_drop(readings, len(ids), reason)

    def _record_drop(self, readings: int, messages: int, reason: str) -> None:
        total = self._meta("dropped_readings") + readings
        self._set_meta("dropped_readings", total)
        self._set_meta("dropped_messages", self._meta("dropped_messages") + messages)
        log.warning("outbox %s: %d messages, %d readings (total dropped %d)",
                    reason, messages, readings, total)
        event = Event(
            depot=self.depot, ts=self.clock(), kind="buffer_dropped", subject=self.depot,
            detail={"reason": reason, "readings": readings, "messages": messages,
                    "dropped_total": total, "policy": self.limits.when_full},
        )
        self._insert(topics.EVENTS, encode_message(event))

    def housekeep(self) -> dict[str, int]:
        """Drop outbox rows older than max_age (counted), prune history and old command ids."""
        now = self._now()
        out = {"expired": 0, "history": 0, "commands": 0}
        with self.transaction():
            ids = [r[0] for r in self.db.execute(
                "SELECT id FROM outbox WHERE created_at < ? AND kind = ? ORDER BY id",
                [now - self.limits.max_age, topics.TELEMETRY],
            )]
            if ids:
                self._delete_counted(ids, f"超过 {self.limits.max_age:g} 秒未发出，已丢弃")
            out["expired"] = len(ids)
            out["history"] = history.prune(self.db, now - self.limits.history_days * 86400)
            out["commands"] = self.db.execute(
                "DELETE FROM commands WHERE received_at < ? AND state = 'done'",
                [now - COMMAND_MEMORY_S],
            ).rowcount
        with self._lock:
            # Outside the transaction: frees at most 4000 pages (16 MB) per run.
            self.db.conn.executescript("PRAGMA incremental_vacuum(4000);")
        return out

    # ---- draining -------------------------------------------------------------------

    def next_pending(self, limit: int, exclude: Collection[int] = ()) -> list[PendingMessage]:
        """Up to `limit` messages to publish, results/events first, then telemetry oldest
        first, skipping the ids in `exclude` (those already in flight).

        A telemetry message gets its final `sent_at` here, committed before it is returned,
        so every later re-send is byte-for-byte the same message.
        """
        if limit <= 0:
            return []
        excluded = list(exclude)
        with self.transaction():
            sql = "SELECT id, kind, batch, stamped, payload FROM outbox"
            if excluded:
                sql += f" WHERE id NOT IN ({','.join('?' * len(excluded))})"
            rows = self.db.execute(
                sql + " ORDER BY priority, id LIMIT ?", [*excluded, limit]
            ).fetchall()
            pending = []
            now: datetime | None = None
            for row_id, kind, batch, stamped, payload in rows:
                topic = topics.topic_for(self.depot, kind)
                if not stamped:
                    now = now or _whole_seconds(self.clock())
                    try:
                        payload = _restamped(payload, now) or encode_message(
                            decode_message(topic, payload).model_copy(update={"sent_at": now}))
                    except MessageError as exc:
                        # Never block the queue: send it with the sent_at it was created with.
                        log.error("outbox row %d could not be re-stamped (%s); sent as stored",
                                  row_id, exc)
                    self.db.execute(
                        "UPDATE outbox SET payload = ?, nbytes = ?, stamped = 1 WHERE id = ?",
                        [payload, len(payload), row_id],
                    )
                pending.append(PendingMessage(row_id, kind, topic, bytes(payload), batch))
        return pending

    def mark_acked_many(self, row_ids: Iterable[int]) -> None:
        """Delete several acknowledged rows in one transaction (one fsync)."""
        ids = list(row_ids)
        if not ids:
            return
        with self.transaction():
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                self.db.execute(
                    f"DELETE FROM outbox WHERE id IN ({','.join('?' * len(chunk))})", chunk
                )

    # ---- reporting ------------------------------------------------------------------

    def stats(self) -> BufferStatus:
        """Pending messages, the creation time of the oldest, readings dropped so far."""
        with self._lock:
            pending, oldest = self.db.execute(
                "SELECT count(*), min(created_at) FROM outbox"
            ).fetchone()
            dropped = self._meta("dropped_readings")
        return BufferStatus(
            pending=pending,
            oldest=None if oldest is None else datetime.fromtimestamp(oldest, UTC),
            dropped_total=dropped,
        )

    def pending_readings(self) -> int:
        """Readings waiting in the outbox (telemetry only)."""
        with self._lock:
            (n,) = self.db.execute("SELECT total(readings) FROM outbox").fetchone()
        return int(n)

    def history_latest(self, granary: str) -> history.LatestScan | None:
        """The last scan of each cable of a granary and its last indoor air, or None."""
        with self._lock:
            return history.latest(self.db, granary)

    def history_since(
        self, granary: str | None, since: datetime
    ) -> tuple[list[GrainScan], list[AirReading]]:
        """Cable scans and air readings kept since `since` (granary None: the whole depot)."""
        with self._lock:
            return history.since(self.db, granary, since)
