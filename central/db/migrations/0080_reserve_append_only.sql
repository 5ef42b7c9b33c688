-- Reserve records are never edited in place (issue 14): a batch's state, an approval's
-- decision and a user's job roles become records of their own, and "current" is the newest
-- record, read through views that keep the old table names and columns, so readers (reports,
-- ad-hoc SQL, the API's answers) see what they saw before. Also the data-completeness
-- aggregates (domain.md §11) that let a province's year answer without counting hours.

-- 1. Batch decisions: accepted, refused, sent to pretreatment. The newest one is the batch's
-- state; accepted and refused are final, and the unique index makes a second final decision
-- fail on the key rather than on a read-then-write check.
CREATE TABLE IF NOT EXISTS batch_decisions (
    id           bigserial PRIMARY KEY,
    code         text NOT NULL REFERENCES intake_batches (code),
    state        text NOT NULL CHECK (state IN ('accepted', 'refused', 'pretreatment')),
    lot          text REFERENCES lots (lot),
    movement_id  bigint REFERENCES lot_movements (id),
    decided_at   timestamptz NOT NULL DEFAULT now(),
    by_user      text NOT NULL,
    CHECK ((state = 'accepted') = (lot IS NOT NULL))
);
CREATE INDEX IF NOT EXISTS batch_decisions_code_idx ON batch_decisions (code, id);
CREATE UNIQUE INDEX IF NOT EXISTS batch_decisions_final_key ON batch_decisions (code)
    WHERE state IN ('accepted', 'refused');
CREATE INDEX IF NOT EXISTS batch_decisions_lot_idx ON batch_decisions (lot) WHERE lot IS NOT NULL;
DROP TRIGGER IF EXISTS batch_decisions_append_only ON batch_decisions;
CREATE TRIGGER batch_decisions_append_only BEFORE UPDATE OR DELETE ON batch_decisions
    FOR EACH ROW EXECUTE FUNCTION grainlink_append_only();

-- Existing data: every pretreatment step, then the batch's final decision from its columns
-- (ids ascending, so the newest row is the state the batch had).
INSERT INTO batch_decisions (code, state, decided_at, by_user)
SELECT s.code, 'pretreatment', s.at, s.by_user FROM batch_steps s
WHERE s.step = 'pretreatment' ORDER BY s.id;
INSERT INTO batch_decisions (code, state, lot, movement_id, decided_at, by_user)
SELECT b.code, b.state, CASE WHEN b.state = 'accepted' THEN b.lot END,
       CASE WHEN b.state = 'accepted' THEN b.movement_id END,
       coalesce(b.decided_at, b.created_at),
       coalesce((SELECT s.by_user FROM batch_steps s WHERE s.code = b.code AND s.step = b.state
                 ORDER BY s.id DESC LIMIT 1), b.created_by)
FROM intake_batches b
WHERE b.state IN ('accepted', 'refused')
   OR (b.state = 'pretreatment' AND NOT EXISTS (
          SELECT 1 FROM batch_steps s WHERE s.code = b.code AND s.step = 'pretreatment'))
ORDER BY b.arrived_at, b.code;

ALTER TABLE intake_batches RENAME TO intake_batch_records;
ALTER TABLE intake_batch_records DROP COLUMN state, DROP COLUMN lot, DROP COLUMN movement_id,
    DROP COLUMN decided_at;
DROP TRIGGER IF EXISTS intake_batch_records_append_only ON intake_batch_records;
CREATE TRIGGER intake_batch_records_append_only BEFORE UPDATE OR DELETE ON intake_batch_records
    FOR EACH ROW EXECUTE FUNCTION grainlink_append_only();
CREATE VIEW intake_batches AS
    SELECT r.code, r.depot, r.direction, r.category, r.variety, r.harvest_year, r.arrived_at,
           r.vehicle, coalesce(d.state, 'arrived') AS state, d.lot, d.movement_id, d.decided_at,
           r.created_by, r.created_at
    FROM intake_batch_records r
    LEFT JOIN LATERAL (SELECT x.state, x.lot, x.movement_id, x.decided_at FROM batch_decisions x
                       WHERE x.code = r.code ORDER BY x.id DESC LIMIT 1) d ON true;

-- 2. Approval decisions: one per request, its primary key the request's id, so of two
-- concurrent decisions the second fails on the key (the first one's action and decision
-- commit together; the second's action rolls back with it).
CREATE TABLE IF NOT EXISTS approval_decisions (
    approval_id  bigint PRIMARY KEY REFERENCES approvals (id),
    state        text NOT NULL CHECK (state IN ('approved', 'rejected')),
    decided_by   text NOT NULL,
    decided_at   timestamptz NOT NULL DEFAULT now(),
    note         text,
    result       jsonb
);
DROP TRIGGER IF EXISTS approval_decisions_append_only ON approval_decisions;
CREATE TRIGGER approval_decisions_append_only BEFORE UPDATE OR DELETE ON approval_decisions
    FOR EACH ROW EXECUTE FUNCTION grainlink_append_only();
INSERT INTO approval_decisions (approval_id, state, decided_by, decided_at, note, result)
SELECT id, state, decided_by, coalesce(decided_at, requested_at), note, result
FROM approvals WHERE state <> 'pending';

ALTER TABLE approvals RENAME TO approval_requests;
ALTER TABLE approval_requests DROP COLUMN state, DROP COLUMN decided_by, DROP COLUMN decided_at,
    DROP COLUMN note, DROP COLUMN result;
CREATE INDEX IF NOT EXISTS approval_requests_subject_idx ON approval_requests (subject, id);
DROP TRIGGER IF EXISTS approval_requests_append_only ON approval_requests;
CREATE TRIGGER approval_requests_append_only BEFORE UPDATE OR DELETE ON approval_requests
    FOR EACH ROW EXECUTE FUNCTION grainlink_append_only();
CREATE VIEW approvals AS
    SELECT r.id, r.kind, r.depot, r.region, r.subject, r.payload, r.reason, r.requested_by,
           r.requested_at, coalesce(d.state, 'pending') AS state, d.decided_by, d.decided_at,
           d.note, d.result
    FROM approval_requests r LEFT JOIN approval_decisions d ON d.approval_id = r.id;

-- 3. Job roles: grant and revoke records per (user, role, scope); a user holds the roles whose
-- newest record in the user's scope is a grant. The `job_roles` array is converted and dropped.
ALTER TABLE user_role_changes ADD COLUMN IF NOT EXISTS scope text;
UPDATE user_role_changes c SET scope = u.scope FROM users u WHERE u.name = c.name AND c.scope IS NULL;
ALTER TABLE user_role_changes ALTER COLUMN scope SET NOT NULL;
ALTER TABLE user_role_changes ADD CONSTRAINT user_role_changes_role_check
    CHECK (role IN ('keeper', 'inspector', 'manager', 'supervisor', 'admin'));
CREATE INDEX IF NOT EXISTS user_role_changes_key_idx ON user_role_changes (name, scope, role, id);
DROP TRIGGER IF EXISTS user_role_changes_append_only ON user_role_changes;
CREATE TRIGGER user_role_changes_append_only BEFORE UPDATE OR DELETE ON user_role_changes
    FOR EACH ROW EXECUTE FUNCTION grainlink_append_only();
CREATE VIEW user_roles_current AS
    SELECT name, scope, role, id FROM (
        SELECT DISTINCT ON (name, scope, role) name, scope, role, change, id
        FROM user_role_changes ORDER BY name, scope, role, id DESC) x
    WHERE change = 'grant';

-- Roles held now (the array) that the records do not show as held get a grant record, in the
-- array's order; roles the records show as held that the array lacks get a revoke record.
INSERT INTO user_role_changes (name, scope, change, role)
SELECT u.name, u.scope, 'grant', r.role
FROM users u, unnest(u.job_roles) WITH ORDINALITY AS r (role, n)
WHERE NOT EXISTS (SELECT 1 FROM user_roles_current c
                  WHERE c.name = u.name AND c.scope = u.scope AND c.role = r.role)
ORDER BY u.name, r.n;
INSERT INTO user_role_changes (name, scope, change, role)
SELECT c.name, c.scope, 'revoke', c.role
FROM user_roles_current c JOIN users u ON u.name = c.name AND u.scope = c.scope
WHERE NOT c.role = ANY (u.job_roles);
ALTER TABLE users DROP COLUMN job_roles;

-- 4. Data completeness (domain.md §11) pre-aggregated: granary-hours with at least one grain
-- scan per depot and UTC day, and per depot and month, kept by the `scan_completeness` job
-- from `grain_layer_hourly` (derived caches: rewritten when late readings arrive).
CREATE TABLE IF NOT EXISTS scan_day (
    depot          text NOT NULL,
    day            date NOT NULL,
    granary_hours  integer NOT NULL,
    PRIMARY KEY (depot, day)
);
CREATE TABLE IF NOT EXISTS scan_month (
    depot          text NOT NULL,
    month          date NOT NULL,
    granary_hours  bigint NOT NULL,
    PRIMARY KEY (depot, month)
);
CREATE INDEX IF NOT EXISTS scan_month_month_idx ON scan_month (month, depot);
-- Up to when the tables above are complete (the job's last window end); NULL: never run.
CREATE TABLE IF NOT EXISTS scan_completeness_state (
    one      boolean PRIMARY KEY DEFAULT true CHECK (one),
    through  timestamptz
);
INSERT INTO scan_completeness_state (one, through) VALUES (true, NULL) ON CONFLICT DO NOTHING;

-- 5. Plans: the plan in force is the newest record of `reserve_plan_history` per (kind, scope,
-- variety); `reserve_plans` becomes that view. A value set without a history record (before
-- migration 0010 kept one) is recorded first.
INSERT INTO reserve_plan_history (scope_kind, scope, variety, quantity_t, set_by, set_at)
SELECT p.scope_kind, p.scope, p.variety, p.quantity_t, p.set_by, p.set_at FROM reserve_plans p
WHERE p.quantity_t IS DISTINCT FROM (
    SELECT h.quantity_t FROM reserve_plan_history h WHERE h.scope_kind = p.scope_kind
      AND h.scope = p.scope AND h.variety = p.variety ORDER BY h.id DESC LIMIT 1);
DROP TABLE reserve_plans;
CREATE INDEX IF NOT EXISTS reserve_plan_history_key_idx ON reserve_plan_history (scope_kind, scope, variety, id);
ALTER TABLE reserve_plan_history ADD CONSTRAINT reserve_plan_history_quantity_check CHECK (quantity_t >= 0);
DROP TRIGGER IF EXISTS reserve_plan_history_append_only ON reserve_plan_history;
CREATE TRIGGER reserve_plan_history_append_only BEFORE UPDATE OR DELETE ON reserve_plan_history
    FOR EACH ROW EXECUTE FUNCTION grainlink_append_only();
CREATE VIEW reserve_plans AS
    SELECT DISTINCT ON (scope_kind, scope, variety) scope, scope_kind, variety, quantity_t, set_by, set_at
    FROM reserve_plan_history ORDER BY scope_kind, scope, variety, id DESC;

-- 6. Lots: the card (专卡) as established is `lot_cards`; a transfer to another granary, the
-- grade found at the first intake and the settlement at clear-out are records of their own,
-- and the view `lots` shows the lot as it stands (same columns as before). A lot is settled
-- once: `lot_settlements` is keyed by the lot.
CREATE TABLE IF NOT EXISTS lot_transfers (
    id            bigserial PRIMARY KEY,
    lot           text NOT NULL REFERENCES lots (lot),
    depot         text NOT NULL,
    from_granary  text NOT NULL,
    to_granary    text NOT NULL,
    approval_ref  text,
    at            timestamptz NOT NULL DEFAULT now(),
    by_user       text NOT NULL,
    FOREIGN KEY (depot, to_granary) REFERENCES granaries (depot, granary)
);
CREATE INDEX IF NOT EXISTS lot_transfers_lot_idx ON lot_transfers (lot, id);
CREATE TABLE IF NOT EXISTS lot_settlements (
    lot          text PRIMARY KEY REFERENCES lots (lot),
    depot        text NOT NULL,
    cleared_on   date NOT NULL,
    settlement   jsonb NOT NULL,
    settled_at   timestamptz NOT NULL DEFAULT now(),
    by_user      text NOT NULL
);
-- the settlement reports filter by the text date in the settlement, as they did on `lots`
CREATE INDEX IF NOT EXISTS lot_settlements_cleared_idx ON lot_settlements (depot, (settlement->>'cleared_on'));
CREATE TABLE IF NOT EXISTS lot_gradings (
    lot          text PRIMARY KEY REFERENCES lots (lot),
    grade        text NOT NULL,
    batch_code   text,
    at           timestamptz NOT NULL DEFAULT now()
);

-- Existing data: transfers from the lot ledger (oldest first), settlements from the rows.
INSERT INTO lot_transfers (lot, depot, from_granary, to_granary, approval_ref, at, by_user)
SELECT g.lot, l.depot, g.detail->>'from', g.detail->>'to', g.detail->>'approval_ref', g.at, g.by_user
FROM lot_ledger g JOIN lots l ON l.lot = g.lot
WHERE g.action = 'transfer' AND g.detail ? 'from' AND g.detail ? 'to'
ORDER BY g.id;
INSERT INTO lot_settlements (lot, depot, cleared_on, settlement, settled_at, by_user)
SELECT l.lot, l.depot, coalesce((l.settlement->>'cleared_on')::date, l.settled_at::date), l.settlement,
       l.settled_at,
       coalesce((SELECT g.by_user FROM lot_ledger g WHERE g.lot = l.lot AND g.action = 'settled'
                 ORDER BY g.id DESC LIMIT 1), l.created_by)
FROM lots l WHERE l.settled_at IS NOT NULL AND l.settlement IS NOT NULL;

ALTER TABLE lots RENAME TO lot_cards;
ALTER TABLE lot_cards RENAME COLUMN granary TO card_granary;
-- the card's granary is where the lot was before its first transfer
UPDATE lot_cards c SET card_granary = t.from_granary
FROM (SELECT DISTINCT ON (lot) lot, from_granary FROM lot_transfers ORDER BY lot, id) t
WHERE t.lot = c.lot;
ALTER TABLE lot_cards DROP COLUMN settled_at, DROP COLUMN settlement;
DROP TRIGGER IF EXISTS lot_cards_append_only ON lot_cards;
CREATE TRIGGER lot_cards_append_only BEFORE UPDATE OR DELETE ON lot_cards
    FOR EACH ROW EXECUTE FUNCTION grainlink_append_only();
DROP TRIGGER IF EXISTS lot_transfers_append_only ON lot_transfers;
CREATE TRIGGER lot_transfers_append_only BEFORE UPDATE OR DELETE ON lot_transfers
    FOR EACH ROW EXECUTE FUNCTION grainlink_append_only();
DROP TRIGGER IF EXISTS lot_settlements_append_only ON lot_settlements;
CREATE TRIGGER lot_settlements_append_only BEFORE UPDATE OR DELETE ON lot_settlements
    FOR EACH ROW EXECUTE FUNCTION grainlink_append_only();
DROP TRIGGER IF EXISTS lot_gradings_append_only ON lot_gradings;
CREATE TRIGGER lot_gradings_append_only BEFORE UPDATE OR DELETE ON lot_gradings
    FOR EACH ROW EXECUTE FUNCTION grainlink_append_only();
CREATE VIEW lots AS
    SELECT c.lot, c.depot, coalesce(t.to_granary, c.card_granary) AS granary, c.category, c.variety,
           c.harvest_year, c.card_established, c.production_date, c.shelf_life_days, c.created_at,
           c.created_by, s.settled_at, s.settlement, coalesce(c.grade, g.grade) AS grade, c.cell,
           c.packaged
    FROM lot_cards c
    LEFT JOIN (SELECT DISTINCT ON (lot) lot, to_granary FROM lot_transfers ORDER BY lot, id DESC) t
           ON t.lot = c.lot
    LEFT JOIN lot_settlements s ON s.lot = c.lot
    LEFT JOIN lot_gradings g ON g.lot = c.lot;

-- The same per region (the depot's most specific region code, as `stock_month_region`), and
-- the active granaries per region as of the job's last run, so a province's figures read a
-- few thousand rows instead of every depot's months and granaries.
CREATE TABLE IF NOT EXISTS scan_month_region (
    region         text NOT NULL,
    month          date NOT NULL,
    granary_hours  bigint NOT NULL,
    PRIMARY KEY (region, month)
);
CREATE TABLE IF NOT EXISTS granaries_region (
    region     text PRIMARY KEY,
    granaries  integer NOT NULL
);

-- 7. The monthly figures per region too (settlements, counts, batches), kept from the
-- per-depot tables by triggers (the delta of each insert or update goes to the depot's
-- region), so a province's year of figures reads the region rows, not 3,000 depots' months.
CREATE TABLE IF NOT EXISTS settlement_month_region (
    region text NOT NULL, month date NOT NULL,
    lots integer NOT NULL DEFAULT 0, quantity_in_t numeric(18, 3) NOT NULL DEFAULT 0,
    natural_loss_t numeric(18, 3) NOT NULL DEFAULT 0, over_loss_t numeric(18, 3) NOT NULL DEFAULT 0,
    accidents integer NOT NULL DEFAULT 0,
    PRIMARY KEY (region, month)
);
CREATE TABLE IF NOT EXISTS count_month_region (
    region text NOT NULL, month date NOT NULL,
    counted integer NOT NULL DEFAULT 0, agreeing integer NOT NULL DEFAULT 0,
    PRIMARY KEY (region, month)
);
CREATE TABLE IF NOT EXISTS batch_month_region (
    region text NOT NULL, month date NOT NULL, direction text NOT NULL,
    arrived integer NOT NULL DEFAULT 0, accepted integer NOT NULL DEFAULT 0,
    refused integer NOT NULL DEFAULT 0, pretreated integer NOT NULL DEFAULT 0,
    cycle_h_sum double precision NOT NULL DEFAULT 0, cycle_n integer NOT NULL DEFAULT 0,
    PRIMARY KEY (region, month, direction)
);

CREATE OR REPLACE FUNCTION grainlink_settlement_month_region() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE o settlement_month;
BEGIN
    IF TG_OP = 'UPDATE' THEN o := OLD; ELSE o := ROW(NEW.depot, NEW.month, 0, 0, 0, 0, 0); END IF;
    INSERT INTO settlement_month_region AS r (region, month, lots, quantity_in_t, natural_loss_t, over_loss_t, accidents)
    SELECT coalesce(d.county, d.city, d.province, ''), NEW.month, NEW.lots - o.lots,
           NEW.quantity_in_t - o.quantity_in_t, NEW.natural_loss_t - o.natural_loss_t,
           NEW.over_loss_t - o.over_loss_t, NEW.accidents - o.accidents
    FROM depots d WHERE d.code = NEW.depot
    ON CONFLICT (region, month) DO UPDATE SET lots = r.lots + EXCLUDED.lots,
        quantity_in_t = r.quantity_in_t + EXCLUDED.quantity_in_t,
        natural_loss_t = r.natural_loss_t + EXCLUDED.natural_loss_t,
        over_loss_t = r.over_loss_t + EXCLUDED.over_loss_t, accidents = r.accidents + EXCLUDED.accidents;
    RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS settlement_month_region ON settlement_month;
CREATE TRIGGER settlement_month_region AFTER INSERT OR UPDATE ON settlement_month
    FOR EACH ROW EXECUTE FUNCTION grainlink_settlement_month_region();

CREATE OR REPLACE FUNCTION grainlink_count_month_region() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE o count_month;
BEGIN
    IF TG_OP = 'UPDATE' THEN o := OLD; ELSE o := ROW(NEW.depot, NEW.month, 0, 0); END IF;
    INSERT INTO count_month_region AS r (region, month, counted, agreeing)
    SELECT coalesce(d.county, d.city, d.province, ''), NEW.month, NEW.counted - o.counted,
           NEW.agreeing - o.agreeing
    FROM depots d WHERE d.code = NEW.depot
    ON CONFLICT (region, month) DO UPDATE SET counted = r.counted + EXCLUDED.counted,
        agreeing = r.agreeing + EXCLUDED.agreeing;
    RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS count_month_region ON count_month;
CREATE TRIGGER count_month_region AFTER INSERT OR UPDATE ON count_month
    FOR EACH ROW EXECUTE FUNCTION grainlink_count_month_region();

CREATE OR REPLACE FUNCTION grainlink_batch_month_region() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE o batch_month;
BEGIN
    IF TG_OP = 'UPDATE' THEN o := OLD; ELSE o := ROW(NEW.depot, NEW.month, NEW.direction, 0, 0, 0, 0, 0, 0); END IF;
    INSERT INTO batch_month_region AS r (region, month, direction, arrived, accepted, refused, pretreated,
                                         cycle_h_sum, cycle_n)
    SELECT coalesce(d.county, d.city, d.province, ''), NEW.month, NEW.direction, NEW.arrived - o.arrived,
           NEW.accepted - o.accepted, NEW.refused - o.refused, NEW.pretreated - o.pretreated,
           NEW.cycle_h_sum - o.cycle_h_sum, NEW.cycle_n - o.cycle_n
    FROM depots d WHERE d.code = NEW.depot
    ON CONFLICT (region, month, direction) DO UPDATE SET arrived = r.arrived + EXCLUDED.arrived,
        accepted = r.accepted + EXCLUDED.accepted, refused = r.refused + EXCLUDED.refused,
        pretreated = r.pretreated + EXCLUDED.pretreated, cycle_h_sum = r.cycle_h_sum + EXCLUDED.cycle_h_sum,
        cycle_n = r.cycle_n + EXCLUDED.cycle_n;
    RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS batch_month_region ON batch_month;
CREATE TRIGGER batch_month_region AFTER INSERT OR UPDATE ON batch_month
    FOR EACH ROW EXECUTE FUNCTION grainlink_batch_month_region();

INSERT INTO settlement_month_region (region, month, lots, quantity_in_t, natural_loss_t, over_loss_t, accidents)
SELECT coalesce(d.county, d.city, d.province, ''), s.month, sum(s.lots), sum(s.quantity_in_t),
       sum(s.natural_loss_t), sum(s.over_loss_t), sum(s.accidents)
FROM settlement_month s JOIN depots d ON d.code = s.depot GROUP BY 1, 2
ON CONFLICT DO NOTHING;
INSERT INTO count_month_region (region, month, counted, agreeing)
SELECT coalesce(d.county, d.city, d.province, ''), c.month, sum(c.counted), sum(c.agreeing)
FROM count_month c JOIN depots d ON d.code = c.depot GROUP BY 1, 2
ON CONFLICT DO NOTHING;
INSERT INTO batch_month_region (region, month, direction, arrived, accepted, refused, pretreated, cycle_h_sum, cycle_n)
SELECT coalesce(d.county, d.city, d.province, ''), b.month, b.direction, sum(b.arrived), sum(b.accepted),
       sum(b.refused), sum(b.pretreated), sum(b.cycle_h_sum), sum(b.cycle_n)
FROM batch_month b JOIN depots d ON d.code = b.depot GROUP BY 1, 2, 3
ON CONFLICT DO NOTHING;
