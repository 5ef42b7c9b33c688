"""Rules evaluated on each ingested granary scan (domain.md §2). Pure functions of a
`GranaryScan` and `Thresholds`; each returns the findings whose condition is true now."""

from __future__ import annotations

from collections import defaultdict
from statistics import fmean

from central.rules.model import Finding, GranaryScan, Point, cable_subject, point_subject
from central.rules.thresholds import Thresholds
from protocols.domain.psychro import dew_point_c


def _limit(table: dict[str, float], mode: str) -> float:
    return table.get(mode, table["normal"])


# Messages are what depot staff read (the web pages also render them from the rule code).
MODE_NAMES = {"normal": "常规储藏", "quasi_low": "准低温储藏", "low": "低温储藏"}


def _where(p: Point) -> str:
    return f"{p.cable} 号电缆第 {p.layer} 层"


def grain_temp_high(scan: GranaryScan, th: Thresholds) -> list[Finding]:
    """Any point above the storage mode's limit: one alarm for the granary, naming the hottest."""
    limit = _limit(th.grain_temp_max_c, scan.storage_mode)
    hottest = max(scan.valid(), key=lambda p: p.temp_c, default=None)
    if hottest is None or hottest.temp_c <= limit:
        return []
    count = sum(1 for p in scan.valid() if p.temp_c > limit)
    return [Finding("grain_temp_high", scan.granary, "alarm", hottest.temp_c, limit,
                    f"{count} 个测温点超过{MODE_NAMES.get(scan.storage_mode, scan.storage_mode)}上限 {limit:g} ℃，"
                    f"最高 {hottest.temp_c:.1f} ℃（{_where(hottest)}）", scan.granary)]


def grain_temp_mean_high(scan: GranaryScan, th: Thresholds) -> list[Finding]:
    valid = scan.valid()
    if not valid:
        return []
    limit = _limit(th.grain_temp_mean_max_c, scan.storage_mode)
    mean = round(fmean(p.temp_c for p in valid), 2)
    if mean <= limit:
        return []
    return [Finding("grain_temp_mean_high", scan.granary, "alarm", mean, limit,
                    f"全仓平均粮温 {mean:.2f} ℃，超过{MODE_NAMES.get(scan.storage_mode, scan.storage_mode)}上限 {limit:g} ℃",
                    scan.granary)]


def hotspot(scan: GranaryScan, th: Thresholds) -> list[Finding]:
    """A point above the mean of the other points of its own layer by Δ.

    The point itself is left out of the mean so that a layer of few cables (a silo with two)
    still shows its hot cable instead of averaging it away."""
    layers: dict[int, list[Point]] = defaultdict(list)
    for p in scan.valid():
        layers[p.layer].append(p)
    findings = []
    for layer_points in layers.values():
        if len(layer_points) < 2:
            continue
        total = sum(p.temp_c for p in layer_points)
        others = len(layer_points) - 1
        # a point can only be hot if it is above the plain layer mean: skip the rest cheaply
        floor = total / len(layer_points)
        for p in layer_points:
            if p.temp_c <= floor and th.hotspot_warning_delta_c > 0:
                continue
            others_mean = (total - p.temp_c) / others
            delta = round(p.temp_c - others_mean, 2)
            if delta >= th.hotspot_alarm_delta_c:
                severity, threshold = "alarm", th.hotspot_alarm_delta_c
            elif delta >= th.hotspot_warning_delta_c:
                severity, threshold = "warning", th.hotspot_warning_delta_c
            else:
                continue
            findings.append(Finding(
                "hotspot", point_subject(scan.granary, p.cable, p.layer), severity, delta, threshold,
                f"{_where(p)} {p.temp_c:.1f} ℃，高出本层平均 {others_mean:.1f} ℃ 达 "
                f"{delta:.1f} ℃", scan.granary))
    return findings


def condensation_risk(scan: GranaryScan, th: Thresholds) -> list[Finding]:
    """Top-layer and wall-side grain at or near the dew point of the indoor air."""
    if scan.indoor_temp_c is None or scan.indoor_rh_pct is None or scan.indoor_rh_pct <= 0:
        return []
    dew = dew_point_c(scan.indoor_temp_c, scan.indoor_rh_pct)
    exposed = [p for p in scan.valid() if p.layer == 1 or p.wall]
    coldest = min(exposed, key=lambda p: p.temp_c, default=None)
    if coldest is None:
        return []
    margin = round(coldest.temp_c - dew, 2)
    if margin <= 0:
        severity, threshold = "alarm", 0.0
    elif margin <= th.margin_c():
        severity, threshold = "warning", th.margin_c()
    else:
        return []
    return [Finding("condensation_risk", scan.granary, severity, margin, threshold,
                    f"{_where(coldest)}粮温 {coldest.temp_c:.1f} ℃，仅高出仓内露点 {dew:.1f} ℃ "
                    f"{margin:.1f} ℃（仓温 {scan.indoor_temp_c:.1f} ℃，"
                    f"仓湿 {scan.indoor_rh_pct:.1f} %RH）", scan.granary)]


def sensor_fault(scan: GranaryScan, th: Thresholds) -> list[Finding]:
    """Fault sentinels and out-of-range values per point; cables that stopped answering."""
    findings = []
    for p in scan.points:
        out_of_range = p.temp_c is not None and not (th.grain_valid_min_c <= p.temp_c <= th.grain_valid_max_c)
        if p.fault or out_of_range:
            what = "报告故障" if p.fault else f"读数 {p.temp_c:.1f} ℃，超出量程"
            findings.append(Finding("sensor_fault", point_subject(scan.granary, p.cable, p.layer),
                                    "warning", p.temp_c, None, f"{_where(p)}传感器{what}",
                                    scan.granary))
    for cable in scan.missing_cables:
        findings.append(Finding("sensor_fault", cable_subject(scan.granary, cable), "warning", None,
                                None, f"{cable} 号电缆本次巡检未应答", scan.granary))
    return findings


SCAN_RULES = {
    "grain_temp_high": grain_temp_high,
    "grain_temp_mean_high": grain_temp_mean_high,
    "hotspot": hotspot,
    "condensation_risk": condensation_risk,
    "sensor_fault": sensor_fault,
}


def evaluate_scan(scan: GranaryScan, th: Thresholds) -> dict[str, list[Finding]]:
    """Every scan rule's findings, by rule name (an empty list means the condition is false)."""
    return {name: rule(scan, th) for name, rule in SCAN_RULES.items()}
