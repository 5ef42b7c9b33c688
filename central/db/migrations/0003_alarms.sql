-- Alarms (alarms helper): lifecycle, handling records, history, notification outbox,
-- threshold overrides and insect inspections. Times are timestamptz (UTC).

CREATE TABLE IF NOT EXISTS alarms (
    id                      bigserial PRIMARY KEY,
    depot                   text NOT NULL,
    granary                 text,                    -- NULL: about the depot (offline, camera)
    rule                    text NOT NULL,
    subject                 text NOT NULL,           -- P01, P01/C40, P01/C40/L3, @depot, a camera
    severity                text NOT NULL CHECK (severity IN ('warning', 'alarm')),
    state                   text NOT NULL DEFAULT 'active'
                                CHECK (state IN ('active', 'acknowledged', 'cleared')),
    value                   double precision,
    threshold               double precision,
    message                 text NOT NULL DEFAULT '',
    opened_at               timestamptz NOT NULL,
    updated_at              timestamptz NOT NULL,
    acknowledged_at         timestamptz,
    acknowledged_by         text,
    ack_note                text,
    cleared_at              timestamptz,
    condition_false_since   timestamptz              -- set while the condition is false
);
-- One open alarm per (depot, rule, subject): two workers racing to open it meet here and
-- the loser's INSERT ... ON CONFLICT turns into an update.
CREATE UNIQUE INDEX IF NOT EXISTS alarms_one_open_idx
    ON alarms (depot, rule, subject) WHERE state <> 'cleared';
CREATE INDEX IF NOT EXISTS alarms_open_depot_idx ON alarms (depot, rule) WHERE state <> 'cleared';
CREATE INDEX IF NOT EXISTS alarms_updated_idx ON alarms (updated_at DESC);

-- The abnormal-condition workflow: plan, approval, execution, result (who, when, what).
CREATE TABLE IF NOT EXISTS alarm_actions (
    id          bigserial PRIMARY KEY,
    alarm_id    bigint NOT NULL REFERENCES alarms (id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('plan', 'approve', 'execute', 'result')),
    text        text NOT NULL,
    by_user     text NOT NULL,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS alarm_actions_alarm_idx ON alarm_actions (alarm_id, id);

-- Every change of every alarm, in order.
CREATE TABLE IF NOT EXISTS alarm_history (
    id          bigserial PRIMARY KEY,
    alarm_id    bigint NOT NULL REFERENCES alarms (id) ON DELETE CASCADE,
    at          timestamptz NOT NULL,
    change      text NOT NULL,   -- opened updated escalated acknowledged action
                                 -- condition_false cleared
    by_user     text,            -- NULL: the rules engine
    severity    text NOT NULL,
    state       text NOT NULL,
    value       double precision,
    message     text
);
CREATE INDEX IF NOT EXISTS alarm_history_alarm_idx ON alarm_history (alarm_id, id);

-- Notifications to send (written in the same transaction as the change, so nothing is lost
-- and nothing slow happens inside ingest); a background thread fans them out.
CREATE TABLE IF NOT EXISTS alarm_outbox (
    id          bigserial PRIMARY KEY,
    alarm_id    bigint NOT NULL,
    depot       text NOT NULL,
    change      text NOT NULL,
    payload     jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    fanned_out  boolean NOT NULL DEFAULT false
);
CREATE INDEX IF NOT EXISTS alarm_outbox_new_idx ON alarm_outbox (id) WHERE NOT fanned_out;

-- One row per (notification, target): 'mqtt' or a webhook URL; retried with backoff.
CREATE TABLE IF NOT EXISTS alarm_deliveries (
    outbox_id       bigint NOT NULL REFERENCES alarm_outbox (id) ON DELETE CASCADE,
    target          text NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    failed_at       timestamptz,                 -- gave up after the last attempt
    last_error      text,
    PRIMARY KEY (outbox_id, target)
);
CREATE INDEX IF NOT EXISTS alarm_deliveries_due_idx ON alarm_deliveries (next_attempt_at)
    WHERE delivered_at IS NULL AND failed_at IS NULL;

-- Threshold overrides: granary '' = the whole depot. Settings as a JSON object of
-- central.rules.thresholds.Thresholds fields.
CREATE TABLE IF NOT EXISTS alarm_thresholds (
    depot       text NOT NULL,
    granary     text NOT NULL DEFAULT '',
    settings    jsonb NOT NULL DEFAULT '{}',
    updated_at  timestamptz NOT NULL DEFAULT now(),
    updated_by  text,
    PRIMARY KEY (depot, granary)
);
CREATE TABLE IF NOT EXISTS alarm_threshold_changes (
    id          bigserial PRIMARY KEY,
    depot       text NOT NULL,
    granary     text NOT NULL DEFAULT '',
    by_user     text NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    old         jsonb NOT NULL,
    new         jsonb NOT NULL
);

-- The newest scan evaluated per granary: an older scan delivered late is not evaluated
-- (it would re-open what a newer scan cleared).
-- Also what inspection_overdue needs, kept as each scan is evaluated (no readings scan).
CREATE TABLE IF NOT EXISTS alarm_scan_marks (
    depot               text NOT NULL,
    granary             text NOT NULL,
    scan_ts             timestamptz NOT NULL,
    max_c               double precision,        -- highest valid grain temperature
    last_complete_at    timestamptz,             -- newest scan with every layout cable
    PRIMARY KEY (depot, granary)
);

-- Insect inspections (虫粮检查) and the grade and deadline they give (domain.md §5).
CREATE TABLE IF NOT EXISTS insect_inspections (
    id                  bigserial PRIMARY KEY,
    depot               text NOT NULL,
    granary             text NOT NULL,
    inspected_on        date NOT NULL,
    pests_per_kg        double precision NOT NULL CHECK (pests_per_kg >= 0),
    major_per_kg        double precision NOT NULL CHECK (major_per_kg >= 0),
    quarantine_found    boolean NOT NULL DEFAULT false,
    species             text[] NOT NULL DEFAULT '{}',
    grain_temp_c        double precision,
    grade               text NOT NULL,
    deadline            date,
    treated_on          date,
    by_user             text NOT NULL,
    recorded_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS insect_inspections_granary_idx
    ON insect_inspections (depot, granary, inspected_on DESC, id DESC);
