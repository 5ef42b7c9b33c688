"""Data completeness (domain.md §11) pre-aggregated, so any scope answers at once: a
province's year is 3,000 depots × 12 `scan_month` rows instead of millions of hourly buckets.

A granary-hour counts as received when the granary has at least one valid grain reading in
that UTC hour (`grain_layer_hourly`, on both storage paths). The `scan_completeness` job
(central/wiring.py) recounts the granary-hours of every depot per UTC day (`scan_day`) for
the days from `LOOKBACK` before its last window end up to the last whole hour, then the
months those days fall in (`scan_month`, and per region `scan_month_region`, with the
active granaries per region `granaries_region`), and records that end as `through`: the figures
count what was expected up to `through`, so a job that has not run yet for the last hour
does not read as missing data. Readings older than that (an edge's outbox drained after a long
outage) widen the window: each run also starts no later than the oldest reading of the
telemetry batches received since `LOOKBACK` before its last window end (`batches.first_ts`,
`received_at`), so late data is recounted by the next run.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

# How far back each run recounts: late readings (an edge's outbox after a short outage) and
# the plain path's aggregate refresh lag land within it.
LOOKBACK = timedelta(days=2)


def expected_hours(granaries: int, start: datetime, end: datetime, scan_interval_s: float) -> int:
    """Granary-hours expected between start and end: one scan per interval, at most one
    counted per hour (the aggregate's bucket)."""
    if end <= start or granaries <= 0:
        return 0
    return int(granaries * (end - start).total_seconds() // max(scan_interval_s, 3600.0))


def window(through: datetime | None, now: datetime, first_bucket: datetime | None,
           late: datetime | None = None) -> tuple[datetime, datetime] | None:
    """The hours one run recounts: from LOOKBACK before the last run's end (or the first
    bucket there is), or from `late` (the oldest reading received since) when that is older,
    to the last whole hour before now; None when there is nothing."""
    end = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    if through is not None:
        start = through - LOOKBACK if late is None else min(through - LOOKBACK, late)
    elif first_bucket is not None:
        start = first_bucket
    else:
        return None
    start = start.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return (start, end) if start < end else None


# A depot's region in the rollups: its most specific code, as in `stock_month_region`.
REGION_OF_DEPOT = "coalesce(d.county, d.city, d.province, '')"


def _month(d: date) -> date:
    return d.replace(day=1)


def recount(conn, now: datetime | None = None, *, since: datetime | None = None) -> dict:
    """Recount `scan_day` and `scan_month` for the job's window (or from `since`); returns
    what it did. Runs in one transaction."""
    now = now or datetime.now(UTC)
    with conn.transaction():
        # one run at a time: the window and `through` are read and written together
        through = conn.execute("SELECT through FROM scan_completeness_state FOR UPDATE").fetchone()[0]
        first = None
        if through is None and since is None:
            first = conn.execute("SELECT min(bucket) FROM grain_layer_hourly").fetchone()[0]
        # the oldest reading of the batches received since the last window (less LOOKBACK:
        # a batch committed while the last run read, or the plain path's aggregate refresh
        # lag, is covered twice rather than missed)
        late = None
        if through is not None:
            late = conn.execute(
                "SELECT min(coalesce(first_ts, sent_at)) FROM batches WHERE received_at >= %s",
                (through - LOOKBACK,)).fetchone()[0]
        span = window(since + LOOKBACK if since else through, now, first, late)
        if span is None:
            return {"days": 0, "months": 0, "through": through}
        start, end = span
        days = conn.execute(
            """INSERT INTO scan_day AS s (depot, day, granary_hours)
               SELECT depot, (bucket AT TIME ZONE 'UTC')::date, count(DISTINCT (granary, bucket))
               FROM grain_layer_hourly WHERE bucket >= %(s)s AND bucket < %(e)s
               GROUP BY 1, 2
               ON CONFLICT (depot, day) DO UPDATE SET granary_hours = EXCLUDED.granary_hours
                   WHERE s.granary_hours IS DISTINCT FROM EXCLUDED.granary_hours""",
            {"s": start, "e": end}).rowcount
        months = conn.execute(
            """INSERT INTO scan_month AS m (depot, month, granary_hours)
               SELECT depot, date_trunc('month', day)::date, sum(granary_hours)
               FROM scan_day WHERE day >= %(ms)s AND day < %(e)s
               GROUP BY 1, 2
               ON CONFLICT (depot, month) DO UPDATE SET granary_hours = EXCLUDED.granary_hours
                   WHERE m.granary_hours IS DISTINCT FROM EXCLUDED.granary_hours""",
            {"ms": _month(start.date()), "e": end}).rowcount
        # the region rollups: the months just recounted, and every region's granaries now
        # (what `through`'s expected hours are counted with)
        conn.execute(
            f"""INSERT INTO scan_month_region AS m (region, month, granary_hours)
                SELECT {REGION_OF_DEPOT}, s.month, sum(s.granary_hours)
                FROM scan_month s JOIN depots d ON d.code = s.depot
                WHERE s.month >= %(ms)s AND s.month < %(e)s GROUP BY 1, 2
                ON CONFLICT (region, month) DO UPDATE SET granary_hours = EXCLUDED.granary_hours
                    WHERE m.granary_hours IS DISTINCT FROM EXCLUDED.granary_hours""",
            {"ms": _month(start.date()), "e": end})
        conn.execute("DELETE FROM granaries_region")
        conn.execute(f"""INSERT INTO granaries_region (region, granaries)
                         SELECT {REGION_OF_DEPOT}, count(*) FROM granaries g JOIN depots d ON d.code = g.depot
                         WHERE g.active GROUP BY 1""")
        new_through = max(end, through) if through else end
        conn.execute("UPDATE scan_completeness_state SET through = %s", (new_through,))
    return {"days": days, "months": months, "through": new_through}


def completeness_job(conn, settings) -> dict:
    """The scheduled job (hourly)."""
    return recount(conn)
