-- Data integrity (issue 17): bounded batch gaps, and one stored copy per unit scan.

-- The time span of the readings each batch carried (the depot's clock): how long the depot
-- had to produce the batch numbers between two received batches.
ALTER TABLE batches ADD COLUMN IF NOT EXISTS first_ts timestamptz;
ALTER TABLE batches ADD COLUMN IF NOT EXISTS last_ts timestamptz;

-- Every jump between consecutive received batch numbers of a depot. A jump wider than the
-- depot could have produced in the time between the two batches (slack + rate x hours) is
-- an anomaly (a corrupt or absurd number), not a run of missing batches. Written once here:
-- the views below, central/ingest/batches.py and the API all read it.
CREATE OR REPLACE FUNCTION batch_jumps(rate_per_hour double precision, slack bigint)
RETURNS TABLE (depot text, after_batch bigint, batch bigint, missing bigint,
               hours double precision, plausible_max bigint, anomaly boolean)
LANGUAGE sql STABLE AS $$
    SELECT depot, prev_batch, batch, batch - prev_batch - 1, hours,
           slack + floor(rate_per_hour * hours)::bigint,
           batch - prev_batch - 1 > slack + floor(rate_per_hour * hours)::bigint
    FROM (SELECT depot, batch,
                 lag(batch) OVER w AS prev_batch,
                 greatest(0, extract(epoch FROM
                     coalesce(last_ts, sent_at, received_at)
                     - lag(coalesce(first_ts, sent_at, received_at)) OVER w) / 3600.0
                 )::double precision AS hours
          FROM batches
          WINDOW w AS (PARTITION BY depot ORDER BY batch)) j
    WHERE batch > prev_batch + 1
$$;

-- The same answers with the default bounds (settings batch_rate_max_per_hour,
-- batch_jump_slack), for ad-hoc SQL; the service passes its own settings to batch_jumps.
DROP VIEW IF EXISTS batch_gaps;
CREATE VIEW batch_gaps AS
    SELECT depot, after_batch + 1 AS first_missing, batch - 1 AS last_missing, missing
    FROM batch_jumps(3600, 1000) WHERE NOT anomaly;
CREATE OR REPLACE VIEW batch_anomalies AS
    SELECT depot, after_batch, batch, missing AS jump, plausible_max
    FROM batch_jumps(3600, 1000) WHERE anomaly;

-- The unit's scan counter (lst1812 register 4) of each stored cable scan that carried one.
-- A second scan with the same counter under another time within the window is a re-read of
-- the same scan stamped again, and is refused. Rows older than the window are pruned by
-- ingest as it goes, so the table holds about one window of scans.
CREATE TABLE IF NOT EXISTS scan_counters (
    depot           text NOT NULL,
    granary         text NOT NULL,
    cable           integer NOT NULL,
    scan_counter    integer NOT NULL CHECK (scan_counter BETWEEN 0 AND 65535),
    ts              timestamptz NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (depot, granary, cable, scan_counter)
);
CREATE INDEX IF NOT EXISTS scan_counters_received_idx ON scan_counters (received_at);

-- Repeats refused, per depot (the counter behind /metrics and the depot's report).
CREATE TABLE IF NOT EXISTS scan_repeats (
    depot           text PRIMARY KEY,
    refused         bigint NOT NULL DEFAULT 0,
    last_at         timestamptz NOT NULL DEFAULT now()
);
