-- A province's threshold floor (domain.md §10): the settings a province fixed, which no depot
-- or granary of the province may loosen. Changes recorded like the depots' own.
CREATE TABLE IF NOT EXISTS region_thresholds (
    region      text PRIMARY KEY,
    settings    jsonb NOT NULL DEFAULT '{}',
    updated_at  timestamptz NOT NULL DEFAULT now(),
    updated_by  text
);
CREATE TABLE IF NOT EXISTS region_threshold_changes (
    id          bigserial PRIMARY KEY,
    region      text NOT NULL,
    by_user     text NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    old         jsonb NOT NULL,
    new         jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS region_threshold_changes_region_idx ON region_threshold_changes (region, id);
