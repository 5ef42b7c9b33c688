-- Grain readings in fewer bytes (issue 17, measured in bench/storage_columns.py):
-- * temp_c real -> temp_x100 smallint, exact hundredths of a degree. The contract rounds
--   temperatures to two decimals within -60..120 °C, so nothing is lost; TimescaleDB
--   compresses a slowly drifting integer (delta of deltas) to a fraction of what its float
--   compression (Gorilla) makes of 0.1 °C steps. Readers divide by 100.
-- * received_at leaves the row: it is the same for every reading of a batch and is kept
--   once per batch in `batches` (depot, batch), which the readings name by `batch`.
-- The key (depot, granary, cable, layer, ts) stays: it is what makes a redelivery land once.
--
-- Plain PostgreSQL path and fresh databases: converted here in one rewrite. The aggregate
-- views read temp_c and hold only derived data: dropped here, rebuilt by migrate's storage
-- step. On TimescaleDB, `central/db/timescale.py` (before_migration) has already converted
-- the hypertable chunk by chunk before this file runs (a column type cannot change on a
-- hypertable with compressed chunks), so the block below finds no temp_c and does nothing.
--
-- received_at goes first: the type change below rewrites the table, and a column dropped
-- before a rewrite leaves no bytes behind (dropped after, it would stay on disk).
ALTER TABLE grain_readings DROP COLUMN IF EXISTS received_at;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM information_schema.columns
               WHERE table_schema = current_schema() AND table_name = 'grain_readings'
                 AND column_name = 'temp_c') THEN
        DROP MATERIALIZED VIEW IF EXISTS grain_hourly, grain_daily, grain_layer_hourly,
                                         grain_layer_daily;
        ALTER TABLE grain_readings
            ALTER COLUMN temp_c TYPE smallint USING round(temp_c::numeric * 100)::smallint;
        ALTER TABLE grain_readings RENAME COLUMN temp_c TO temp_x100;
    END IF;
END
$$;

COMMENT ON COLUMN grain_readings.temp_x100 IS
    'grain temperature in hundredths of a degree Celsius (2150 = 21.50 °C); NULL: no valid reading';
