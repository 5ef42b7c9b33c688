"""Depots, granaries and cables from `layout`; state from `status`; `events`; last-seen.

All upserts are idempotent and order-tolerant, so N workers may each receive the same
retained layout/status (every worker subscribes to those kinds) and the result is the same.
"""

from __future__ import annotations

from datetime import datetime

from psycopg.types.json import Jsonb

from protocols.mqtt.models import Event, Layout, Status


def ensure_depots(conn, depots: list[str]) -> None:
    """A row for each depot code (telemetry may arrive before the layout). Sorted, so two
    workers lock the same rows in the same order."""
    if depots:
        conn.execute(
            "INSERT INTO depots (code) SELECT unnest(%s::text[]) ORDER BY 1 "
            "ON CONFLICT (code) DO NOTHING", (sorted(set(depots)),))


def note_seen_many(conn, depots: list[str], received: list, telemetry_at: list,
                   telemetry_sent: list, skews: list, flagged: list) -> None:
    """Per depot (sorted, so workers lock rows in one order): last_seen and last_telemetry
    only move forward; the clock skew is that of the latest message; telemetry sent after
    the depot went offline (or with no state yet) means it is back online."""
    # Lock in code order first: an UPDATE ... FROM locks in plan order, and two workers
    # locking shared depots in different orders would deadlock (and wait deadlock_timeout).
    conn.execute("SELECT 1 FROM depots WHERE code = ANY(%s) ORDER BY code FOR UPDATE",
                 (depots,))
    conn.execute(
        """UPDATE depots d SET
             last_seen = greatest(d.last_seen, v.recv),
             last_telemetry = CASE WHEN v.tel IS NULL THEN d.last_telemetry
                                   ELSE greatest(d.last_telemetry, v.tel) END,
             clock_skew_s = CASE WHEN v.skew IS NULL OR d.last_seen > v.recv
                                 THEN d.clock_skew_s ELSE v.skew END,
             clock_flagged = CASE WHEN v.skew IS NULL OR d.last_seen > v.recv
                                  THEN d.clock_flagged ELSE v.flag END,
             state = CASE WHEN v.sent IS NOT NULL AND (d.state = 'unknown' OR (d.state = 'offline'
                            AND (d.state_since IS NULL OR d.state_since < v.sent)))
                          THEN 'online' ELSE d.state END,
             state_since = CASE WHEN v.sent IS NOT NULL AND (d.state = 'unknown' OR
                            (d.state = 'offline' AND (d.state_since IS NULL
                                                      OR d.state_since < v.sent)))
                          THEN v.sent ELSE d.state_since END
           FROM unnest(%s::text[], %s::timestamptz[], %s::timestamptz[], %s::timestamptz[],
                       %s::float8[], %s::bool[]) AS v(code, recv, tel, sent, skew, flag)
           WHERE d.code = v.code""",
        (depots, received, telemetry_at, telemetry_sent, skews, flagged),
    )


