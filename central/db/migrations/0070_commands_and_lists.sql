-- Issue 15: commands to the edge kept in the database (they survive a restart of the API and
-- every API process shows the same list), and an index for the list pages' alarm counts.

CREATE TABLE IF NOT EXISTS depot_commands (
    id         uuid PRIMARY KEY,            -- the grainlink.cmd/1 id the edge answers with
    depot      text NOT NULL,
    action     text,                        -- NULL: a result for a command not issued here
    granary    text,
    issued_by  text,                        -- the user; NULL for the service's own commands
    issued_at  timestamptz,
    state      text NOT NULL DEFAULT 'sent' CHECK (state IN ('sent', 'done', 'failed')),
    ok         boolean,
    detail     text,
    done_at    timestamptz,                 -- the edge's clock (cmd/result's done_at)
    result_at  timestamptz                  -- when central received the result
);
-- the device page's list: a depot's latest, by when issued (or, for a result of a command not
-- issued through the API, when it arrived)
CREATE INDEX IF NOT EXISTS depot_commands_depot_idx
    ON depot_commands (depot, (coalesce(issued_at, result_at)) DESC);

-- The depot list counts each depot's active alarms (and sorts by that count).
CREATE INDEX IF NOT EXISTS alarms_active_depot_idx ON alarms (depot) WHERE state = 'active';
