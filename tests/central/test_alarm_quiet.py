"""The quiet pre-check never hides a finding of the scan rules (random scans), and does call
ordinary quiet grain quiet (or it would save nothing); wall cables of a grid."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from central.alarms.layout_cache import wall_cables
from central.alarms.quiet import summarize
from central.alarms.scan_source import ScanInput
from central.rules.scan_rules import evaluate_scan
from central.rules.thresholds import Thresholds

TS = datetime(2026, 11, 22, 8, tzinfo=UTC)
temps = st.one_of(st.none(), st.floats(min_value=-45, max_value=90, allow_nan=False).map(lambda t: round(t, 2)))


@st.composite
def scan_inputs(draw):
    n_cables = draw(st.integers(1, 6))
    layers = draw(st.integers(1, 4))
    base = draw(st.floats(min_value=-5, max_value=30))
    spread = draw(st.sampled_from([0.0, 0.5, 2.0, 4.0, 8.0]))
    cables = []
    for c in range(1, n_cables + 1):
        row = [round(base + draw(st.floats(min_value=-spread, max_value=spread)), 2)
               if draw(st.booleans()) or spread == 0 else draw(temps) for _ in range(layers)]
        faults = [i + 1 for i, t in enumerate(row) if t is None and draw(st.integers(0, 9)) == 0]
        cables.append((c, 1, c, draw(st.booleans()), row, faults))
    indoor = draw(st.sampled_from([(None, None), (20.0, 60.0), (25.0, 90.0), (10.0, 95.0), (30.0, 0.0)]))
    th = Thresholds(storage_zone=draw(st.sampled_from([None, 7])),
                    hotspot_warning_delta_c=draw(st.sampled_from([3.0, 0.5, 0.0])))
    missing = [99] if draw(st.integers(0, 9)) == 0 else []
    mode = draw(st.sampled_from(["low", "quasi_low", "normal", "unknown"]))
    return ScanInput("P01", mode, TS, cables, indoor, (10.0, 50.0), missing, th)


@settings(max_examples=400, deadline=None)
@given(scan_inputs())
def test_quiet_means_no_rule_fires(inp):
    summary = summarize(inp)
    found = evaluate_scan(inp.scan, inp.th)
    if summary.quiet:
        assert all(v == [] for v in found.values()), found
    valid = [p.temp_c for p in inp.scan.valid()]
    assert summary.max_c == (max(valid) if valid else None)


def test_ordinary_grain_is_quiet():
    cables = [(c, (c - 1) // 3 + 1, (c - 1) % 3 + 1, c != 5,
               [14.0 + 0.1 * c, 14.6, 15.0, 15.2 - 0.05 * c], []) for c in range(1, 10)]
    inp = ScanInput("P01", "quasi_low", TS, cables, (17.0, 60.0), (11.0, 70.0), [], Thresholds())
    assert summarize(inp).quiet
    assert all(v == [] for v in evaluate_scan(inp.scan, inp.th).values())


def test_each_condition_breaks_quiet():
    def inp(**kw):
        cables = kw.pop("cables", [(1, 1, 1, False, [15.0, 15.0], []), (2, 1, 2, False, [15.0, 15.0], [])])
        return ScanInput("P01", "quasi_low", TS, cables, kw.pop("indoor", (17.0, 60.0)), (11.0, 70.0),
                         kw.pop("missing", []), Thresholds())
    assert summarize(inp()).quiet
    assert not summarize(inp(missing=[3])).quiet
    assert not summarize(inp(cables=[(1, 1, 1, False, [15.0, None], [2])])).quiet
    assert not summarize(inp(cables=[(1, 1, 1, False, [15.0, 86.0], [])])).quiet
    assert not summarize(inp(cables=[(1, 1, 1, False, [24.99, 15.0], [])])).quiet  # limit 25
    hot = [(1, 1, 1, False, [15.0, 15.0], []), (2, 1, 2, False, [17.99, 15.0], [])]
    assert not summarize(inp(cables=hot)).quiet  # 2.99 °C: within EPS of the 3 °C warning
    assert not summarize(inp(indoor=(17.0, 95.0))).quiet  # dew point 16.2: margin 3 °C


def test_wall_is_the_outer_ring():
    grid = [(c, (c - 1) // 4 + 1, (c - 1) % 4 + 1, 4) for c in range(1, 17)]  # 4 x 4
    assert wall_cables(grid) == set(range(1, 17)) - {6, 7, 10, 11}
    assert wall_cables([(1, None, None, 4)]) == set()
