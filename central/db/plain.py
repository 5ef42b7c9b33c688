"""The storage path on plain PostgreSQL (no TimescaleDB): BRIN indexes on time and the
aggregates as materialized views, refreshed by the `refresh_aggregates` job
(`central/jobs.py`) through `storage.refresh_aggregates`. Same view names and columns as the continuous aggregates."""

from __future__ import annotations

from central.db.aggregates import AGGREGATES, READING_TABLES, quote_literal


def plain_statements(settings) -> list[str]:
    out = []
    for table in READING_TABLES:
        # Rows arrive roughly in time order, so a BRIN index on ts is tiny and still prunes
        # time-range scans of years of data well.
        out.append(f"CREATE INDEX IF NOT EXISTS {table}_ts_brin ON {table} USING brin (ts)")
    zone = quote_literal(settings.day_timezone)
    for agg in AGGREGATES:
        if agg.daily:
            bucket = f"(date_trunc('day', ts AT TIME ZONE {zone}) AT TIME ZONE {zone})"
        else:
            bucket = "date_trunc('hour', ts)"
        # migrate re-runs this step only when these statements change (first run, or a new
        # definition or day_timezone): rebuild the view, it holds only derived data.
        out.append(f"DROP MATERIALIZED VIEW IF EXISTS {agg.name}")
        out.append(f"CREATE MATERIALIZED VIEW {agg.name} AS\n{agg.select(bucket)}")
        # A unique index lets the job refresh CONCURRENTLY (readers are never blocked).
        out.append(f"CREATE UNIQUE INDEX IF NOT EXISTS {agg.name}_key ON {agg.name} "
                   f"({agg.unique_columns})")
    return out
