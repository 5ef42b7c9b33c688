-- Reserve management (issue 14): job roles, lots with grade and finished grain, the three
-- ledgers and the aggregates they keep, intake batches, counts, approvals, plan history,
-- inspections. Records are appended; a change is a new row that supersedes the old one.

-- Job roles within the user's scope (domain.md §10). Old tokens keep working: their role
-- names map to job roles (province/city/county → supervisor, depot → keeper and manager).
ALTER TABLE users ADD COLUMN IF NOT EXISTS job_roles text[] NOT NULL DEFAULT '{}'
    CHECK (job_roles <@ ARRAY['keeper', 'inspector', 'manager', 'supervisor', 'admin']);
UPDATE users SET job_roles = CASE role
        WHEN 'admin' THEN ARRAY['admin']
        WHEN 'depot' THEN ARRAY['keeper', 'manager']
        ELSE ARRAY['supervisor'] END
    WHERE can_write AND job_roles = '{}';
CREATE TABLE IF NOT EXISTS user_role_changes (
    id        bigserial PRIMARY KEY,
    name      text NOT NULL REFERENCES users (name),
    change    text NOT NULL CHECK (change IN ('grant', 'revoke')),
    role      text NOT NULL,
    at        timestamptz NOT NULL DEFAULT now()
);

-- Lots: finished grain (成品粮), grade, an optional recorded cell of a split granary.
ALTER TABLE lots DROP CONSTRAINT IF EXISTS lots_category_check;
ALTER TABLE lots ADD CONSTRAINT lots_category_check
    CHECK (category IN ('raw_grain', 'oilseed', 'edible_oil', 'finished_grain'));
ALTER TABLE lots ADD COLUMN IF NOT EXISTS grade text;
ALTER TABLE lots ADD COLUMN IF NOT EXISTS cell text;
ALTER TABLE lots ADD COLUMN IF NOT EXISTS packaged boolean NOT NULL DEFAULT false;
CREATE INDEX IF NOT EXISTS lots_depot_idx ON lots (depot, lot);
ALTER TABLE lot_movements ADD COLUMN IF NOT EXISTS reason text;

-- The three ledgers (保管账, 统计账, 会计账): every movement posts to each; a correction posts
-- the reversal of its original and the new entry; a settlement posts the written-off loss.
CREATE TABLE IF NOT EXISTS reserve_ledger (
    id           bigserial PRIMARY KEY,
    ledger       text NOT NULL CHECK (ledger IN ('custody', 'statistics', 'accounting')),
    lot          text NOT NULL REFERENCES lots (lot),
    depot        text NOT NULL,
    variety      text NOT NULL,
    movement_id  bigint REFERENCES lot_movements (id),
    kind         text NOT NULL CHECK (kind IN ('in', 'out', 'loss')),
    entry_date   date NOT NULL,
    quantity_t   numeric(14, 3) NOT NULL,     -- negative in a reversal
    posted_at    timestamptz NOT NULL DEFAULT now(),
    posted_by    text NOT NULL
);
CREATE INDEX IF NOT EXISTS reserve_ledger_lot_idx ON reserve_ledger (lot, ledger);
DROP TRIGGER IF EXISTS reserve_ledger_append_only ON reserve_ledger;
CREATE TRIGGER reserve_ledger_append_only BEFORE UPDATE OR DELETE ON reserve_ledger
    FOR EACH ROW EXECUTE FUNCTION grainlink_append_only();

