"""Scan-driven evaluation inside the ingest transaction (see central/ingest/hooks.py).

For each new telemetry message: every granary in it is scanned by the scan rules and its
alarms raised/updated/marked false, in the same transaction as the readings (alarm state
never lags the data it came from, and a rolled-back batch leaves nothing behind). A scan
older than the newest already evaluated for that granary (a late redelivery) is stored but
not evaluated. Telemetry also proves the depot alive (depot_offline → condition false).

Status messages: a depot whose state is now 'offline' (the last will) raises depot_offline
at once; 'online' marks it false. Events: `camera_online` marks camera_offline false (the
scheduled job raises it once the hold time passed).
"""

from __future__ import annotations

from datetime import UTC, datetime

from central.alarms import store
from central.alarms.checks import is_stuck_subject
from central.alarms.quiet import Summary, summarize
from central.alarms.scan_source import ScanInput, build_scans, load_contexts, message_granaries
from central.alarms.thresholds_store import ThresholdBook
from central.ingest import hooks
from central.rules.scan_rules import SCAN_RULES, evaluate_scan
from central.rules.time_rules import depot_offline
from protocols.mqtt import topics


def not_stuck(subject: str) -> bool:
    """Scan rules manage every sensor_fault subject except the stuck-sensor ones (a scan
    cannot see that a value has not moved for days; the daily job owns those)."""
    return not is_stuck_subject(subject)


def _fresh_scans(conn, scans: list[tuple[str, ScanInput, Summary]]) -> set[tuple[str, str]]:
    """Note each scan (time, max, complete or not) in one statement; returns the
    (depot, granary) pairs whose scan is not older than the newest already evaluated."""
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
        {"d": [d for d, _, _ in scans], "g": [i.granary for _, i, _ in scans],
         "t": [i.ts for _, i, _ in scans], "m": [s.max_c for _, _, s in scans],
         "c": [not i.missing for _, i, _ in scans]}).fetchall()
    return {(d, g) for d, g in rows}


def evaluate_batch(conn, items: list[tuple[str, object]], now: datetime | None = None) -> list:
    """Run the scan rules on every granary of these telemetry messages (one ingest batch);
    returns the alarm changes. A fixed number of statements for the whole batch, however
    many depots and alarms it holds: the context of every depot, the scan marks, and the
    alarm writes (layouts come from memory while unchanged); a quiet scan (quiet.py) skips
    the rules altogether.

    When a batch holds several messages of one granary only the newest is evaluated: the
    readings of all of them are already in the table, and a part of a split scan round is
    completed from there (scan_source)."""
    now = now or datetime.now(UTC)
    granaries: dict[str, set[str]] = {}
    for depot, msg in items:
        granaries.setdefault(depot, set()).update(message_granaries(msg))
    contexts = load_contexts(conn, {d: sorted(g) for d, g in granaries.items()})
    newest: dict[tuple[str, str], ScanInput] = {}
    for depot, msg in items:
        for inp in build_scans(conn, depot, msg, contexts[depot]):
            key = (depot, inp.granary)
            if key not in newest or newest[key].ts <= inp.ts:
                newest[key] = inp
    ordered = [(key, inp, summarize(inp)) for key, inp in sorted(newest.items())]
    fresh = _fresh_scans(conn, [(key[0], inp, summary) for key, inp, summary in ordered])
    reports = []
    for (depot, granary), inp, summary in ordered:
        if (depot, granary) not in fresh:
            continue
        opened = contexts[depot].open_in(granary, SCAN_RULES)
        if summary.quiet and not any(opened.values()):
            continue  # nothing fires, nothing is open: nothing to write
        by_rule = ({rule: [] for rule in SCAN_RULES} if summary.quiet
                   else evaluate_scan(inp.scan, inp.th))
        reports.append(store.Report(depot, granary, by_rule, opened,
                                    inp.th.clear_hysteresis_min, not_stuck))
    for depot, ctx in sorted(contexts.items()):
        if ctx.open.get((None, "depot_offline")):  # telemetry proves the depot alive
            reports.append(store.Report(depot, None, {"depot_offline": []},
                                        {"depot_offline": {"@depot"}},
                                        ctx.book.for_granary(None).clear_hysteresis_min))
    return store.report_many(conn, reports, now)


def evaluate_telemetry(conn, depot: str, msg, now: datetime | None = None) -> list:
    """The per-message scan hook: `evaluate_batch` of one message."""
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


def _batch_hook(conn, items) -> None:
    evaluate_batch(conn, list(items))


# One call per ingest batch when ingest offers it (far fewer round trips), else per message.
_register_batch = getattr(hooks, "register_batch_scan_hook", None)
if _register_batch is not None:
    _register_batch(_batch_hook)
else:
    hooks.register_scan_hook(evaluate_telemetry)
hooks.register_message_hook(topics.STATUS, on_status)
hooks.register_message_hook(topics.EVENTS, on_event)
