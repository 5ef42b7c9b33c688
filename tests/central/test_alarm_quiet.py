"""The quiet pre-check never hides a finding of the scan rules (random scans), and does call
ordinary quiet grain quiet (or it would save nothing); its figures computed from a message
alone agree with the full scan; wall cables of a grid."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from central.alarms.evaluate.layout_cache import GranaryLayout, wall_cables
from central.alarms.evaluate.quiet import is_quiet, summarize
from central.alarms.evaluate.scan_source import DepotContext, ScanInput, build_scans, message_scans
from central.alarms.state.thresholds_store import ThresholdBook
from central.rules.scan_rules import evaluate_scan
from central.rules.thresholds import Thresholds
from protocols.mqtt.models import Telemetry

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


def test_figures_from_the_message_alone_agree_with_the_full_scan():
    """What ingest computes as a message is decoded (message_scans) gives the same verdict
    and maximum as the scan built in the transaction (build_scans + summarize)."""
    rng = random.Random(7)
    layout = GranaryLayout.of("quasi_low", [(c, (c - 1) // 4 + 1, (c - 1) % 4 + 1) for c in range(1, 17)])
    ctx = DepotContext(ThresholdBook({}), 3, {"P01": layout}, {})
    verdicts = set()
    for _ in range(300):
        base = rng.uniform(5, 24)
        grain = [{"ts": "2026-11-22T08:00:00Z", "granary": "P01", "cable": c,
                  "temps_c": [round(base + rng.uniform(-2, 2) + (rng.random() < 0.02) * 6, 2)
                              for _ in range(4)], "faults": []} for c in range(1, 17)]
        rh = rng.choice([40.0, 60.0, 95.0])
        msg = Telemetry.model_validate({
            "schema": "grainlink.telemetry/1", "depot": "D1", "batch": 1,
            "sent_at": "2026-11-22T08:00:05Z", "grain": grain,
            "air": [{"ts": "2026-11-22T08:00:00Z", "granary": "P01", "place": "indoor",
                     "temp_c": 18.0, "rh_pct": rh},
                    {"ts": "2026-11-22T08:00:00Z", "granary": None, "place": "outdoor",
                     "temp_c": 10.0, "rh_pct": 70.0}]})
        ms = message_scans(msg, ctx.layout_of)["P01"]
        inp = build_scans(None, "D1", msg, ctx)[0]  # complete, with air: no database needed
        full = summarize(inp)
        assert ms.rev == 3 and ms.ts == inp.ts
        assert ms.stats.max_c == full.max_c
        quiet = is_quiet(ms.stats, inp.th, layout.storage_mode, ms.indoor, False)
        assert quiet == full.quiet
        verdicts.add(quiet)
    assert verdicts == {True, False}  # both kinds of scan were drawn


def test_a_message_lacking_a_layout_cable_leaves_the_figures_to_the_transaction():
    msg = Telemetry.model_validate({
        "schema": "grainlink.telemetry/1", "depot": "D1", "batch": 1,
        "sent_at": "2026-11-22T08:00:05Z", "air": [],
        "grain": [{"ts": "2026-11-22T08:00:00Z", "granary": g, "cable": 1, "temps_c": [15.0],
                   "faults": []} for g in ("P01", "P02", "P03")]})
    layouts = {"P01": (5, GranaryLayout.of("low", [(1, 1, 1), (2, 1, 2)])),
               "P02": (5, None)}                      # the depot has not described P02
    scans = message_scans(msg, layouts.get)
    assert scans["P01"].stats is None and scans["P01"].rev == 5   # cable 2 from the table
    assert scans["P02"].stats.max_c == 15.0 and scans["P02"].indoor is None
    assert scans["P03"].rev is None and scans["P03"].stats is None  # no layout at hand
