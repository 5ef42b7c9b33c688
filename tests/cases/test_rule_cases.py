"""Alarm-rule cases as data: each folder of `rules/` holds the input of the pure rules in
`central/rules/`, either `scan.yaml` (one granary scan, read by every scan rule as ingest does,
or by the `rules` it names) or `series.yaml` (a point's or a granary's recent history, read by
one time rule), optionally `thresholds.yaml` (overrides of the default thresholds), and
`expected.yaml`: every finding the rules report, in their order.

`GRAINLINK_TEST_WRITE_CASES=1` writes what the rules report now into a case that has no
`expected.yaml` yet (read it before keeping it).
"""

from __future__ import annotations

import os
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from central.rules.model import Finding, GranaryScan, Point
from central.rules.scan_rules import evaluate_scan
from central.rules.thresholds import Thresholds, resolve_thresholds
from central.rules.time_rules import indoor_humidity_high, sensor_stuck, temp_rise

CASES = Path(__file__).resolve().parent / "rules"
NOW = datetime(2026, 11, 22, 0, 0, tzinfo=UTC)


def case_dirs() -> list[Path]:
    return sorted(p for p in CASES.iterdir() if p.is_dir())  # a folder without its input fails


def read_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None


def scan_of(spec: dict[str, Any]) -> GranaryScan:
    """`temps[layer - 1][cable - 1]`: null = no reading, F = a faulty sensor; the first and the
    last cable of a row stand next to a wall unless `wall_cables` says otherwise."""
    temps = spec["temps"]
    width = max(len(row) for row in temps)
    wall = set(spec.get("wall_cables", [1, width]))
    points = [Point(cable=c, layer=layer, temp_c=None if t in (None, "F") else float(t), fault=t == "F",
                    wall=c in wall)
              for layer, row in enumerate(temps, start=1) for c, t in enumerate(row, start=1)]
    return GranaryScan(spec.get("granary", "P01"), spec.get("storage_mode", "normal"), NOW, points,
                       indoor_temp_c=spec.get("indoor_temp_c"), indoor_rh_pct=spec.get("indoor_rh_pct"),
                       missing_cables=spec.get("missing_cables", []))


def series_findings(spec: dict[str, Any], th: Thresholds) -> list[Finding]:
    """`daily` (temp_rise: the value now, one day ago, ...) or `readings`
    ([minutes before now, value], for indoor_humidity_high and sensor_stuck)."""
    granary = spec.get("granary", "P01")
    subject = spec.get("subject", granary)
    readings = [(NOW - timedelta(minutes=age), value) for age, value in spec.get("readings", [])]
    rule = spec["rule"]
    if rule == "temp_rise":
        found = temp_rise(subject, granary, spec["daily"], th)
    elif rule == "indoor_humidity_high":
        found = indoor_humidity_high(granary, readings, NOW, th)
    elif rule == "sensor_stuck":
        found = sensor_stuck(subject, granary, readings, NOW, th)
    else:
        raise AssertionError(f"no series rule {rule!r}")
    return [] if found is None else [found]


def findings(case: Path) -> list[dict[str, Any]]:
    th = resolve_thresholds(read_yaml(case / "thresholds.yaml"))
    scan = read_yaml(case / "scan.yaml")
    if scan is not None:
        by_rule = evaluate_scan(scan_of(scan), th)
        rules = scan.get("rules", list(by_rule))  # a case about one rule may name it alone
        assert set(rules) <= set(by_rule), f"scan rules are {list(by_rule)}"
        found = [f for rule in rules for f in by_rule[rule]]
    else:
        series = read_yaml(case / "series.yaml")
        assert series is not None, f"{case.name}: no scan.yaml or series.yaml"
        found = series_findings(series, th)
    return [asdict(f) for f in found]


@pytest.mark.parametrize("case", case_dirs(), ids=lambda p: p.name)
def test_rule_case(case: Path):
    got = findings(case)
    expected_file = case / "expected.yaml"
    if not expected_file.exists() and os.environ.get("GRAINLINK_TEST_WRITE_CASES") == "1":
        expected_file.write_text(yaml.safe_dump(got, sort_keys=False, allow_unicode=True), encoding="utf-8")
    assert got == read_yaml(expected_file)
