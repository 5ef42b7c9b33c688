"""Telemetry batch numbers per depot, the gaps between them, and one copy per unit scan.

Gaps: a depot numbers its telemetry messages 1, 2, 3, ...; a number missing between two
received ones is lost (or still buffered at the edge). A jump wider than the depot could
have produced in the time between the two batches (`batch_jump_slack` + `batch_rate_max_per_hour`
x hours, from the readings' times) is an anomaly (a corrupt or absurd number): it is listed
apart and not counted as missing, so one bad number cannot swamp the report. The SQL of the
bound lives once, in the `batch_jumps` function (migration 0040).

Scan counters: a cable scan that carries the unit's scan counter is stored once; the same
(depot, granary, cable, counter) under another time within `scan_counter_window_h` is a
re-read of that scan stamped again, and its readings are refused (counted, never stored).
Counters wrap at 65535, so past the window the same counter is a new scan.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

from central.metrics import REGISTRY

SCAN_REPEATS = REGISTRY.counter(
    "grainlink_ingest_scan_repeats_total",
    "cable scans refused: same unit scan counter already stored under another time")

DEFAULT_RATE_PER_HOUR = 3600.0
DEFAULT_SLACK = 1000


# The one model of both: the API answers with these (a dataclass is a FastAPI response model).
@dataclass(frozen=True)
class BatchGap:
    first_missing: int
    last_missing: int
    missing: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "missing", self.last_missing - self.first_missing + 1)


@dataclass(frozen=True)
class BatchAnomaly:
    """从 `after_batch` 到 `batch` 的跳变，超出该库自上一条消息以来可能产生的批号范围（异常，不算缺失）。"""
    after_batch: int
    batch: int
    plausible_max: int
    jump: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "jump", self.batch - self.after_batch - 1)


def _bounds(settings) -> tuple[float, int]:
    if settings is None:
        return DEFAULT_RATE_PER_HOUR, DEFAULT_SLACK
    return float(settings.batch_rate_max_per_hour), int(settings.batch_jump_slack)


def _jumps(conn, depot: str, settings, anomaly: bool, limit: int) -> list[tuple]:
    rate, slack = _bounds(settings)
    return conn.execute(
        "SELECT after_batch, batch, plausible_max FROM batch_jumps(%s, %s) "
        "WHERE depot = %s AND anomaly = %s ORDER BY after_batch LIMIT %s",
        (rate, slack, depot, anomaly, limit)).fetchall()


def batch_gaps(conn, depot: str, settings=None, limit: int = 1000) -> list[BatchGap]:
    """Ranges of batch numbers missing between the first and the last one received,
    anomalous jumps left out."""
    return [BatchGap(int(a) + 1, int(b) - 1) for a, b, _ in
            _jumps(conn, depot, settings, False, limit)]


def batch_anomalies(conn, depot: str, settings=None, limit: int = 1000) -> list[BatchAnomaly]:
    """Jumps too wide to be missing batches, listed apart from the gaps."""
    return [BatchAnomaly(int(a), int(b), int(m)) for a, b, m in
            _jumps(conn, depot, settings, True, limit)]


def as_dicts(items: list) -> list[dict]:
    return [asdict(i) for i in items]


def batch_summary(conn, depot: str, settings=None) -> dict:
    """First and last batch, how many received, missing (plausible gaps only), redelivered,
    and how many anomalous jumps."""
    rate, slack = _bounds(settings)
    first, last, received, redelivered = conn.execute(
        "SELECT min(batch), max(batch), count(*), count(*) FILTER (WHERE deliveries > 1) "
        "FROM batches WHERE depot = %s", (depot,)).fetchone()
    missing, anomalies = conn.execute(
        "SELECT coalesce(sum(missing) FILTER (WHERE NOT anomaly), 0), count(*) FILTER "
        "(WHERE anomaly) FROM batch_jumps(%s, %s) WHERE depot = %s",
        (rate, slack, depot)).fetchone()
    return {"first": first, "last": last, "received": received, "missing": int(missing),
            "redelivered": redelivered, "anomalies": int(anomalies)}


def _reading_span(message) -> tuple[datetime | None, datetime | None]:
    stamps = {s.ts for s in message.grain} | {a.ts for a in message.air}
    return (min(stamps), max(stamps)) if stamps else (None, None)


def record_batches(conn, items: list) -> list[tuple[str, int]]:
    """Record telemetry batch numbers (Prepared items); returns those seen the first time."""
    counts: dict[tuple[str, int], list] = {}
    for it in items:
        msg = it.message
        key = (msg.depot, msg.batch)
        entry = counts.get(key)
        if entry is None:
            entry = counts[key] = [msg.sent_at, it.received_at, 0, 0, *_reading_span(msg)]
        entry[2] = it.reading_count
        entry[3] += 1
    if not counts:
        return []
    keys = sorted(counts)
    columns = list(zip(*(counts[k] for k in keys), strict=True))
    with conn.cursor() as cur:
        cur.execute(
            """INSERT INTO batches (depot, batch, sent_at, received_at, count, deliveries,
                                    first_ts, last_ts)
               SELECT * FROM unnest(%s::text[], %s::bigint[], %s::timestamptz[],
                                    %s::timestamptz[], %s::int[], %s::int[],
                                    %s::timestamptz[], %s::timestamptz[])
               ON CONFLICT (depot, batch) DO UPDATE
                 SET deliveries = batches.deliveries + EXCLUDED.deliveries
               RETURNING depot, batch, (xmax = 0) AS inserted""",
            ([k[0] for k in keys], [k[1] for k in keys], *(list(c) for c in columns)),
        )
        return [(d, b) for d, b, inserted in cur.fetchall() if inserted]


def refuse_repeated_scans(conn, items: list, window_s: float) -> int:
    """Drop from `items` (telemetry Prepared, one per batch) the cable scans whose unit scan
    counter is already stored under another time within `window_s`; returns how many.

    The counters are claimed in one upsert that keeps the stored time unless it is older
    than the window (a wrapped counter), so two workers racing on the same scan agree.
    """
    claims: dict[tuple, datetime] = {}
    refused: dict[int, set[tuple]] = {}
    for n, it in enumerate(items):
        for scan in it.message.grain:
            if scan.scan_counter is None:
                continue
            key = (it.depot, scan.granary, scan.cable, scan.scan_counter)
            seen = claims.setdefault(key, scan.ts)
            if seen != scan.ts and abs((seen - scan.ts).total_seconds()) <= window_s:
                refused.setdefault(n, set()).add((scan.granary, scan.cable, scan.ts))
    if not claims:
        return 0
    keys = sorted(claims)
    stored = conn.execute(
        """INSERT INTO scan_counters (depot, granary, cable, scan_counter, ts)
           SELECT * FROM unnest(%(d)s::text[], %(g)s::text[], %(c)s::int[], %(n)s::int[],
                                %(t)s::timestamptz[])
           ON CONFLICT (depot, granary, cable, scan_counter) DO UPDATE SET
             ts = CASE WHEN abs(extract(epoch FROM EXCLUDED.ts - scan_counters.ts)) > %(w)s
                       THEN EXCLUDED.ts ELSE scan_counters.ts END,
             received_at = CASE WHEN abs(extract(epoch FROM EXCLUDED.ts - scan_counters.ts))
                                     > %(w)s THEN now() ELSE scan_counters.received_at END
           RETURNING depot, granary, cable, scan_counter, ts""",
        {"d": [k[0] for k in keys], "g": [k[1] for k in keys], "c": [k[2] for k in keys],
         "n": [k[3] for k in keys], "t": [claims[k] for k in keys], "w": float(window_s)},
    ).fetchall()
    kept = {tuple(r[:4]): r[4] for r in stored}
    for n, it in enumerate(items):
        for scan in it.message.grain:
            key = (it.depot, scan.granary, scan.cable, scan.scan_counter)
            if scan.scan_counter is not None and kept.get(key, scan.ts) != scan.ts:
                refused.setdefault(n, set()).add((scan.granary, scan.cable, scan.ts))
    _prune(conn, window_s)
    if not refused:
        return 0
    total = 0
    per_depot: dict[str, int] = {}
    for n, scans in refused.items():
        _drop_scans(items[n], scans)
        total += len(scans)
        per_depot[items[n].depot] = per_depot.get(items[n].depot, 0) + len(scans)
    for depot, count in sorted(per_depot.items()):
        SCAN_REPEATS.inc(count, depot=depot)
        conn.execute("INSERT INTO scan_repeats (depot, refused) VALUES (%s, %s) "
                     "ON CONFLICT (depot) DO UPDATE SET refused = scan_repeats.refused "
                     "+ EXCLUDED.refused, last_at = now()", (depot, count))
    return total


def _prune(conn, window_s: float) -> None:
    # A few rows per call keep the table near one window of scans without a job of its own.
    conn.execute(
        "DELETE FROM scan_counters WHERE ctid = ANY(ARRAY(SELECT ctid FROM scan_counters "
        "WHERE received_at < now() - make_interval(secs => %s) LIMIT 5000))", (window_s,))


def _drop_scans(item, scans: set[tuple]) -> None:
    """Remove the refused scans from the item's message and its COPY rows."""
    keep = [s for s in item.message.grain if (s.granary, s.cable, s.ts) not in scans]
    item.message = item.message.model_copy(update={"grain": keep})
    wanted = {(g, str(c), ts.isoformat()) for g, c, ts in scans}
    lines = item.grain_copy.decode().splitlines(keepends=True)
    kept_lines = [ln for ln in lines if tuple(ln.split("\t", 5)[i] for i in (1, 2, 4))
                  not in wanted]
    item.grain_copy = "".join(kept_lines).encode()
    item.grain_count = len(kept_lines)
