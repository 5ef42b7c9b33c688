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

from central.db.aggregates import AGGREGATES, GRAIN_AGGREGATES, READING_TABLES, quote_literal

# Chunk size: a day of grain readings per chunk keeps a province's scan round (~20 M rows)
# in one or two chunks; air readings are ~1000x fewer.
CHUNK_INTERVAL = {"grain_readings": "1 day", "air_readings": "7 days"}
COMPRESS_SEGMENT_BY = {"grain_readings": "depot, granary", "air_readings": "depot"}
COMPRESS_ORDER_BY = {"grain_readings": "cable, layer, ts DESC",
                     "air_readings": "granary, place, ts DESC"}
# Compression rolls adjacent chunks into one compressed chunk of up to
# `settings.compress_rollup_days`, so each sensor's series in a compressed batch spans weeks
# rather than one day of scans: that run length, not the chunk size ingest needs, is what
# compresses a reading to under two bytes (bench/storage_per_reading.py, TimescaleDB 2.28,
# a month of a 20-granary depot: 1.70 B at 14 days, 1.46 B at 30). The price: with the
# time column not first in the order, each merge recompresses the roll-up so far (30 days
# of chunks compressed in 193 s at 14, 495 s at 30), a raw history decompresses the whole
# roll-up of its granary (summed per layer as it is read, central/api/history_queries.py:
# p95 20 ms at 7, 36 ms at 30; the per-key query before: 93 and 63 ms, load average 1-5),
# and retention drops raw data in steps of the roll-up.


def hypertable_statements() -> list[str]:
    out = ["CREATE EXTENSION IF NOT EXISTS timescaledb"]
    for table in READING_TABLES:
        out.append(
            f"SELECT create_hypertable('{table}', 'ts', "
            f"chunk_time_interval => INTERVAL '{CHUNK_INTERVAL[table]}', "
            "if_not_exists => TRUE, migrate_data => TRUE)"
        )
    return out


# TimescaleDB >= 2.2x adds sparse indexes of its own to each compressed batch, for grain
# readings a bloom filter over the primary key's (cable, layer, ts): measured 1.0 B/reading
# (bench/storage_columns.py), and with it 2.28 no longer rolls daily chunks up, so each
# sensor's run stays one day long (8.99 vs 2.26 B/reading in all, 7-day roll-up). The
# orderby's min/max per batch already prunes the history and latest-scan lookups; a
# redelivery into a compressed chunk decompresses its batch to check the key instead.
# Only future compressions follow (migration 0060 recompresses existing chunks). Not the
# empty list: with sparse_index = '' TimescaleDB 2.28.3 crashes (SIGSEGV) on a prepared
# point query of a partly compressed chunk; 'minmax(ts)' is what the orderby keeps anyway.
_SET_NO_SPARSE_INDEX = """BEGIN
        ALTER TABLE grain_readings SET (timescaledb.sparse_index = 'minmax(ts)');
    EXCEPTION WHEN invalid_parameter_value THEN  -- a TimescaleDB without the option
        RAISE NOTICE 'TimescaleDB % cannot leave out sparse indexes',
            (SELECT extversion FROM pg_extension WHERE extname = 'timescaledb');
    END;"""
NO_SPARSE_INDEX = f"""DO $$
BEGIN
    {_SET_NO_SPARSE_INDEX}
END
$$"""


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
        if table == "grain_readings":
            out.append(NO_SPARSE_INDEX)
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
    """The aggregates, then their refresh policies (last: see `split_before_policies`)."""
    out, policies = [], []
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
        policies.append(
            f"SELECT remove_continuous_aggregate_policy('{agg.name}', if_exists => TRUE)")
        policies.append(
            f"SELECT add_continuous_aggregate_policy('{agg.name}', "
            f"start_offset => INTERVAL '{int(refresh_window_days)} days', "
            f"end_offset => {end_offset}, schedule_interval => {schedule})"
        )
    return out + policies


def split_before_policies(statements: list[str]) -> tuple[list[str], list[str]]:
    """(everything up to the aggregates, their refresh policies): a rebuilt aggregate is
    filled (`rebuild_followup`) before its policy exists, as TimescaleDB refuses two
    overlapping refreshes at once."""
    for i, sql in enumerate(statements):
        if sql.startswith("SELECT remove_continuous_aggregate_policy"):
            return statements[:i], statements[i:]
    return statements, []


def timescale_statements(settings) -> list[str]:
    """All statements of the TimescaleDB storage path for these settings, in order."""
    return [
        *hypertable_statements(),
        *compression_statements(settings.compress_after_days, settings.compress_rollup_days),
        *retention_statements(settings.raw_retention_days),
        *continuous_aggregate_statements(settings.day_timezone,
                                         settings.aggregate_refresh_window_days),
    ]


