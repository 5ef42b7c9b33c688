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


def _where(p: Point) -> str:
    return f"cable {p.cable} layer {p.layer}"


def grain_temp_high(scan: GranaryScan, th: Thresholds) -> list[Finding]:
    """Any point above the storage mode's limit: one alarm for the granary, naming the hottest."""
    limit = _limit(th.grain_temp_max_c, scan.storage_mode)
    hottest = max(scan.valid(), key=lambda p: p.temp_c, default=None)
    if hottest is None or hottest.temp_c <= limit:
        return []
    count = sum(1 for p in scan.valid() if p.temp_c > limit)
    return [Finding("grain_temp_high", scan.granary, "alarm", hottest.temp_c, limit,
                    f"{count} point(s) above {limit:g} °C ({scan.storage_mode}); hottest "
                    f"{hottest.temp_c:.1f} °C at {_where(hottest)}", scan.granary)]


def grain_temp_mean_high(scan: GranaryScan, th: Thresholds) -> list[Finding]:
    valid = scan.valid()
    if not valid:
        return []
    limit = _limit(th.grain_temp_mean_max_c, scan.storage_mode)
    mean = round(fmean(p.temp_c for p in valid), 2)
    if mean <= limit:
        return []
    return [Finding("grain_temp_mean_high", scan.granary, "alarm", mean, limit,
                    f"granary mean {mean:.2f} °C above {limit:g} °C ({scan.storage_mode})",
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
                f"{p.temp_c:.1f} °C at {_where(p)} is {delta:.1f} °C above its layer's mean "
                f"{others_mean:.1f} °C", scan.granary))
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
                    f"grain {coldest.temp_c:.1f} °C at {_where(coldest)} is {margin:.1f} °C above "
                    f"the indoor dew point {dew:.1f} °C ({scan.indoor_temp_c:.1f} °C, "
                    f"{scan.indoor_rh_pct:.1f} %RH)", scan.granary)]


def sensor_fault(scan: GranaryScan, th: Thresholds) -> list[Finding]:
    """Fault sentinels and out-of-range values per point; cables that stopped answering."""
    findings = []
    for p in scan.points:
        out_of_range = p.temp_c is not None and not (th.grain_valid_min_c <= p.temp_c <= th.grain_valid_max_c)
        if p.fault or out_of_range:
            what = "reports a fault" if p.fault else f"reads {p.temp_c:.1f} °C, out of range"
            findings.append(Finding("sensor_fault", point_subject(scan.granary, p.cable, p.layer),
                                    "warning", p.temp_c, None, f"sensor at {_where(p)} {what}",
                                    scan.granary))
    for cable in scan.missing_cables:
        findings.append(Finding("sensor_fault", cable_subject(scan.granary, cable), "warning", None,
                                None, f"cable {cable} did not answer in this scan", scan.granary))
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
