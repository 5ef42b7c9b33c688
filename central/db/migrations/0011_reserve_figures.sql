-- Pre-aggregated monthly figures (domain.md §11) so a province's year answers without reading
-- a million batches or every settlement: kept by the stores as batches and lots change.

-- Batches by the month they arrived: arrivals, decisions, pretreatments, intake cycle time.
CREATE TABLE IF NOT EXISTS batch_month (
    depot        text NOT NULL,
    month        date NOT NULL,
    direction    text NOT NULL,
    arrived      integer NOT NULL DEFAULT 0,
    accepted     integer NOT NULL DEFAULT 0,
    refused      integer NOT NULL DEFAULT 0,
    pretreated   integer NOT NULL DEFAULT 0,
    cycle_h_sum  double precision NOT NULL DEFAULT 0,
    cycle_n      integer NOT NULL DEFAULT 0,
    PRIMARY KEY (depot, month, direction)
);
CREATE INDEX IF NOT EXISTS batch_month_month_idx ON batch_month (month);

INSERT INTO batch_month (depot, month, direction, arrived, accepted, refused, pretreated, cycle_h_sum, cycle_n)
SELECT b.depot, date_trunc('month', b.arrived_at)::date, b.direction, count(*),
       count(*) FILTER (WHERE b.state = 'accepted'), count(*) FILTER (WHERE b.state = 'refused'),
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM batch_steps s WHERE s.code = b.code AND s.step = 'pretreatment')),
       coalesce(sum(extract(epoch FROM b.decided_at - b.arrived_at) / 3600) FILTER (WHERE b.state = 'accepted'), 0),
       count(*) FILTER (WHERE b.state = 'accepted')
FROM intake_batches b
GROUP BY 1, 2, 3
ON CONFLICT DO NOTHING;

-- Settlements by the month of clear-out.
CREATE TABLE IF NOT EXISTS settlement_month (
    depot            text NOT NULL,
    month            date NOT NULL,
    lots             integer NOT NULL DEFAULT 0,
    quantity_in_t    numeric(18, 3) NOT NULL DEFAULT 0,
    natural_loss_t   numeric(18, 3) NOT NULL DEFAULT 0,
    over_loss_t      numeric(18, 3) NOT NULL DEFAULT 0,
    accidents        integer NOT NULL DEFAULT 0,
    PRIMARY KEY (depot, month)
);
CREATE INDEX IF NOT EXISTS settlement_month_month_idx ON settlement_month (month);

INSERT INTO settlement_month (depot, month, lots, quantity_in_t, natural_loss_t, over_loss_t, accidents)
SELECT depot, date_trunc('month', (settlement->>'cleared_on')::date)::date, count(*),
       sum((settlement->>'quantity_in_t')::numeric), sum((settlement->>'natural_loss_t')::numeric),
       sum((settlement->>'over_loss_t')::numeric),
       count(*) FILTER (WHERE (settlement->>'storage_accident')::boolean)
FROM lots WHERE settled_at IS NOT NULL
GROUP BY 1, 2
ON CONFLICT DO NOTHING;

-- Monthly flows per region (the depot's most specific region code when it was booked) and
-- variety: a province's month or year reads a few thousand rows, not every depot's.
CREATE TABLE IF NOT EXISTS stock_month_region (
    region     text NOT NULL,
    variety    text NOT NULL,
    month      date NOT NULL,
    in_t       numeric(18, 3) NOT NULL DEFAULT 0,
    out_t      numeric(18, 3) NOT NULL DEFAULT 0,
    loss_t     numeric(18, 3) NOT NULL DEFAULT 0,
    PRIMARY KEY (region, variety, month)
);
INSERT INTO stock_month_region (region, variety, month, in_t, out_t, loss_t)
SELECT coalesce(d.county, d.city, d.province, ''), s.variety, s.month, sum(s.in_t), sum(s.out_t), sum(s.loss_t)
FROM stock_month s JOIN depots d ON d.code = s.depot
GROUP BY 1, 2, 3
ON CONFLICT DO NOTHING;

CREATE OR REPLACE FUNCTION grainlink_reserve_aggregates() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    i numeric := CASE WHEN NEW.kind = 'in' THEN NEW.quantity_t ELSE 0 END;
    o numeric := CASE WHEN NEW.kind = 'out' THEN NEW.quantity_t ELSE 0 END;
    l numeric := CASE WHEN NEW.kind = 'loss' THEN NEW.quantity_t ELSE 0 END;
    m date := date_trunc('month', NEW.entry_date)::date;
BEGIN
    IF NEW.ledger <> 'statistics' THEN
        RETURN NEW;
    END IF;
    INSERT INTO lot_book (lot, in_t, out_t, loss_t) VALUES (NEW.lot, i, o, l)
    ON CONFLICT (lot) DO UPDATE SET in_t = lot_book.in_t + i, out_t = lot_book.out_t + o,
                                    loss_t = lot_book.loss_t + l;
    INSERT INTO stock_month (depot, variety, month, in_t, out_t, loss_t)
    VALUES (NEW.depot, NEW.variety, m, i, o, l)
    ON CONFLICT (depot, variety, month) DO UPDATE SET in_t = stock_month.in_t + i,
        out_t = stock_month.out_t + o, loss_t = stock_month.loss_t + l;
    INSERT INTO stock_month_region (region, variety, month, in_t, out_t, loss_t)
    SELECT coalesce(d.county, d.city, d.province, ''), NEW.variety, m, i, o, l
    FROM depots d WHERE d.code = NEW.depot
    ON CONFLICT (region, variety, month) DO UPDATE SET in_t = stock_month_region.in_t + i,
        out_t = stock_month_region.out_t + o, loss_t = stock_month_region.loss_t + l;
    RETURN NEW;
END $$;

-- Counts per depot and month: the latest count of each lot in the month, agreeing or not.
CREATE TABLE IF NOT EXISTS count_month (
    depot      text NOT NULL,
    month      date NOT NULL,
    counted    integer NOT NULL DEFAULT 0,
    agreeing   integer NOT NULL DEFAULT 0,
    PRIMARY KEY (depot, month)
);
CREATE INDEX IF NOT EXISTS count_month_month_idx ON count_month (month);
INSERT INTO count_month (depot, month, counted, agreeing)
SELECT depot, month, count(*), count(*) FILTER (WHERE agrees)
FROM (SELECT DISTINCT ON (lot, date_trunc('month', count_date)) depot,
             date_trunc('month', count_date)::date AS month, agrees
      FROM stock_counts ORDER BY lot, date_trunc('month', count_date), id DESC) c
GROUP BY 1, 2
ON CONFLICT DO NOTHING;
