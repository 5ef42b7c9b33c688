-- Depot identity from provisioning (issue 16.3, contracts/mqtt.md "Broker rules"): central
-- knows each depot's code and region before its first message; a layout that disagrees, or
-- is dated beyond the clock-skew allowance, waits in pending_layouts for a supervisor.

CREATE TABLE IF NOT EXISTS depot_registry (
    code            text PRIMARY KEY CHECK (code ~ '^[A-Za-z0-9_-]{1,64}$'),
    name            text,
    province        text NOT NULL CHECK (province ~ '^[0-9]{2}0000$'),
    city            text NOT NULL CHECK (city ~ '^[0-9]{4}00$'),
    county          text NOT NULL CHECK (county ~ '^[0-9]{6}$'),
    -- cli (`grainlink central depot add`), inventory (Ansible), approval (a supervisor
    -- approved a pending layout), auto (auto_provision), existing (registered before 0030)
    source          text NOT NULL CHECK (source IN ('cli', 'inventory', 'approval', 'auto', 'existing')),
    registered_at   timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (left(city, 2) = left(province, 2) AND left(county, 4) = left(city, 4))
);

CREATE TABLE IF NOT EXISTS pending_layouts (
    id              bigserial PRIMARY KEY,
    depot           text NOT NULL,
    -- unregistered | region_mismatch | region_inconsistent | future
    reason          text NOT NULL,
    detail          text NOT NULL,              -- for the supervisor, in Chinese
    layout          jsonb NOT NULL,
    digest          text NOT NULL,              -- sha256 of the layout: a retained copy
                                                -- delivered again is kept once
    generated_at    timestamptz,
    received_at     timestamptz NOT NULL,
    resolved_at     timestamptz,
    resolution      text CHECK (resolution IN ('approved', 'dismissed', 'superseded')),
    UNIQUE (depot, digest)
);
CREATE INDEX IF NOT EXISTS pending_layouts_open_idx ON pending_layouts (depot) WHERE resolved_at IS NULL;

-- Depots whose layout already registered them keep their region.
INSERT INTO depot_registry (code, name, province, city, county, source)
SELECT code, name, province, city, county, 'existing' FROM depots
 WHERE province ~ '^[0-9]{2}0000$' AND city ~ '^[0-9]{4}00$' AND county ~ '^[0-9]{6}$'
   AND left(city, 2) = left(province, 2) AND left(county, 4) = left(city, 4)
ON CONFLICT (code) DO NOTHING;

-- A layout dated in the future (9999) froze its depot's layout: let the next one through.
UPDATE depots SET layout_at = now() WHERE layout_at > now() + interval '1 day';