def apply_layout(conn, layout: Layout) -> bool:
    """Register or update the depot, its granaries and cables; an older layout than the one
    stored (a retained copy delivered late) is ignored. Returns whether it was applied."""
    region = layout.region
    row = conn.execute(
        """INSERT INTO depots (code, name, province, city, county, layout, layout_at)
           VALUES (%(code)s, %(name)s, %(p)s, %(c)s, %(k)s, %(layout)s, %(at)s)
           ON CONFLICT (code) DO UPDATE SET
             name = EXCLUDED.name, province = EXCLUDED.province, city = EXCLUDED.city,
             county = EXCLUDED.county, layout = EXCLUDED.layout, layout_at = EXCLUDED.layout_at,
             updated_at = now()
           WHERE depots.layout_at IS NULL OR depots.layout_at <= EXCLUDED.layout_at
           RETURNING code""",
        {"code": layout.depot, "name": layout.name, "p": region.province, "c": region.city,
         "k": region.county, "layout": Jsonb(layout.model_dump(mode="json", by_alias=True)),
         "at": layout.generated_at},
    ).fetchone()
    if row is None:
        return False
    depot = layout.depot
    codes = [g.granary for g in layout.granaries]
    conn.execute("UPDATE granaries SET active = false, updated_at = now() "
                 "WHERE depot = %s AND NOT (granary = ANY(%s))", (depot, codes))
    with conn.cursor() as cur:
        cur.executemany(
            """INSERT INTO granaries (depot, granary, name, type, grain, storage_mode, length_m,
                 width_m, grain_height_m, capacity_t, layer_depths_m, cameras, active, updated_at)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, true, now())
               ON CONFLICT (depot, granary) DO UPDATE SET name = EXCLUDED.name,
                 type = EXCLUDED.type, grain = EXCLUDED.grain,
                 storage_mode = EXCLUDED.storage_mode, length_m = EXCLUDED.length_m,
                 width_m = EXCLUDED.width_m, grain_height_m = EXCLUDED.grain_height_m,
                 capacity_t = EXCLUDED.capacity_t, layer_depths_m = EXCLUDED.layer_depths_m,
                 cameras = EXCLUDED.cameras, active = true, updated_at = now()""",
            [(depot, g.granary, g.name, g.type, g.grain, g.storage_mode, g.length_m, g.width_m,
              g.grain_height_m, g.capacity_t, list(g.layer_depths_m), list(g.cameras))
             for g in layout.granaries],
        )
    # One statement each (not one per cable): a statement fires the layout-revision
    # trigger once (migration 0006), and a layout of 20 granaries has ~1,500 cables.
    cables = [(g.granary, c.cable, c.row, c.col, c.x_m, c.y_m, c.layers)
              for g in layout.granaries for c in g.cables]
    conn.execute(
        """DELETE FROM cables c WHERE c.depot = %s AND c.granary = ANY(%s)
             AND (c.granary, c.cable) NOT IN (SELECT * FROM unnest(%s::text[], %s::int[]))""",
        (depot, codes, [g for g, *_ in cables], [c for _, c, *_ in cables]))
    if cables:
        conn.execute(
            """INSERT INTO cables (depot, granary, cable, "row", col, x_m, y_m, layers)
               SELECT %s, * FROM unnest(%s::text[], %s::int[], %s::int[], %s::int[],
                                        %s::float8[], %s::float8[], %s::int[])
               ON CONFLICT (depot, granary, cable) DO UPDATE SET "row" = EXCLUDED."row",
                 col = EXCLUDED.col, x_m = EXCLUDED.x_m, y_m = EXCLUDED.y_m,
                 layers = EXCLUDED.layers""",
            (depot, *(list(column) for column in zip(*cables, strict=True))))
    return True


def apply_status(conn, status: Status, received_at: datetime, retained: bool) -> None:
    """Keep every status in history; set the depot's state unless this is a retained copy
    older than the status already applied (the last will carries the ts of the session
    start, so a live 'offline' will must win even though its ts is older)."""
    conn.execute(
        """INSERT INTO depot_status (depot, ts, state, agent_version, payload, received_at)
           VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING""",
        (status.depot, status.ts, status.state, status.agent_version,
         Jsonb(status.model_dump(mode="json", by_alias=True)), received_at),
    )
    conn.execute(
        """UPDATE depots SET
             state_since = CASE WHEN state = %(state)s THEN coalesce(state_since, %(ts)s)
                                ELSE %(recv)s END,
             state = %(state)s, status_ts = %(ts)s, updated_at = now()
           WHERE code = %(depot)s
             AND (NOT %(retained)s OR status_ts IS NULL OR status_ts <= %(ts)s)""",
        {"depot": status.depot, "state": status.state, "ts": status.ts, "recv": received_at,
         "retained": retained},
    )


def store_events(conn, events: list[tuple[Event, datetime]]) -> None:
    if not events:
        return
    with conn.cursor() as cur:
        cur.executemany(
            """INSERT INTO events (depot, ts, kind, subject, detail, received_at)
               VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING""",
            [(e.depot, e.ts, e.kind, e.subject or "", Jsonb(e.detail), recv)
             for e, recv in events],
        )
