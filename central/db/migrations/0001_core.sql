-- Core schema (central-ingest): depots and their layout, readings, status, batches, events,
-- dead letters. Every time is timestamptz (stored UTC). Readings carry no foreign keys: they
-- may arrive before the depot's layout, and a key check per row would slow the bulk load.

CREATE TABLE IF NOT EXISTS depots (
    code            text PRIMARY KEY CHECK (code ~ '^[A-Za-z0-9_-]{1,64}$'),
    name            text,
    province        text,                  -- GB/T 2260 codes from the layout's region
    city            text,
    county          text,
    timezone        text NOT NULL DEFAULT 'Asia/Shanghai',
    layout          jsonb,                 -- the last grainlink.layout/1 payload as received
    layout_at       timestamptz,           -- its generated_at
    state           text NOT NULL DEFAULT 'unknown' CHECK (state IN ('online', 'offline', 'unknown')),
    state_since     timestamptz,
    status_ts       timestamptz,           -- ts of the status message that set state
    last_seen       timestamptz,           -- receive time of the last message of any kind
    last_telemetry  timestamptz,           -- receive time of the last telemetry message
    clock_skew_s    double precision,      -- sent_at minus receive time of the last message
    clock_flagged   boolean NOT NULL DEFAULT false,
    registered_at   timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS depots_region_idx ON depots (province, city, county);

CREATE TABLE IF NOT EXISTS granaries (
    depot           text NOT NULL REFERENCES depots (code) ON DELETE CASCADE,
    granary         text NOT NULL,
    name            text,
    type            text,
    grain           text,
    storage_mode    text,
    length_m        double precision,
    width_m         double precision,
    grain_height_m  double precision,
    capacity_t      double precision,
    layer_depths_m  double precision[],
    cameras         text[] NOT NULL DEFAULT '{}',
    active          boolean NOT NULL DEFAULT true,   -- false once a layout no longer lists it
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (depot, granary)
);

CREATE TABLE IF NOT EXISTS cables (
    depot           text NOT NULL,
    granary         text NOT NULL,
    cable           integer NOT NULL CHECK (cable >= 1),
    "row"           integer,
    col             integer,
    x_m             double precision,
    y_m             double precision,
    layers          integer NOT NULL CHECK (layers >= 0),
    PRIMARY KEY (depot, granary, cable),
    FOREIGN KEY (depot, granary) REFERENCES granaries (depot, granary) ON DELETE CASCADE
);

-- One row per sensor reading. The key makes a redelivered reading land once.
-- flags: bit 1 = reading time implausible (future beyond the skew tolerance, or too old),
--        bit 2 = the depot's clock was off by more than the tolerance when it was sent.
CREATE TABLE IF NOT EXISTS grain_readings (
    depot           text NOT NULL,
    granary         text NOT NULL,
    cable           integer NOT NULL,
    layer           integer NOT NULL,
    ts              timestamptz NOT NULL,
    temp_c          real,                  -- NULL: no valid reading
    fault           boolean NOT NULL DEFAULT false,
    batch           bigint,
    flags           smallint NOT NULL DEFAULT 0,
    received_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (depot, granary, cable, layer, ts)
);

-- granary is '' for the depot's outdoor air (a key column cannot be NULL).
CREATE TABLE IF NOT EXISTS air_readings (
    depot           text NOT NULL,
    granary         text NOT NULL DEFAULT '',
    place           text NOT NULL CHECK (place IN ('indoor', 'outdoor')),
    ts              timestamptz NOT NULL,
    temp_c          real,
    rh_pct          real,
    batch           bigint,
    flags           smallint NOT NULL DEFAULT 0,
    received_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (depot, granary, place, ts)
);

-- Every status message (history) and the latest one per depot (depots.state/last_seen).
CREATE TABLE IF NOT EXISTS depot_status (
    depot           text NOT NULL,
    ts              timestamptz NOT NULL,
    state           text NOT NULL,
    agent_version   text,
    payload         jsonb NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (depot, ts, state)
);
CREATE OR REPLACE VIEW depot_status_latest AS
    SELECT DISTINCT ON (depot) * FROM depot_status ORDER BY depot, ts DESC, received_at DESC;

-- Telemetry batch numbers received per depot; count = readings (grain + air) in it.
CREATE TABLE IF NOT EXISTS batches (
    depot           text NOT NULL,
    batch           bigint NOT NULL,
    sent_at         timestamptz,
    received_at     timestamptz NOT NULL DEFAULT now(),
    count           integer NOT NULL DEFAULT 0,
    deliveries      integer NOT NULL DEFAULT 1,   -- > 1: redelivered
    PRIMARY KEY (depot, batch)
);

-- Missing batch numbers per depot between the first and the last received.
CREATE OR REPLACE VIEW batch_gaps AS
    SELECT depot, batch + 1 AS first_missing, next_batch - 1 AS last_missing,
           next_batch - batch - 1 AS missing
    FROM (SELECT depot, batch, lead(batch) OVER (PARTITION BY depot ORDER BY batch) AS next_batch
          FROM batches) b
    WHERE next_batch > batch + 1;

CREATE TABLE IF NOT EXISTS events (
    id              bigserial PRIMARY KEY,
    depot           text NOT NULL,
    ts              timestamptz NOT NULL,
    kind            text NOT NULL,
    subject         text NOT NULL DEFAULT '',  -- '' when the event names none
    detail          jsonb NOT NULL DEFAULT '{}',
    received_at     timestamptz NOT NULL DEFAULT now(),
    -- redeliveries of one event land once
    UNIQUE (depot, ts, kind, subject)
);
CREATE INDEX IF NOT EXISTS events_depot_ts_idx ON events (depot, ts DESC);

CREATE TABLE IF NOT EXISTS dead_letters (
    id              bigserial PRIMARY KEY,
    topic           text NOT NULL,
    payload         bytea NOT NULL,
    reason          text NOT NULL,
    field           text,
    depot           text,                  -- from the topic, when it names one
    received_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS dead_letters_received_idx ON dead_letters (received_at DESC);

-- Clock-skew observations beyond the tolerance (one row per offending message).
CREATE TABLE IF NOT EXISTS clock_skew_flags (
    depot           text NOT NULL,
    received_at     timestamptz NOT NULL,
    sent_at         timestamptz NOT NULL,
    skew_s          double precision NOT NULL,
    topic_kind      text NOT NULL,
    PRIMARY KEY (depot, received_at, sent_at)
);

-- Ingest bookkeeping per worker (client id): what it has committed, for ops and /metrics.
CREATE TABLE IF NOT EXISTS ingest_workers (
    client_id       text PRIMARY KEY,
    started_at      timestamptz NOT NULL DEFAULT now(),
    last_commit_at  timestamptz,
    messages_total  bigint NOT NULL DEFAULT 0,
    rows_total      bigint NOT NULL DEFAULT 0,
    dead_letters_total bigint NOT NULL DEFAULT 0
);

-- Last successful run of each scheduled job (aggregate refresh, offline check, retention).
CREATE TABLE IF NOT EXISTS job_runs (
    job             text PRIMARY KEY,
    last_run_at     timestamptz NOT NULL,
    last_ok         boolean NOT NULL,
    detail          text
);
