"""Ventilation advice and equilibrium moisture shown beside a granary (domain.md §4). Advice,
never an alarm."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from central.rules.thresholds import Thresholds
from protocols.domain.psychro import dew_point_c


@dataclass(frozen=True)
class Advice:
    kind: str   # cooling_ventilation
    action: str  # start | continue | stop | none | vetoed
    reason: str

    def as_dict(self) -> dict:
        return asdict(self)


def cooling_ventilation(grain_mean_c: float, grain_min_c: float, top_bottom_diff_c: float | None,
                        outdoor_temp_c: float | None, outdoor_rh_pct: float | None, th: Thresholds,
                        *, ventilating: bool = False, raining: bool = False) -> Advice:
    """降温通风: start when mean grain − outside air ≥ start Δ, continue while ≥ continue Δ,
    stop when ≤ that and top-to-bottom ≤ the stop difference; vetoed when the outside dew
    point is not below the coldest grain (the air would wet the grain) or in rain or fog."""
    if outdoor_temp_c is None:
        return Advice("cooling_ventilation", "none", "无室外气温读数")
    diff = grain_mean_c - outdoor_temp_c
    if raining:
        return Advice("cooling_ventilation", "vetoed", "雨雾天气，不得通风")
    if outdoor_rh_pct is not None and outdoor_rh_pct > 0:
        outside_dew = dew_point_c(outdoor_temp_c, outdoor_rh_pct)
        if outside_dew >= grain_min_c and diff >= th.vent_continue_delta_c:
            return Advice("cooling_ventilation", "vetoed",
                          f"室外露点 {outside_dew:.1f} ℃ 不低于最低粮温 "
                          f"{grain_min_c:.1f} ℃，通风会使粮食吸湿")
    if not ventilating and diff >= th.vent_start_delta_c:
        return Advice("cooling_ventilation", "start",
                      f"平均粮温 {grain_mean_c:.1f} ℃，高出气温 {diff:.1f} ℃")
    if ventilating and diff > th.vent_continue_delta_c:
        return Advice("cooling_ventilation", "continue", f"粮温与气温仍相差 {diff:.1f} ℃")
    if ventilating and (top_bottom_diff_c is None or top_bottom_diff_c <= th.vent_stop_top_bottom_c):
        return Advice("cooling_ventilation", "stop", f"粮温与气温之差已降至 {diff:.1f} ℃")
    if ventilating:
        return Advice("cooling_ventilation", "continue",
                      f"上下层温差 {top_bottom_diff_c:.1f} ℃，仍高于 "
                      f"{th.vent_stop_top_bottom_c:g} ℃")
    return Advice("cooling_ventilation", "none", f"粮温与气温相差 {diff:.1f} ℃，不足 {th.vent_start_delta_c:g} ℃")
