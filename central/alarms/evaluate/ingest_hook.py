"""Scan-driven evaluation inside the ingest transaction: the alarm rules' ingest hooks
(central/ingest/hooks.py; central/wiring.py hands them to the worker).

For each new telemetry message: every granary in it is scanned by the scan rules and its
alarms raised/updated/marked false, in the same transaction as the readings (alarm state
never lags the data it came from, and a rolled-back batch leaves nothing behind). A scan
older than the newest already evaluated for that granary (a late redelivery) is stored but
not evaluated. Telemetry also proves the depot alive (depot_offline → condition false).

Most scans are quiet, and proving it is most of the work: `prepare_scans` (an ingest
telemetry preparer) computes each scan's figures as the message is decoded, while the
previous batch's transaction runs, so the transaction only compares them with the
thresholds (bench/alarms_latency.py compares ingest throughput with the rules on and off).

Status messages: a depot whose state is now 'offline' (the last will) raises depot_offline
at once; 'online' marks it false. Events: `camera_online` marks camera_offline false (the
scheduled job raises it once the hold time passed).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from central.alarms.evaluate.layout_cache import CACHE
from central.alarms.evaluate.quiet import is_quiet, summarize
from central.alarms.evaluate.scan_source import (
    MessageScan,
    build_scans,
    load_contexts,
    message_granaries,
    message_scans,
    stored_air_many,
)
from central.alarms.scheduled.checks import is_stuck_subject
from central.alarms.state import store
from central.alarms.state.thresholds_store import ThresholdBook
from central.rules.scan_rules import SCAN_RULES, evaluate_scan
from central.rules.time_rules import depot_offline


def not_stuck(subject: str) -> bool:
    """Scan rules manage every sensor_fault subject except the stuck-sensor ones (a scan
    cannot see that a value has not moved for days; the daily job owns those)."""
    return not is_stuck_subject(subject)


def _fresh_scans(conn, scans: list[tuple[str, str, datetime, float | None, bool]]
                 ) -> set[tuple[str, str]]:
    """Note each scan (depot, granary, time, max, complete or not) in one statement; returns
    the (depot, granary) pairs whose scan is not older than the newest already evaluated."""
    if not scans:
        return set()
    rows = conn.execute(
        """INSERT INTO alarm_scan_marks (depot, granary, scan_ts, max_c, last_complete_at)
           SELECT d, g, t, m, CASE WHEN c THEN t END
           FROM unnest(%(d)s::text[], %(g)s::text[], %(t)s::timestamptz[], %(m)s::float8[],
                       %(c)s::bool[]) AS u(d, g, t, m, c)
           ORDER BY d, g
           ON CONFLICT (depot, granary) DO UPDATE SET scan_ts = EXCLUDED.scan_ts,
             max_c = EXCLUDED.max_c,
             last_complete_at = coalesce(EXCLUDED.last_complete_at,
                                         alarm_scan_marks.last_complete_at)
           WHERE alarm_scan_marks.scan_ts <= EXCLUDED.scan_ts RETURNING depot, granary""",
        {"d": [s[0] for s in scans], "g": [s[1] for s in scans], "t": [s[2] for s in scans],
         "m": [s[3] for s in scans], "c": [s[4] for s in scans]}).fetchall()
    return {(d, g) for d, g in rows}


PREPARER = "alarms.scans"


def prepare_scans(msg) -> dict[str, MessageScan]:
    """The telemetry preparer: each granary's quiet-check figures, computed as the message
    is decoded with the layouts in memory (checked against the depot's revision later)."""
    return message_scans(msg, lambda granary: CACHE.peek(msg.depot, granary))


def _scans_of(msg, prepared: dict | None, ctx) -> dict[str, MessageScan]:
    """The message's MessageScans: the preparer's when they were built against the depot's
    current layout revision, else built now."""
    scans = (prepared or {}).get(PREPARER)
    if scans is None or any(ms.rev != ctx.revision for ms in scans.values()):
        scans = message_scans(msg, ctx.layout_of)
    return scans


def evaluate_batch(conn, items: list[tuple], now: datetime | None = None) -> list:
    """Run the scan rules on every granary of these telemetry messages (one ingest batch:
    (depot, telemetry) or (depot, telemetry, prepared) items); returns the alarm changes.

    A fixed number of statements for the whole batch, however many depots and alarms it
    holds: the context of every depot, the scan marks, and the alarm writes (layouts come
    from memory while unchanged). A quiet scan (quiet.py) skips the rules altogether, and
    when its message held every cable of the granary its figures were computed before the
    transaction (`prepare_scans`).

    When a batch holds several messages of one granary only the newest is evaluated: the
    readings of all of them are already in the table, and a part of a split scan round is
    completed from there (scan_source)."""
    now = now or datetime.now(UTC)
    granaries: dict[str, set[str]] = {}
    for depot, msg, *_ in items:
        granaries.setdefault(depot, set()).update(message_granaries(msg))
    contexts = load_contexts(conn, {d: sorted(g) for d, g in granaries.items()})
    newest: dict[tuple[str, str], tuple[MessageScan, object]] = {}
    for depot, msg, *prepared in items:
        ctx = contexts[depot]
        for granary, ms in _scans_of(msg, prepared[0] if prepared else None, ctx).items():
            key = (depot, granary)
            if key not in newest or newest[key][0].ts <= ms.ts:
                newest[key] = (ms, msg)
    checked = []  # (depot, granary, message, quiet, ScanInput or None)
    marks = []
    # indoor air of the scans whose message carried none (sent apart, or no sensor)
    air = stored_air_many(conn, "indoor", [
        (d, g, ms.ts - timedelta(minutes=contexts[d].book.for_granary(g).cable_silent_min), ms.ts)
        for (d, g), (ms, _) in newest.items() if ms.stats is not None and ms.indoor is None])
    for (depot, granary), (ms, msg) in sorted(newest.items(), key=lambda kv: kv[0]):
        ctx = contexts[depot]
        if ms.stats is not None:  # the message held the whole scan: no ScanInput needed
            th = ctx.book.for_granary(granary)
            layout = ctx.layouts.get(granary)
            indoor = ms.indoor or air.get((depot, granary), (None, None))
            quiet = is_quiet(ms.stats, th, layout.storage_mode if layout else "normal",
                             indoor, False)
            checked.append((depot, granary, msg, quiet, None))
            marks.append((depot, granary, ms.ts, ms.stats.max_c, True))
        else:
            inp = build_scans(conn, depot, msg, ctx, only={granary})[0]
            summary = summarize(inp)
            checked.append((depot, granary, msg, summary.quiet, inp))
            marks.append((depot, granary, inp.ts, summary.max_c, not inp.missing))
    fresh = _fresh_scans(conn, marks)
    reports = []
    for depot, granary, msg, quiet, inp in checked:
        if (depot, granary) not in fresh:
            continue
        ctx = contexts[depot]
        opened = ctx.open_in(granary, SCAN_RULES)
        if quiet and not any(opened.values()):
            continue  # nothing fires, nothing is open: nothing to write
        th = ctx.book.for_granary(granary)
        if quiet:
            by_rule = {rule: [] for rule in SCAN_RULES}
        else:
            inp = inp or build_scans(conn, depot, msg, ctx, only={granary})[0]
            by_rule = evaluate_scan(inp.scan, th)
        reports.append(store.Report(depot, granary, by_rule, opened, th.clear_hysteresis_min,
                                    not_stuck))
    for depot, ctx in sorted(contexts.items()):
        if ctx.open.get((None, "depot_offline")):  # telemetry proves the depot alive
            reports.append(store.Report(depot, None, {"depot_offline": []},
                                        {"depot_offline": {"@depot"}},
                                        ctx.book.for_granary(None).clear_hysteresis_min))
    return store.report_many(conn, reports, now)


def evaluate_telemetry(conn, depot: str, msg, now: datetime | None = None) -> list:
    """One message on its own: `evaluate_batch` of a batch of one."""
    return evaluate_batch(conn, [(depot, msg)], now)


def on_status(conn, depot: str, _msg, now: datetime | None = None) -> list:
    """The depot's state as ingest just stored it (an older retained copy does not count)."""
    now = now or datetime.now(UTC)
    row = conn.execute("SELECT state, last_telemetry FROM depots WHERE code = %s",
                       (depot,)).fetchone()
    if row is None:
        return []
    th = ThresholdBook.load(conn, depot).for_granary(None)
    if row[0] == "offline":
        finding = depot_offline("offline", row[1], now, th)
        return [store.raise_or_update(conn, depot, None, finding, now)]
    if row[0] == "online":
        return store.condition_false(conn, depot, "depot_offline", "@depot", now,
                                     th.clear_hysteresis_min)
    return []


def on_event(conn, depot: str, msg, now: datetime | None = None) -> list:
    if msg.kind != "camera_online" or not msg.subject:
        return []
    th = ThresholdBook.load(conn, depot).for_granary(None)
    return store.condition_false(conn, depot, "camera_offline", msg.subject, now,
                                 th.clear_hysteresis_min)