# --- Migration 0060 (grain temperatures in hundredths, no received_at per reading) ----------
# A column type cannot change on a hypertable with compressed chunks, and decompressing a
# province's years at once would need ~80x their disk. So before 0060's file runs, the
# hypertable gets the new column and is converted one chunk at a time, each in its own
# transaction (decompress, fill, compress again), then the old column goes. The grain
# aggregates read temp_c, so they are rebuilt: the buckets whose raw chunks are gone
# (retention) are kept aside in `_grainlink_keep_<name>` and put back after the refresh
# (`rebuild_followup`); everything else is recomputed from the raw rows.
_REBUILD = "_grainlink_cagg_rebuild"
_HAS_TEMP_C = """EXISTS (SELECT 1 FROM information_schema.columns
               WHERE table_schema = current_schema() AND table_name = 'grain_readings'
                 AND column_name = 'temp_c')"""
# Two steps: PL/pgSQL plans a whole condition, so the view must not be named in the same
# expression that checks the extension is there (a fresh database has no extension yet).
_NOT_CONVERTIBLE = f"""IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb')
    THEN RETURN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM timescaledb_information.hypertables
                   WHERE hypertable_schema = current_schema()
                     AND hypertable_name = 'grain_readings') OR NOT {_HAS_TEMP_C} THEN
        RETURN;
    END IF;"""


def _hundredths_statements() -> list[str]:
    aggs = ", ".join(quote_literal(a) for a in GRAIN_AGGREGATES)
    prepare = f"""DO $$
DECLARE
    since timestamptz;
    agg text;
BEGIN
    {_NOT_CONVERTIBLE}
    -- Paused until the storage step adds them back: compression must not compress a chunk
    -- between its conversion steps, and retention must not drop chunks after `since` is
    -- recorded (their buckets would be lost from the rebuilt aggregates).
    PERFORM remove_compression_policy('grain_readings', if_exists => TRUE);
    PERFORM remove_retention_policy('grain_readings', if_exists => TRUE);
    {_SET_NO_SPARSE_INDEX}
    SELECT min(range_start) INTO since FROM timescaledb_information.chunks
        WHERE hypertable_schema = current_schema() AND hypertable_name = 'grain_readings';
    CREATE TABLE IF NOT EXISTS {_REBUILD} (name text PRIMARY KEY, since timestamptz);
    FOR agg IN SELECT view_name FROM timescaledb_information.continuous_aggregates
               WHERE view_schema = current_schema() AND view_name IN ({aggs}) LOOP
        EXECUTE format('CREATE TABLE %I AS SELECT * FROM %I WHERE bucket < %L',
                       '_grainlink_keep_' || agg, agg, coalesce(since, '-infinity'));
        INSERT INTO {_REBUILD} VALUES (agg, since);
        EXECUTE format('DROP MATERIALIZED VIEW %I', agg);
    END LOOP;
    ALTER TABLE grain_readings ADD COLUMN IF NOT EXISTS temp_x100 smallint;
    -- Dropped before the chunks are recompressed, so that none of them carries it again.
    ALTER TABLE grain_readings DROP COLUMN IF EXISTS received_at;
END
$$"""
    # One transaction per chunk (COMMIT in a top-level DO block): at most one chunk is ever
    # decompressed, and an interrupted run resumes where it stopped (temp_c IS NOT NULL).
    # temp_c is emptied as it is copied: a compressed batch of NULLs costs next to nothing,
    # so the recompressed history carries only temp_x100 (the column itself can only go once
    # every chunk is done, in `finish`). A chunk gone since the list was read (retention
    # that was already running) is skipped: the LOCK finds it missing, also after a wait.
    convert = f"""DO $$
DECLARE
    c record;
    compressed boolean;
BEGIN
    {_NOT_CONVERTIBLE}
    FOR c IN SELECT chunk_schema, chunk_name
             FROM timescaledb_information.chunks
             WHERE hypertable_schema = current_schema() AND hypertable_name = 'grain_readings'
             ORDER BY range_start LOOP
        BEGIN
            EXECUTE format('LOCK TABLE %I.%I IN SHARE UPDATE EXCLUSIVE MODE',
                           c.chunk_schema, c.chunk_name);
        EXCEPTION WHEN undefined_table THEN
            CONTINUE;
        END;
        SELECT is_compressed INTO compressed FROM timescaledb_information.chunks
            WHERE chunk_schema = c.chunk_schema AND chunk_name = c.chunk_name;
        IF compressed THEN
            PERFORM decompress_chunk(format('%I.%I', c.chunk_schema, c.chunk_name)::regclass,
                                     if_compressed => TRUE);
        END IF;
        EXECUTE format('UPDATE %I.%I SET temp_x100 = round(temp_c::numeric * 100)::smallint, '
                       'temp_c = NULL WHERE temp_c IS NOT NULL', c.chunk_schema, c.chunk_name);
        IF compressed THEN
            PERFORM compress_chunk(format('%I.%I', c.chunk_schema, c.chunk_name)::regclass,
                                   if_not_compressed => TRUE);
        END IF;
        COMMIT;
    END LOOP;
END
$$"""
    # Rolling upgrade: an ingest of the old version may have written rows with temp_c only
    # since their chunk was converted (ingest is meant to be stopped during migrate). The
    # lock stops further writes until temp_c is gone. Only chunks holding uncompressed rows
    # are looked at (catalog status: 1 compressed, 8 partly): an UPDATE through the
    # hypertable would decompress every compressed batch to test temp_c.
    finish = f"""DO $$
DECLARE
    ch record;
BEGIN
    {_NOT_CONVERTIBLE}
    LOCK TABLE grain_readings IN SHARE ROW EXCLUSIVE MODE;
    -- (to_regclass, not the `dropped` flag that TimescaleDB 2.28 no longer has)
    FOR ch IN SELECT to_regclass(format('%I.%I', k.schema_name, k.table_name)) AS rel,
                     k.status & 1 <> 0 AS compressed
              FROM _timescaledb_catalog.chunk k
              JOIN _timescaledb_catalog.hypertable h ON h.id = k.hypertable_id
              WHERE h.schema_name = current_schema() AND h.table_name = 'grain_readings'
                AND (k.status & 1 = 0 OR k.status & 8 <> 0)
                AND to_regclass(format('%I.%I', k.schema_name, k.table_name)) IS NOT NULL LOOP
        IF ch.compressed THEN
            PERFORM decompress_chunk(ch.rel, if_compressed => TRUE);
        END IF;
        EXECUTE format('UPDATE %s SET temp_x100 = round(temp_c::numeric * 100)::smallint '
                       'WHERE temp_x100 IS NULL AND temp_c IS NOT NULL', ch.rel);
        IF ch.compressed THEN
            PERFORM compress_chunk(ch.rel, if_not_compressed => TRUE);
        END IF;
    END LOOP;
    ALTER TABLE grain_readings DROP COLUMN temp_c;
END
$$"""
    return [prepare, convert, finish]


