"""A cheap, conservative pre-check of a scan: one pass over the raw temperatures that proves
no scan rule can fire, so the usual quiet granary costs no Point objects and no rule runs.

It must never call a scan quiet when a rule of `central.rules.scan_rules` would fire
(tests/central/test_alarm_quiet.py checks that on random scans); every comparison keeps a
margin of `EPS` on the safe side of the rules' own rounding to 0.01 °C.
"""

from __future__ import annotations

from dataclasses import dataclass

from central.alarms.scan_source import ScanInput
from protocols.domain.psychro import dew_point_c

EPS = 0.02


@dataclass(frozen=True)
class Summary:
    max_c: float | None   # highest valid grain temperature (for inspection_overdue)
    quiet: bool           # True: no scan rule can fire


def summarize(inp: ScanInput) -> Summary:
    """Built from list comprehensions and builtins (this runs for every scan ingested)."""
    th = inp.th
    cables = inp.cables
    rows = [c[4] for c in cables]
    flat = [t for temps in rows for t in temps]
    valid = [t for t in flat if t is not None]
    hottest = max(valid) if valid else None
    if inp.missing or any(c[5] for c in cables):
        return Summary(hottest, False)        # sensor_fault fires
    if not valid:
        return Summary(None, True)
    if min(valid) < th.grain_valid_min_c or hottest > th.grain_valid_max_c:
        return Summary(hottest, False)        # out of range: sensor_fault fires
    mode = inp.storage_mode
    limit = th.grain_temp_max_c.get(mode, th.grain_temp_max_c["normal"])
    mean_limit = th.grain_temp_mean_max_c.get(mode, th.grain_temp_mean_max_c["normal"])
    if hottest > limit - EPS or sum(valid) / len(valid) > mean_limit - EPS:
        return Summary(hottest, False)
    # The usual scan (every cable the same depth, no gap) is a grid: zip gives its layers.
    grid = len(valid) == len(flat) and len(set(map(len, rows))) == 1
    layers = zip(*rows, strict=True) if grid else _layers(rows)
    warning = th.hotspot_warning_delta_c - EPS
    for vals in layers:
        if len(vals) >= 2:
            top = max(vals)
            if top - (sum(vals) - top) / (len(vals) - 1) >= warning:
                return Summary(hottest, False)
    temp_in, rh_in = inp.indoor
    if temp_in is not None and rh_in is not None and rh_in > 0:
        exposed = [temps[0] for temps in rows if temps and temps[0] is not None]
        exposed += [t for c in cables if c[3] for t in c[4] if t is not None]
        if exposed and min(exposed) - dew_point_c(temp_in, rh_in) <= th.margin_c() + EPS:
            return Summary(hottest, False)
    return Summary(hottest, True)


def _layers(rows: list[list[float | None]]) -> list[list[float]]:
    """The valid temperatures of each layer, for cables of unequal depth or with gaps."""
    return [[temps[layer] for temps in rows if len(temps) > layer and temps[layer] is not None]
            for layer in range(max(map(len, rows)))]
