"""Alarm thresholds: the defaults of domain.md §2–§4 as settings, overridable per depot and
per granary. Nothing in the rules hard-codes a number; they all read a `Thresholds`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

STORAGE_MODES = ("low", "quasi_low", "normal")


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # grain_temp_high / grain_temp_mean_high, by storage mode
    grain_temp_max_c: dict[str, float] = Field(
        default_factory=lambda: {"low": 20.0, "quasi_low": 25.0, "normal": 30.0})
    grain_temp_mean_max_c: dict[str, float] = Field(
        default_factory=lambda: {"low": 15.0, "quasi_low": 20.0, "normal": 25.0})
    # hotspot: a point above the mean of the rest of its layer
    hotspot_warning_delta_c: float = 3.0
    hotspot_alarm_delta_c: float = 5.0
    # temp_rise: per point, sustained daily rise or rise over three days
    temp_rise_per_day_c: float = 1.0
    temp_rise_sustained_days: int = Field(2, ge=1, le=7)
    temp_rise_3day_c: float = 3.0
    # condensation_risk: grain at or near the dew point of the indoor air
    condensation_margin_c: float = 3.0
    condensation_margin_zone7_c: float = 2.0
    storage_zone: int | None = Field(None, ge=1, le=7)
    # indoor_humidity_high
    indoor_rh_max_pct: float = Field(75.0, ge=0, le=100)
    indoor_rh_hold_min: float = Field(120.0, ge=0)
    # sensor_fault
    sensor_stuck_days: float = Field(7.0, gt=0)
    grain_valid_min_c: float = -40.0
    grain_valid_max_c: float = 85.0
    # a layout cable with no reading this long before a scan counts as gone (cable_subject)
    cable_silent_min: float = Field(90.0, gt=0)
    # depot_offline / camera_offline
    offline_interval_multiple: float = Field(3.0, gt=0)
    expected_scan_interval_min: float = Field(60.0, gt=0)
    camera_offline_hold_min: float = Field(10.0, ge=0)
    # lifecycle: how long a condition must stay false before its alarm clears
    clear_hysteresis_min: float = Field(30.0, ge=0)
    # ventilation advice (domain.md §4)
    vent_start_delta_c: float = 8.0
    vent_continue_delta_c: float = 4.0
    vent_stop_top_bottom_c: float = 3.0
    # inspection_overdue (domain.md §3): days by [max grain temp band][safety class]
    check_interval_days: dict[str, dict[str, float]] = Field(default_factory=lambda: {
        "cool": {"safe": 15, "semi_safe": 10, "dangerous": 5},
        "warm": {"safe": 10, "semi_safe": 5, "dangerous": 1},
    })
    check_cool_max_c: float = 15.0
    check_heating_days: float = 1.0
    safety_class: Literal["safe", "semi_safe", "dangerous"] = "safe"  # by the grain moisture
    new_grain_months: int = 3

    def margin_c(self) -> float:
        return self.condensation_margin_zone7_c if self.storage_zone == 7 else self.condensation_margin_c


class ThresholdError(ValueError):
    pass


def resolve_thresholds(*overrides: Mapping[str, Any] | None, base: Thresholds | None = None) -> Thresholds:
    """Defaults, then each override in order (province → depot → granary); later wins.

    Nested tables (per storage mode, per check band) merge key by key, so a granary can
    change the `low` limit alone."""
    data = (base or Thresholds()).model_dump()
    for layer in overrides:
        for key, value in (layer or {}).items():
            if key not in Thresholds.model_fields:
                raise ThresholdError(f"unknown threshold setting {key!r}")
            if isinstance(value, Mapping) and isinstance(data.get(key), dict):
                merged = dict(data[key])
                for inner_key, inner_value in value.items():
                    if isinstance(inner_value, Mapping) and isinstance(merged.get(inner_key), dict):
                        merged[inner_key] = {**merged[inner_key], **inner_value}
                    else:
                        merged[inner_key] = inner_value
                data[key] = merged
            else:
                data[key] = value
    try:
        return Thresholds.model_validate(data)
    except ValueError as exc:
        raise ThresholdError(str(exc)) from exc