def _hundredths_due(conn) -> bool:
    """grain_readings is already a hypertable that still has temp_c (not a fresh database,
    where 0060 converts the plain table before it becomes a hypertable)."""
    if not conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'").fetchone():
        return False
    return conn.execute(f"""SELECT EXISTS (SELECT 1 FROM timescaledb_information.hypertables
                              WHERE hypertable_schema = current_schema()
                                AND hypertable_name = 'grain_readings') AND {_HAS_TEMP_C}"""
                        ).fetchone()[0]


_BEFORE_MIGRATION = {60: (_hundredths_due, _hundredths_statements)}


def before_migration(conn, version: int) -> list[str]:
    """TimescaleDB statements to run (each on its own, autocommit) before migration file
    `version`, when this database needs them; each also checks again for itself."""
    due, make = _BEFORE_MIGRATION.get(version, (None, None))
    return make() if due and due(conn) else []


def rebuild_followup(conn) -> list[str]:
    """After the storage step recreated the aggregates dropped by a conversion: fill them
    from the raw rows, put back the buckets kept aside, forget the bookkeeping."""
    if conn.execute("SELECT to_regclass(%s)", (_REBUILD,)).fetchone()[0] is None:
        return []
    out = []
    for name, since in conn.execute(f"SELECT name, since FROM {_REBUILD} ORDER BY name"
                                    ).fetchall():
        start = f"{quote_literal(since.isoformat())}::timestamptz" if since else "NULL"
        keep = f"_grainlink_keep_{name}"
        out.append(f"CALL refresh_continuous_aggregate('{name}', {start}, NULL)")
        out.append(f"""DO $$
DECLARE
    mat text;
    cols text;
BEGIN
    SELECT format('%I.%I', materialization_hypertable_schema, materialization_hypertable_name)
        INTO mat FROM timescaledb_information.continuous_aggregates
        WHERE view_schema = current_schema() AND view_name = '{name}';
    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols
        FROM pg_attribute WHERE attrelid = '{keep}'::regclass AND attnum > 0
        AND NOT attisdropped;
    EXECUTE format('INSERT INTO %s (%s) SELECT %s FROM {keep}', mat, cols, cols);
    DROP TABLE {keep};
    DELETE FROM {_REBUILD} WHERE name = '{name}';
END
$$""")
    out.append(f"DROP TABLE {_REBUILD}")
    return out
