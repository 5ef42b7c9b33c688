-- Reserve accounts (lots): lots that keep one granary for life, their movements, an
-- append-only ledger, settlements, reserve plans. Ledgers are kept at least 5 years: no
-- retention job touches these tables, and the ledger refuses UPDATE and DELETE.

CREATE TABLE IF NOT EXISTS lots (
    lot               text PRIMARY KEY CHECK (lot ~ '^[A-Za-z0-9_.-]{1,64}$'),
    depot             text NOT NULL REFERENCES depots (code),
    granary           text NOT NULL,
    category          text NOT NULL CHECK (category IN ('raw_grain', 'oilseed', 'edible_oil')),
    variety           text NOT NULL,
    harvest_year      integer CHECK (harvest_year BETWEEN 1900 AND 2200),
    card_established  date NOT NULL CHECK (extract(day FROM card_established) = 1),
    production_date   date,              -- finished grain (成品粮) only
    shelf_life_days   integer CHECK (shelf_life_days > 0),
    created_at        timestamptz NOT NULL DEFAULT now(),
    created_by        text NOT NULL,
    settled_at        timestamptz,
    settlement        jsonb,
    FOREIGN KEY (depot, granary) REFERENCES granaries (depot, granary)
);
CREATE INDEX IF NOT EXISTS lots_granary_idx ON lots (depot, granary);

CREATE TABLE IF NOT EXISTS lot_movements (
    id             bigserial PRIMARY KEY,
    lot            text NOT NULL REFERENCES lots (lot),
    direction      text NOT NULL CHECK (direction IN ('in', 'out')),
    date           date NOT NULL,
    quantity_t     numeric(14, 3) NOT NULL CHECK (quantity_t > 0),
    moisture_pct   numeric(7, 4) NOT NULL CHECK (moisture_pct >= 0 AND moisture_pct < 100),
    impurity_pct   numeric(7, 4) NOT NULL CHECK (impurity_pct >= 0 AND impurity_pct < 100),
    voucher        text NOT NULL,
    batch_code     text,                 -- inbound batch, traced to the lot
    correction_of  bigint REFERENCES lot_movements (id),
    created_at     timestamptz NOT NULL DEFAULT now(),
    created_by     text NOT NULL
);
CREATE INDEX IF NOT EXISTS lot_movements_lot_idx ON lot_movements (lot, id);

CREATE TABLE IF NOT EXISTS lot_ledger (
    id        bigserial PRIMARY KEY,
    lot       text NOT NULL,
    at        timestamptz NOT NULL DEFAULT now(),
    by_user   text NOT NULL,
    action    text NOT NULL,             -- created, movement, correction, transfer, settled
    detail    jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS lot_ledger_lot_idx ON lot_ledger (lot, id);

CREATE OR REPLACE FUNCTION grainlink_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: record a correction instead', TG_TABLE_NAME;
END $$;
DROP TRIGGER IF EXISTS lot_ledger_append_only ON lot_ledger;
CREATE TRIGGER lot_ledger_append_only BEFORE UPDATE OR DELETE ON lot_ledger
    FOR EACH ROW EXECUTE FUNCTION grainlink_append_only();
DROP TRIGGER IF EXISTS lot_movements_append_only ON lot_movements;
CREATE TRIGGER lot_movements_append_only BEFORE UPDATE OR DELETE ON lot_movements
    FOR EACH ROW EXECUTE FUNCTION grainlink_append_only();

-- A reserve plan: a quantity of a variety to hold in a region (6-digit code) or a depot.
CREATE TABLE IF NOT EXISTS reserve_plans (
    scope        text NOT NULL,          -- a region code or a depot code
    scope_kind   text NOT NULL CHECK (scope_kind IN ('region', 'depot')),
    variety      text NOT NULL,
    quantity_t   numeric(14, 3) NOT NULL CHECK (quantity_t >= 0),
    set_by       text NOT NULL,
    set_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, variety)
);
