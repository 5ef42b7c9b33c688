-- A depot's layout revision, bumped in the same transaction as any change to its granaries
-- or cables, whoever writes them (layout ingest, an operator's SQL). The alarm evaluator keeps
-- layouts in memory between ingest batches and reloads one only when its revision moved, so a
-- quiet scan costs no layout query (central/alarms/layout_cache.py).

ALTER TABLE depots ADD COLUMN IF NOT EXISTS layout_rev bigint NOT NULL DEFAULT 0;

CREATE OR REPLACE FUNCTION grainlink_bump_layout_rev() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- Statement-level: one update per depot and statement, not per row.
    UPDATE depots SET layout_rev = layout_rev + 1
    WHERE code IN (SELECT DISTINCT depot FROM changed);
    RETURN NULL;
END
$$;

-- A trigger with a transition table takes one event, hence three per table.
DROP TRIGGER IF EXISTS granaries_layout_rev_ins ON granaries;
DROP TRIGGER IF EXISTS granaries_layout_rev_upd ON granaries;
DROP TRIGGER IF EXISTS granaries_layout_rev_del ON granaries;
DROP TRIGGER IF EXISTS cables_layout_rev_ins ON cables;
DROP TRIGGER IF EXISTS cables_layout_rev_upd ON cables;
DROP TRIGGER IF EXISTS cables_layout_rev_del ON cables;

CREATE TRIGGER granaries_layout_rev_ins AFTER INSERT ON granaries
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION grainlink_bump_layout_rev();
CREATE TRIGGER granaries_layout_rev_upd AFTER UPDATE ON granaries
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION grainlink_bump_layout_rev();
CREATE TRIGGER granaries_layout_rev_del AFTER DELETE ON granaries
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION grainlink_bump_layout_rev();
CREATE TRIGGER cables_layout_rev_ins AFTER INSERT ON cables
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION grainlink_bump_layout_rev();
CREATE TRIGGER cables_layout_rev_upd AFTER UPDATE ON cables
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION grainlink_bump_layout_rev();
CREATE TRIGGER cables_layout_rev_del AFTER DELETE ON cables
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION grainlink_bump_layout_rev();
