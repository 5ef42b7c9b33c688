"""Granary layouts (storage mode, cables and their place on the grid, the wall ring) kept in
memory between ingest batches.

Loading every layout of a batch from the database cost more than evaluating the scans (an
ingest batch touches tens of thousands of cables). A layout changes only when a depot
sends a new one, and migration 0006 bumps `depots.layout_rev` in the same transaction as any
change to the depot's granaries or cables. So an entry is kept with the revision it was read
at and used only while the depot's revision (read in the batch's own transaction) is the same:
a worker never evaluates with a layout older than the one its transaction sees.

Entries are per (depot, granary), least recently used dropped first beyond `capacity`,
which bounds the memory the cache takes. A granary with no layout is cached too, as `None`.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass

DEFAULT_CAPACITY = 20_000


@dataclass(frozen=True)
class GranaryLayout:
    """One granary's cables in cable order, with their grid row/column and whether they are
    on the wall (the outermost ring of the grid). No cables: the layout does not list them
    (yet), and a scan takes its cables from the message."""

    storage_mode: str
    cables: tuple[int, ...]
    rows: tuple[int | None, ...]
    cols: tuple[int | None, ...]
    wall: tuple[bool, ...]

    @classmethod
    def of(cls, storage_mode: str | None, cables: list[tuple[int, int | None, int | None]]
           ) -> GranaryLayout:
        cables = sorted(cables)
        on_wall = wall_cables(cables)
        return cls(storage_mode or "normal", tuple(c for c, _, _ in cables),
                   tuple(r for _, r, _ in cables), tuple(k for _, _, k in cables),
                   tuple(c in on_wall for c, _, _ in cables))


def wall_cables(cables) -> set[int]:
    """Cables on the outermost ring of the grid (first/last row or column); `cables` are
    (cable, row, col, ...) tuples, and a cable without a place is never on the wall."""
    placed = [(c[0], c[1], c[2]) for c in cables if c[1] is not None and c[2] is not None]
    if not placed:
        return set()
    rows = [r for _, r, _ in placed]
    cols = [k for _, _, k in placed]
    r0, r1, c0, c1 = min(rows), max(rows), min(cols), max(cols)
    return {c for c, r, k in placed if r in (r0, r1) or k in (c0, c1)}


_LAYOUTS = """
SELECT u.depot, u.granary, coalesce(d.layout_rev, 0), g.storage_mode, g.granary IS NOT NULL,
       (SELECT coalesce(json_agg(json_build_array(c.cable, c."row", c.col)), '[]')
        FROM cables c WHERE c.depot = u.depot AND c.granary = u.granary)::text
FROM unnest(%s::text[], %s::text[]) AS u(depot, granary)
LEFT JOIN depots d ON d.code = u.depot
LEFT JOIN granaries g ON g.depot = u.depot AND g.granary = u.granary
"""


class LayoutCache:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[tuple[str, str], tuple[int, GranaryLayout | None]] = OrderedDict()
        self._lock = threading.Lock()  # several ingest workers may share one process
        self.loads = 0                 # granaries read from the database so far

    def layouts(self, conn, wanted: dict[str, list[str]], revs: dict[str, int]
                ) -> dict[str, dict[str, GranaryLayout | None]]:
        """depot -> granary -> layout (None: the depot has not described that granary),
        for the granaries `wanted`; `revs` are the depots' current `layout_rev`."""
        out: dict[str, dict[str, GranaryLayout | None]] = {d: {} for d in wanted}
        stale: list[tuple[str, str]] = []
        with self._lock:
            for depot, granaries in wanted.items():
                for granary in granaries:
                    entry = self._entries.get((depot, granary))
                    if entry is not None and entry[0] == revs.get(depot):
                        self._entries.move_to_end((depot, granary))
                        out[depot][granary] = entry[1]
                    else:
                        stale.append((depot, granary))
        if stale:
            for depot, granary, rev, layout in self._load(conn, stale):
                out[depot][granary] = layout
                self._put((depot, granary), rev, layout)
        return out

    def peek(self, depot: str, granary: str) -> tuple[int, GranaryLayout | None] | None:
        """(revision, layout) as last read, whatever the depot's revision is now; None when
        not in memory. For work done before the database is at hand (the caller checks
        the revision once it is)."""
        with self._lock:
            return self._entries.get((depot, granary))

    def _load(self, conn, keys: list[tuple[str, str]]):
        self.loads += len(keys)
        rows = conn.execute(_LAYOUTS, ([d for d, _ in keys], [g for _, g in keys])).fetchall()
        for depot, granary, rev, mode, known, cables in rows:
            # The revision comes from the same statement as the layout: caching a newer
            # layout under an older revision only costs a reload; the reverse cannot happen.
            placed = [tuple(c) for c in json.loads(cables)]
            layout = GranaryLayout.of(mode, placed) if known else None
            yield depot, granary, rev, layout

    def _put(self, key: tuple[str, str], rev: int, layout: GranaryLayout | None) -> None:
        with self._lock:
            self._entries[key] = (rev, layout)
            self._entries.move_to_end(key)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)


CACHE = LayoutCache()
