"""One ingest transaction for many prepared messages.

Readings go COPY -> session temp table -> `INSERT ... SELECT ... ON CONFLICT DO NOTHING`:
COPY speed, and a redelivered reading (same depot, granary, cable, layer, ts) is stored once.
Rejected messages go to `dead_letters` in the same transaction; the hooks it is given
(`IngestHooks`, hooks.py) run before the commit. The caller acknowledges the messages to the
broker only after `store_batch` returns.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import psycopg

from central.depots.identity import LayoutPolicy, admit_layout
from central.ingest import registry
from central.ingest.batches import record_batches, refuse_repeated_scans
from central.ingest.hooks import NO_HOOKS, IngestHooks
from central.ingest.prepare import AIR_COLUMNS, GRAIN_COLUMNS, Prepared
from central.metrics import INGEST_HOOK_ERRORS
from protocols.mqtt import topics
from protocols.mqtt.models import Event, Layout, Status, Telemetry

log = logging.getLogger("central.ingest.store")

_STAGING = {
    "grain_readings": ("_grain_in", GRAIN_COLUMNS),
    "air_readings": ("_air_in", AIR_COLUMNS),
}


@dataclass
class BatchResult:
    messages: int = 0
    grain_rows: int = 0          # newly stored (duplicates not counted)
    air_rows: int = 0
    dead_letters: int = 0
    scan_repeats: int = 0        # cable scans refused as re-stamped copies (batches.py)
    new_batches: list[tuple[str, int]] = field(default_factory=list)
    by_kind: dict[str, int] = field(default_factory=dict)


def ensure_staging(conn) -> None:
    """Session temp tables shaped like the readings tables, emptied at each commit."""
    for table, (staging, _) in _STAGING.items():
        conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {staging} "
                     f"(LIKE {table} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS")


def copy_rows(conn, table: str, data: bytes | list[tuple]) -> int:
    """Bulk-insert reading rows (COPY text, or tuples); returns how many were new.

    Fast path: COPY straight into the table inside a savepoint. Only when that hits a
    duplicate key (a redelivery) are the rows sent again through the staging table with
    ON CONFLICT DO NOTHING, so the common case costs one COPY and nothing more.
    """
    if not data:
        return 0
    staging, columns = _STAGING[table]
    cols = ", ".join(columns)
    with conn.cursor() as cur:
        try:
            with conn.transaction():
                _copy(cur, f"COPY {table} ({cols}) FROM STDIN", data)
                return cur.rowcount
        except psycopg.errors.UniqueViolation:
            pass
        _copy(cur, f"COPY {staging} ({cols}) FROM STDIN", data)
        cur.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {staging} "
                    "ON CONFLICT DO NOTHING")
        inserted = cur.rowcount
        cur.execute(f"TRUNCATE {staging}")
        return inserted


def _copy(cur, statement: str, data: bytes | list[tuple]) -> None:
    with cur.copy(statement) as copy:
        if isinstance(data, bytes):
            copy.write(data)
        else:
            for row in data:
                copy.write_row(row)


def store_dead_letters(conn, items: list[Prepared]) -> int:
    if not items:
        return 0
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO dead_letters (topic, payload, reason, field, depot, received_at) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            [(it.topic.replace("\x00", "\\0"), it.payload, str(it.error)[:2000],
              it.error.field if it.error else None, it.depot, it.received_at) for it in items],
        )
    return len(items)


def note_clock_skew(conn, items: list[Prepared]) -> None:
    rows = [(it.depot, it.received_at, _sent(it), it.skew_s, it.kind)
            for it in items if it.clock_ahead]
    if rows:
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO clock_skew_flags (depot, received_at, sent_at, skew_s, "
                            "topic_kind) VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING", rows)


def _sent(it: Prepared):
    msg = it.message
    return getattr(msg, "sent_at", None) or getattr(msg, "ts", None) or it.received_at


def _run_hook(conn, fn, depot: str, message, *, whole_batch: bool = False) -> None:
    """One hook in its own savepoint; a batch hook gets [(depot, telemetry, prepared), ...]."""
    try:
        with conn.transaction():
            if whole_batch:
                fn(conn, message)
            else:
                fn(conn, depot, message)
    except (psycopg.OperationalError, psycopg.InterfaceError):
        raise  # the connection is gone: the whole batch is retried
    except Exception:
        INGEST_HOOK_ERRORS.inc(hook=getattr(fn, "__name__", "hook"))
        log.exception("ingest hook %r failed for depot %s", fn, depot)


def _update_depots(conn, good: list[Prepared]) -> None:
    """last_seen, last_telemetry, clock skew and online-from-telemetry, one row per depot."""
    seen: dict[str, dict] = {}
    for it in good:
        d = seen.setdefault(it.depot, {"latest": it, "tel_at": None, "sent": None})
        if it.received_at >= d["latest"].received_at:
            d["latest"] = it
        if it.kind == topics.TELEMETRY:
            d["tel_at"] = max(filter(None, (d["tel_at"], it.received_at)))
            d["sent"] = max(filter(None, (d["sent"], it.message.sent_at)))
    if not seen:
        return
    depots = sorted(seen)
    latest = [seen[d]["latest"] for d in depots]
    registry.note_seen_many(
        conn, depots, [it.received_at for it in latest], [seen[d]["tel_at"] for d in depots],
        [seen[d]["sent"] for d in depots], [it.skew_s for it in latest],
        [it.clock_off for it in latest])


def store_batch(conn, items: list[Prepared], client_id: str = "",
                hooks: IngestHooks = NO_HOOKS, scan_window_s: float = 86400.0,
                layout_policy: LayoutPolicy = LayoutPolicy()) -> BatchResult:
    """Store every item in one transaction (the caller commits via this context);
    `scan_window_s`: how long a unit scan counter names one scan (batches.py)."""
    result = BatchResult(messages=len(items))
    good = [it for it in items if it.ok and not it.cleared]
    bad = [it for it in items if not it.ok]
    with conn.transaction():
        ensure_staging(conn)
        registry.ensure_depots(conn, [it.depot for it in good])
        for it in good:
            # Identity comes from provisioning: a disagreeing layout is kept aside (central/depots).
            if isinstance(it.message, Layout) and admit_layout(conn, it.message, it.received_at,
                                                                layout_policy):
                registry.apply_layout(conn, it.message)
        for it in good:
            if isinstance(it.message, Status):
                registry.apply_status(conn, it.message, it.received_at, it.retained)
        registry.store_events(conn, [(it.message, it.received_at) for it in good
                                     if isinstance(it.message, Event)])
        telemetry = [it for it in good if isinstance(it.message, Telemetry)]
        # One batch number carries the same readings every time it is delivered: copy each
        # once, so repeats inside this transaction do not force the slow path.
        unique = list({(it.depot, it.message.batch): it for it in reversed(telemetry)}.values())
        result.scan_repeats = refuse_repeated_scans(conn, unique, scan_window_s)
        result.grain_rows = copy_rows(conn, "grain_readings",
                                      b"".join(it.grain_copy for it in unique))
        result.air_rows = copy_rows(conn, "air_readings",
                                    b"".join(it.air_copy for it in unique))
        result.new_batches = record_batches(conn, telemetry)
        note_clock_skew(conn, good)
        result.dead_letters = store_dead_letters(conn, bad)
        _run_hooks(conn, hooks, good, telemetry, set(result.new_batches))
        for it in good:
            result.by_kind[it.kind] = result.by_kind.get(it.kind, 0) + 1
        # Last, so the depots' rows (which every worker touches) stay locked only briefly.
        _update_depots(conn, good)
        if client_id:
            conn.execute(
                """INSERT INTO ingest_workers (client_id, last_commit_at, messages_total,
                     rows_total, dead_letters_total) VALUES (%s, now(), %s, %s, %s)
                   ON CONFLICT (client_id) DO UPDATE SET last_commit_at = now(),
                     messages_total = ingest_workers.messages_total + EXCLUDED.messages_total,
                     rows_total = ingest_workers.rows_total + EXCLUDED.rows_total,
                     dead_letters_total = ingest_workers.dead_letters_total
                                          + EXCLUDED.dead_letters_total""",
                (client_id, len(items), result.grain_rows + result.air_rows, result.dead_letters))
    return result


def _run_hooks(conn, hooks: IngestHooks, good: list[Prepared], telemetry: list[Prepared],
               new: set) -> None:
    fresh: list[tuple[str, object, dict]] = []
    done: set = set()
    for it in telemetry:
        key = (it.message.depot, it.message.batch)
        if key in new and key not in done:
            done.add(key)
            fresh.append((it.depot, it.message, it.hook_data or {}))
    if fresh:
        for fn in hooks.batch:
            _run_hook(conn, fn, fresh[0][0], fresh, whole_batch=True)
    for it in good:
        if it.kind != topics.TELEMETRY:
            for fn in hooks.for_kind(it.kind):
                _run_hook(conn, fn, it.depot, it.message)


def store_dead_letter_only(conn, item: Prepared, reason: str) -> None:
    """File one message that the database refused (after the batch failed) as dead."""
    with conn.transaction():
        conn.execute(
            "INSERT INTO dead_letters (topic, payload, reason, field, depot, received_at) "
            "VALUES (%s, %s, %s, NULL, %s, %s)",
            (item.topic.replace("\x00", "\\0"), item.payload,
             (reason if reason.startswith("internal error") else f"database refused: {reason}")[:2000],
             item.depot, item.received_at),
        )
