-- Issue 14/15 review fixes: a depot that changes region takes its figures along; the unused
-- users.can_write goes; indexes for the completeness job's late-batch look-up and for the
-- cap on result-only command rows.

-- 1. The region totals (stock_month_region from 0011; settlement/count/batch/scan_month_region
-- from 0080) file each change under the depot's region at that moment. When a depot's region
-- changes (central/depots/store.py, an approved layout in central/ingest/registry.py) its
-- whole per-depot history moves from the old region's rows to the new region's, so a region's
-- figures keep equalling the sum of its depots'. The same region expression as the triggers.
CREATE OR REPLACE FUNCTION grainlink_depot_region_move() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_region text := coalesce(OLD.county, OLD.city, OLD.province, '');
    new_region text := coalesce(NEW.county, NEW.city, NEW.province, '');
    reg text;
    sgn integer;
BEGIN
    IF old_region = new_region THEN
        RETURN NEW;
    END IF;
    -- take the depot's contribution off the old region (-1), add it to the new one (+1)
    FOREACH reg IN ARRAY ARRAY[old_region, new_region] LOOP
        sgn := CASE WHEN reg = old_region THEN -1 ELSE 1 END;
        INSERT INTO stock_month_region AS r (region, variety, month, in_t, out_t, loss_t)
        SELECT reg, s.variety, s.month, sgn * s.in_t, sgn * s.out_t, sgn * s.loss_t
        FROM stock_month s WHERE s.depot = NEW.code
        ON CONFLICT (region, variety, month) DO UPDATE SET in_t = r.in_t + EXCLUDED.in_t,
            out_t = r.out_t + EXCLUDED.out_t, loss_t = r.loss_t + EXCLUDED.loss_t;
        INSERT INTO settlement_month_region AS r (region, month, lots, quantity_in_t, natural_loss_t,
                                                  over_loss_t, accidents)
        SELECT reg, s.month, sgn * s.lots, sgn * s.quantity_in_t, sgn * s.natural_loss_t,
               sgn * s.over_loss_t, sgn * s.accidents
        FROM settlement_month s WHERE s.depot = NEW.code
        ON CONFLICT (region, month) DO UPDATE SET lots = r.lots + EXCLUDED.lots,
            quantity_in_t = r.quantity_in_t + EXCLUDED.quantity_in_t,
            natural_loss_t = r.natural_loss_t + EXCLUDED.natural_loss_t,
            over_loss_t = r.over_loss_t + EXCLUDED.over_loss_t, accidents = r.accidents + EXCLUDED.accidents;
        INSERT INTO count_month_region AS r (region, month, counted, agreeing)
        SELECT reg, c.month, sgn * c.counted, sgn * c.agreeing
        FROM count_month c WHERE c.depot = NEW.code
        ON CONFLICT (region, month) DO UPDATE SET counted = r.counted + EXCLUDED.counted,
            agreeing = r.agreeing + EXCLUDED.agreeing;
        INSERT INTO batch_month_region AS r (region, month, direction, arrived, accepted, refused,
                                             pretreated, cycle_h_sum, cycle_n)
        SELECT reg, b.month, b.direction, sgn * b.arrived, sgn * b.accepted, sgn * b.refused,
               sgn * b.pretreated, sgn * b.cycle_h_sum, sgn * b.cycle_n
        FROM batch_month b WHERE b.depot = NEW.code
        ON CONFLICT (region, month, direction) DO UPDATE SET arrived = r.arrived + EXCLUDED.arrived,
            accepted = r.accepted + EXCLUDED.accepted, refused = r.refused + EXCLUDED.refused,
            pretreated = r.pretreated + EXCLUDED.pretreated,
            cycle_h_sum = r.cycle_h_sum + EXCLUDED.cycle_h_sum, cycle_n = r.cycle_n + EXCLUDED.cycle_n;
        INSERT INTO scan_month_region AS r (region, month, granary_hours)
        SELECT reg, m.month, sgn * m.granary_hours
        FROM scan_month m WHERE m.depot = NEW.code
        ON CONFLICT (region, month) DO UPDATE SET granary_hours = r.granary_hours + EXCLUDED.granary_hours;
    END LOOP;
    -- the active granaries of the two regions, counted again (as the job does for all)
    DELETE FROM granaries_region WHERE region IN (old_region, new_region);
    INSERT INTO granaries_region (region, granaries)
    SELECT coalesce(d.county, d.city, d.province, ''), count(*)
    FROM granaries g JOIN depots d ON d.code = g.depot
    WHERE g.active AND coalesce(d.county, d.city, d.province, '') IN (old_region, new_region)
    GROUP BY 1;
    RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS depot_region_move ON depots;
CREATE TRIGGER depot_region_move AFTER UPDATE OF province, city, county ON depots
    FOR EACH ROW EXECUTE FUNCTION grainlink_depot_region_move();

-- 2. Write access is holding a job role (central/users.py); nothing reads can_write any more.
ALTER TABLE users DROP COLUMN IF EXISTS can_write;

-- 3. The completeness job's look-up of the batches received since its last window
-- (central/figures/completeness.py) reads by received_at.
CREATE INDEX IF NOT EXISTS batches_received_idx ON batches (received_at);

-- 4. Results for commands central did not issue are capped per depot (central/commands/log.py);
-- the cap counts these rows of one depot.
CREATE INDEX IF NOT EXISTS depot_commands_result_only_idx ON depot_commands (depot) WHERE action IS NULL;
