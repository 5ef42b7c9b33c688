"""A cheap, conservative pre-check of a scan that proves no scan rule can fire, so the usual
quiet granary costs no Point objects and no rule runs.

In two steps: `scan_stats` reduces a scan to a few figures that do not depend on any
threshold (one pass over the raw temperatures; ingest computes them as each message is
decoded, off the database transaction), and `is_quiet` compares those figures with the
granary's thresholds. It must never call a scan quiet when a rule of
`central.rules.scan_rules` would fire (tests/central/test_alarm_quiet.py checks that on
random scans); every comparison keeps a margin of `EPS` on the safe side of the rules' own
rounding to 0.01 °C.
"""

from __future__ import annotations

from dataclasses import dataclass

from central.rules.thresholds import Thresholds
from protocols.domain.psychro import dew_point_c

EPS = 0.02


@dataclass(frozen=True)
class Summary:
    max_c: float | None   # highest valid grain temperature (for inspection_overdue)
    quiet: bool           # True: no scan rule can fire


@dataclass(frozen=True)
class ScanStats:
    """What the quiet check needs of a scan, before any threshold."""

    max_c: float | None          # highest valid temperature (None: no valid point)
    min_c: float | None
    mean_c: float | None
    faults: bool                 # some sensor reports a fault
    rise_c: float | None         # largest (point - mean of the rest of its layer), any layer
    exposed_min_c: float | None  # coldest top-layer or wall-side point


def scan_stats(cables) -> ScanStats:
    """`cables`: (cable, row, col, wall, temps_c, faults) tuples. Built from list
    comprehensions and builtins: this runs for every scan ingested."""
    rows = [c[4] for c in cables]
    faults = any(c[5] for c in cables)
    flat = [t for temps in rows for t in temps]
    valid = [t for t in flat if t is not None]
    if not valid:
        return ScanStats(None, None, None, faults, None, None)
    # The usual scan (every cable the same depth, no gap) is a grid: zip gives its layers.
    grid = len(valid) == len(flat) and len(set(map(len, rows))) == 1
    rise = None
    for vals in (zip(*rows, strict=True) if grid else _layers(rows)):
        if len(vals) >= 2:
            top = max(vals)
            here = top - (sum(vals) - top) / (len(vals) - 1)
            rise = here if rise is None or here > rise else rise
    exposed = [temps[0] for temps in rows if temps and temps[0] is not None]
    exposed += [t for c in cables if c[3] for t in c[4] if t is not None]
    return ScanStats(max(valid), min(valid), sum(valid) / len(valid), faults, rise,
                     min(exposed) if exposed else None)


def _layers(rows: list[list[float | None]]) -> list[list[float]]:
    """The valid temperatures of each layer, for cables of unequal depth or with gaps."""
    return [[temps[layer] for temps in rows if len(temps) > layer and temps[layer] is not None]
            for layer in range(max(map(len, rows)))]


def is_quiet(stats: ScanStats, th: Thresholds, storage_mode: str,
             indoor: tuple[float | None, float | None], missing: bool) -> bool:
    """True when no scan rule can fire on a scan with these figures."""
    if missing or stats.faults:
        return False                      # sensor_fault fires
    if stats.max_c is None:
        return True
    if stats.min_c < th.grain_valid_min_c or stats.max_c > th.grain_valid_max_c:
        return False                      # out of range: sensor_fault fires
    limit = th.grain_temp_max_c.get(storage_mode, th.grain_temp_max_c["normal"])
    mean_limit = th.grain_temp_mean_max_c.get(storage_mode, th.grain_temp_mean_max_c["normal"])
    if stats.max_c > limit - EPS or stats.mean_c > mean_limit - EPS:
        return False
    if stats.rise_c is not None and stats.rise_c >= th.hotspot_warning_delta_c - EPS:
        return False
    temp_in, rh_in = indoor
    if temp_in is None or rh_in is None or rh_in <= 0 or stats.exposed_min_c is None:
        return True
    return stats.exposed_min_c - dew_point_c(temp_in, rh_in) > th.margin_c() + EPS


def summarize(inp) -> Summary:
    """The quiet check of a whole `ScanInput` (scan_source)."""
    stats = scan_stats(inp.cables)
    return Summary(stats.max_c, is_quiet(stats, inp.th, inp.storage_mode, inp.indoor,
                                         bool(inp.missing)))
