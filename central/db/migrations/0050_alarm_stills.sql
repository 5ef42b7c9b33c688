-- Stills on alarm (issue 18): when a granary raises an alarm, central asks the depot's edge
-- for a still of that granary's cameras (one `snapshot` cmd) and keeps the stills that answer
-- with the alarm; a still kept with an alarm outlives the stills retention.

CREATE TABLE IF NOT EXISTS alarm_still_requests (
    alarm_id     bigint PRIMARY KEY REFERENCES alarms (id) ON DELETE CASCADE,
    depot        text NOT NULL,
    granary      text NOT NULL,
    cmd_id       uuid NOT NULL,
    requested_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS alarm_still_requests_granary_idx
    ON alarm_still_requests (depot, granary, requested_at DESC);

CREATE TABLE IF NOT EXISTS alarm_stills (
    alarm_id bigint NOT NULL REFERENCES alarms (id) ON DELETE CASCADE,
    still_id bigint NOT NULL REFERENCES camera_stills (id) ON DELETE CASCADE,
    PRIMARY KEY (alarm_id, still_id)
);
CREATE INDEX IF NOT EXISTS alarm_stills_still_idx ON alarm_stills (still_id);
