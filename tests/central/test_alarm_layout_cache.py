"""The layout cache against real PostgreSQL: the revision moves with any change to a
depot's granaries or cables (layout ingest or plain SQL), a changed layout is read again,
an unchanged one is not, and a granary the depot has not described is remembered as such."""

from __future__ import annotations

from datetime import timedelta

from central.alarms.evaluate.layout_cache import GranaryLayout, LayoutCache, wall_cables
from central.ingest import registry
from protocols.mqtt.models import Layout
from tests.central.api_support import insert_depot, tag
from tests.central.ingest_support import layout, now_utc

REGION = {"province": "430000", "city": "430100", "county": "430102"}


def rev(conn, depot):
    return conn.execute("SELECT layout_rev FROM depots WHERE code = %s", (depot,)).fetchone()[0]


def revs(conn, depots):
    return dict(conn.execute("SELECT code, layout_rev FROM depots WHERE code = ANY(%s)",
                             (list(depots),)).fetchall())


def test_every_change_of_granaries_or_cables_moves_the_revision(conn):
    depot, other = f"LC{tag()}", f"LC{tag()}"
    insert_depot(conn, depot, REGION, {"P01": [(1, 1, 1, 4), (2, 1, 2, 4)]})
    insert_depot(conn, other, REGION, {"P01": [(1, 1, 1, 4)]})
    seen = [rev(conn, depot)]
    conn.execute("UPDATE granaries SET storage_mode = 'low' WHERE depot = %s", (depot,))
    seen.append(rev(conn, depot))
    conn.execute('UPDATE cables SET "row" = 2 WHERE depot = %s AND cable = 2', (depot,))
    seen.append(rev(conn, depot))
    conn.execute("DELETE FROM cables WHERE depot = %s AND cable = 2", (depot,))
    seen.append(rev(conn, depot))
    assert seen == sorted(set(seen)) and len(seen) == 4  # strictly increasing
    before_other = rev(conn, other)
    conn.execute("UPDATE granaries SET grain = 'rice' WHERE depot = %s", (depot,))
    assert rev(conn, other) == before_other  # another depot's change leaves it alone
    conn.execute("DELETE FROM depots WHERE code = %s", (other,))  # cascades without error


def test_a_changed_layout_is_read_again_and_an_unchanged_one_is_not(conn):
    depot = f"LC{tag()}"
    cache = LayoutCache()
    registry.ensure_depots(conn, [depot])
    assert registry.apply_layout(conn, Layout.model_validate(layout(depot, cables=3)))
    first = cache.layouts(conn, {depot: ["P01", "P09"]}, revs(conn, [depot]))[depot]
    assert first["P01"].cables == (1, 2, 3) and first["P09"] is None
    assert cache.loads == 2
    again = cache.layouts(conn, {depot: ["P01", "P09"]}, revs(conn, [depot]))[depot]
    assert again == first and cache.loads == 2  # from memory
    newer = layout(depot, generated_at=now_utc() + timedelta(minutes=1), cables=2)
    assert registry.apply_layout(conn, Layout.model_validate(newer))
    changed = cache.layouts(conn, {depot: ["P01"]}, revs(conn, [depot]))[depot]
    assert changed["P01"].cables == (1, 2) and cache.loads == 3


def test_the_oldest_entries_go_first_beyond_the_capacity(conn):
    depots = [f"LC{tag()}" for _ in range(3)]
    for d in depots:
        insert_depot(conn, d, REGION, {"P01": [(1, 1, 1, 4)]})
    cache = LayoutCache(capacity=2)
    for d in depots:
        cache.layouts(conn, {d: ["P01"]}, revs(conn, [d]))
    assert cache.loads == 3
    cache.layouts(conn, {depots[2]: ["P01"]}, revs(conn, depots))
    assert cache.loads == 3
    cache.layouts(conn, {depots[0]: ["P01"]}, revs(conn, depots))
    assert cache.loads == 4  # dropped to make room


def test_layout_of_a_grid_knows_its_wall():
    lay = GranaryLayout.of(None, [(c, (c - 1) // 3 + 1, (c - 1) % 3 + 1) for c in (9, 1, 5, 3)])
    assert lay.storage_mode == "normal" and lay.cables == (1, 3, 5, 9)
    assert dict(zip(lay.cables, lay.wall, strict=True)) == {1: True, 3: True, 5: False, 9: True}
    assert wall_cables([(1, None, None)]) == set()