-- Kept by the statistics ledger: the book per lot and the monthly flows per depot and
-- variety, so stock lists and a province's month answer without summing five years.
CREATE TABLE IF NOT EXISTS lot_book (
    lot        text PRIMARY KEY REFERENCES lots (lot),
    in_t       numeric(16, 3) NOT NULL DEFAULT 0,
    out_t      numeric(16, 3) NOT NULL DEFAULT 0,
    loss_t     numeric(16, 3) NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS stock_month (
    depot      text NOT NULL,
    variety    text NOT NULL,
    month      date NOT NULL,
    in_t       numeric(16, 3) NOT NULL DEFAULT 0,
    out_t      numeric(16, 3) NOT NULL DEFAULT 0,
    loss_t     numeric(16, 3) NOT NULL DEFAULT 0,
    PRIMARY KEY (depot, variety, month)
);
CREATE INDEX IF NOT EXISTS stock_month_month_idx ON stock_month (month, depot);

CREATE OR REPLACE FUNCTION grainlink_reserve_aggregates() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    i numeric := CASE WHEN NEW.kind = 'in' THEN NEW.quantity_t ELSE 0 END;
    o numeric := CASE WHEN NEW.kind = 'out' THEN NEW.quantity_t ELSE 0 END;
    l numeric := CASE WHEN NEW.kind = 'loss' THEN NEW.quantity_t ELSE 0 END;
BEGIN
    IF NEW.ledger <> 'statistics' THEN
        RETURN NEW;
    END IF;
    INSERT INTO lot_book (lot, in_t, out_t, loss_t) VALUES (NEW.lot, i, o, l)
    ON CONFLICT (lot) DO UPDATE SET in_t = lot_book.in_t + i, out_t = lot_book.out_t + o,
                                    loss_t = lot_book.loss_t + l;
    INSERT INTO stock_month (depot, variety, month, in_t, out_t, loss_t)
    VALUES (NEW.depot, NEW.variety, date_trunc('month', NEW.entry_date)::date, i, o, l)
    ON CONFLICT (depot, variety, month) DO UPDATE SET in_t = stock_month.in_t + i,
        out_t = stock_month.out_t + o, loss_t = stock_month.loss_t + l;
    RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS reserve_ledger_aggregates ON reserve_ledger;
CREATE TRIGGER reserve_ledger_aggregates AFTER INSERT ON reserve_ledger
    FOR EACH ROW EXECUTE FUNCTION grainlink_reserve_aggregates();

-- Movements recorded before this migration post to the three ledgers now.
INSERT INTO reserve_ledger (ledger, lot, depot, variety, movement_id, kind, entry_date, quantity_t, posted_by)
SELECT g.ledger, l.lot, l.depot, l.variety, m.id, m.direction, m.date, m.quantity_t, m.created_by
FROM lot_movements m JOIN lots l ON l.lot = m.lot
CROSS JOIN (VALUES ('custody'), ('statistics'), ('accounting')) AS g (ledger)
WHERE NOT EXISTS (SELECT 1 FROM lot_movements c WHERE c.correction_of = m.id)
  AND NOT EXISTS (SELECT 1 FROM reserve_ledger r WHERE r.movement_id = m.id);

-- Intake and loading batches (来粮批次 / 出库批次): one batch, one sample, one code.
CREATE SEQUENCE IF NOT EXISTS intake_batch_seq;
CREATE TABLE IF NOT EXISTS intake_batches (
    code          text PRIMARY KEY,
    depot         text NOT NULL REFERENCES depots (code),
    direction     text NOT NULL CHECK (direction IN ('in', 'out')),
    category      text NOT NULL,
    variety       text NOT NULL,
    harvest_year  integer,
    arrived_at    timestamptz NOT NULL,
    vehicle       text,
    state         text NOT NULL DEFAULT 'arrived'
                  CHECK (state IN ('arrived', 'accepted', 'refused', 'pretreatment')),
    lot           text REFERENCES lots (lot),
    movement_id   bigint REFERENCES lot_movements (id),
    decided_at    timestamptz,
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS intake_batches_depot_idx ON intake_batches (depot, arrived_at);
CREATE TABLE IF NOT EXISTS batch_steps (
    id         bigserial PRIMARY KEY,
    code       text NOT NULL REFERENCES intake_batches (code),
    step       text NOT NULL,
    at         timestamptz NOT NULL DEFAULT now(),
    by_user    text NOT NULL,
    detail     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS batch_steps_code_idx ON batch_steps (code, id);
DROP TRIGGER IF EXISTS batch_steps_append_only ON batch_steps;
CREATE TRIGGER batch_steps_append_only BEFORE UPDATE OR DELETE ON batch_steps
    FOR EACH ROW EXECUTE FUNCTION grainlink_append_only();

-- Physical counts (实物检查): never edited; a later count of the lot supersedes.
CREATE TABLE IF NOT EXISTS stock_counts (
    id                    bigserial PRIMARY KEY,
    lot                   text NOT NULL REFERENCES lots (lot),
    depot                 text NOT NULL,
    count_date            date NOT NULL,
    method                text NOT NULL CHECK (method IN ('measure', 'bags')),
    inputs                jsonb NOT NULL,
    counted_t             numeric(14, 3) NOT NULL,
    book_t                numeric(14, 3) NOT NULL,
    moisture_reduction_t  numeric(14, 3) NOT NULL,
    impurity_reduction_t  numeric(14, 3) NOT NULL,
    natural_loss_t        numeric(14, 3) NOT NULL,
    adjusted_book_t       numeric(14, 3) NOT NULL,
    difference_pct        numeric(20, 2) NOT NULL,
    agrees                boolean NOT NULL,
    supersedes            bigint REFERENCES stock_counts (id),
    counted_by            text NOT NULL,
    recorded_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS stock_counts_lot_idx ON stock_counts (lot, id);
CREATE INDEX IF NOT EXISTS stock_counts_depot_idx ON stock_counts (depot, count_date);
DROP TRIGGER IF EXISTS stock_counts_append_only ON stock_counts;
CREATE TRIGGER stock_counts_append_only BEFORE UPDATE OR DELETE ON stock_counts
    FOR EACH ROW EXECUTE FUNCTION grainlink_append_only();

-- Four-eyes requests. The request's payload is what takes effect once approved.
CREATE TABLE IF NOT EXISTS approvals (
    id            bigserial PRIMARY KEY,
    kind          text NOT NULL,
    depot         text,                    -- the depot it concerns, or NULL for a region
    region        text,                    -- the region code it concerns (plans)
    subject       text NOT NULL,
    payload       jsonb NOT NULL,
    reason        text,
    requested_by  text NOT NULL,
    requested_at  timestamptz NOT NULL DEFAULT now(),
    state         text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'approved', 'rejected')),
    decided_by    text,
    decided_at    timestamptz,
    note          text,
    result        jsonb,
    CHECK ((state = 'pending') = (decided_by IS NULL))
);
CREATE INDEX IF NOT EXISTS approvals_state_idx ON approvals (state, id);

-- Plans keyed by kind and scope (issue 16 item 4): a depot plan never replaces a region plan.
ALTER TABLE reserve_plans DROP CONSTRAINT IF EXISTS reserve_plans_pkey;
ALTER TABLE reserve_plans ADD PRIMARY KEY (scope_kind, scope, variety);
CREATE TABLE IF NOT EXISTS reserve_plan_history (
    id           bigserial PRIMARY KEY,
    scope_kind   text NOT NULL,
    scope        text NOT NULL,
    variety      text NOT NULL,
    quantity_t   numeric(14, 3) NOT NULL,
    set_by       text NOT NULL,
    approved_by  text,
    approval_id  bigint REFERENCES approvals (id),
    set_at       timestamptz NOT NULL DEFAULT now()
);
INSERT INTO reserve_plan_history (scope_kind, scope, variety, quantity_t, set_by, set_at)
SELECT p.scope_kind, p.scope, p.variety, p.quantity_t, p.set_by, p.set_at FROM reserve_plans p
WHERE NOT EXISTS (SELECT 1 FROM reserve_plan_history h WHERE h.scope_kind = p.scope_kind
                  AND h.scope = p.scope AND h.variety = p.variety);

-- Keeper's rounds and supervisory inspections; a rectification is closed by a new row.
CREATE TABLE IF NOT EXISTS reserve_inspections (
    id                 bigserial PRIMARY KEY,
    depot              text NOT NULL REFERENCES depots (code),
    granary            text,
    kind               text NOT NULL CHECK (kind IN ('round', 'supervisory')),
    inspected_on       date NOT NULL,
    checks             jsonb NOT NULL DEFAULT '{}',
    findings           text,
    rectification_due  date,
    by_user            text NOT NULL,
    recorded_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS reserve_inspections_depot_idx ON reserve_inspections (depot, inspected_on);
CREATE TABLE IF NOT EXISTS inspection_closings (
    inspection_id  bigint PRIMARY KEY REFERENCES reserve_inspections (id),
    closed_on      date NOT NULL,
    note           text,
    by_user        text NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now()
);

-- Energy entered per depot and month, for energy per tonne handled (§11).
CREATE TABLE IF NOT EXISTS energy_entries (
    id         bigserial PRIMARY KEY,
    depot      text NOT NULL REFERENCES depots (code),
    month      date NOT NULL CHECK (extract(day FROM month) = 1),
    kwh        numeric(14, 1) NOT NULL CHECK (kwh >= 0),
    by_user    text NOT NULL,
    at         timestamptz NOT NULL DEFAULT now()
);

-- Settlements by clear-out date (figures and the settlement report of a period).
CREATE INDEX IF NOT EXISTS lots_cleared_on_idx ON lots (depot, (settlement->>'cleared_on'))
    WHERE settled_at IS NOT NULL;
-- Batches that went to pretreatment (the refusal figure counts them without reading every step).
CREATE INDEX IF NOT EXISTS batch_steps_pretreatment_idx ON batch_steps (code) WHERE step = 'pretreatment';
