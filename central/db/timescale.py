"""Every TimescaleDB-specific statement of the project, and nothing else.

Applied by `migrate` after the numbered migrations when the `timescaledb` extension is
available (needs TimescaleDB >= 2.13 for time zones in continuous aggregates and
`if_exists` on policy removal). Each statement is idempotent, and the policy statements are
re-run whenever the settings they depend on change (migrate compares a checksum). A
continuous aggregate is never dropped here (it may hold buckets whose raw chunks retention has
already dropped): changing `day_timezone` on TimescaleDB means rebuilding the daily
aggregates by hand.
"""

from __future__ import annotations

from central.db.aggregates import AGGREGATES, READING_TABLES, quote_literal

# Chunk size: a day of grain readings per chunk keeps a province's scan round (~20 M rows)
# in one or two chunks; air readings are ~1000x fewer.
CHUNK_INTERVAL = {"grain_readings": "1 day", "air_readings": "7 days"}
COMPRESS_SEGMENT_BY = {"grain_readings": "depot, granary", "air_readings": "depot"}
COMPRESS_ORDER_BY = {"grain_readings": "cable, layer, ts DESC",
                     "air_readings": "granary, place, ts DESC"}
# Compression rolls adjacent chunks into one compressed chunk of up to
# `settings.compress_rollup_days`, so each sensor's series in a compressed batch spans weeks
# rather than one day of scans: that run length, not the chunk size ingest needs, is what
# compresses a reading to a few bytes (bench/storage_per_reading.py). The price: with the
# time column not first in the order, each merge recompresses the roll-up so far, and
# retention drops raw data in steps of the roll-up.


def hypertable_statements() -> list[str]:
    out = ["CREATE EXTENSION IF NOT EXISTS timescaledb"]
    for table in READING_TABLES:
        out.append(
            f"SELECT create_hypertable('{table}', 'ts', "
            f"chunk_time_interval => INTERVAL '{CHUNK_INTERVAL[table]}', "
            "if_not_exists => TRUE, migrate_data => TRUE)"
        )
    return out


def compression_statements(compress_after_days: int, rollup_days: int = 1) -> list[str]:
    out = []
    for table in READING_TABLES:
        # Changing compression settings fails once chunks are compressed: enable it once.
        out.append(f"""DO $$
BEGIN
    IF NOT (SELECT compression_enabled FROM timescaledb_information.hypertables
            WHERE hypertable_schema = current_schema() AND hypertable_name = '{table}') THEN
        ALTER TABLE {table} SET (timescaledb.compress,
            timescaledb.compress_segmentby = '{COMPRESS_SEGMENT_BY[table]}',
            timescaledb.compress_orderby = '{COMPRESS_ORDER_BY[table]}');
    END IF;
END
$$""")
        out.append(f"ALTER TABLE {table} SET (timescaledb.compress_chunk_time_interval = "
                   f"'{int(rollup_days)} days')")
        out.append(f"SELECT remove_compression_policy('{table}', if_exists => TRUE)")
        out.append(
            f"SELECT add_compression_policy('{table}', INTERVAL '{int(compress_after_days)} days')"
        )
    return out


def retention_statements(raw_retention_days: int | None) -> list[str]:
    out = []
    for table in READING_TABLES:
        out.append(f"SELECT remove_retention_policy('{table}', if_exists => TRUE)")
        if raw_retention_days:
            out.append(
                f"SELECT add_retention_policy('{table}', INTERVAL '{int(raw_retention_days)} days')"
            )
    return out


def continuous_aggregate_statements(day_timezone: str, refresh_window_days: int) -> list[str]:
    out = []
    zone = quote_literal(day_timezone)
    for agg in AGGREGATES:
        if agg.daily:
            bucket = f"time_bucket(INTERVAL '1 day', ts, {zone})"
            end_offset, schedule = "INTERVAL '1 hour'", "INTERVAL '1 hour'"
        else:
            bucket = "time_bucket(INTERVAL '1 hour', ts)"
            end_offset, schedule = "INTERVAL '10 minutes'", "INTERVAL '10 minutes'"
        # WITH NO DATA: creating with data cannot run inside the migration's transaction;
        # the refresh policy fills it (group-by indexes are created by default). materialized_only = false adds the not yet
        # materialized recent rows at query time (real-time aggregation).
        out.append(
            f"CREATE MATERIALIZED VIEW IF NOT EXISTS {agg.name}\n"
            "WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS\n"
            f"{agg.select(bucket)}\nWITH NO DATA"
        )
        # start_offset stays below the raw retention (checked by Settings), or a refresh over
        # dropped raw chunks would empty the aggregate there.
        out.append(f"SELECT remove_continuous_aggregate_policy('{agg.name}', if_exists => TRUE)")
        out.append(
            f"SELECT add_continuous_aggregate_policy('{agg.name}', "
            f"start_offset => INTERVAL '{int(refresh_window_days)} days', "
            f"end_offset => {end_offset}, schedule_interval => {schedule})"
        )
    return out


def timescale_statements(settings) -> list[str]:
    """All statements of the TimescaleDB storage path for these settings, in order."""
    return [
        *hypertable_statements(),
        *compression_statements(settings.compress_after_days, settings.compress_rollup_days),
        *retention_statements(settings.raw_retention_days),
        *continuous_aggregate_statements(settings.day_timezone,
                                         settings.aggregate_refresh_window_days),
    ]
