"""Alarm thresholds: the defaults of domain.md §2–§4 as settings, overridable per depot and
per granary. Nothing in the rules hard-codes a number; they all read a `Thresholds`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

STORAGE_MODES = ("low", "quasi_low", "normal")


# Bounds by meaning: a grain temperature a sensor can report, a difference of degrees, a
# hold or interval of at most a week, a count of days of at most a year. They stop ±1e308
# (or a typo) from silencing a rule for good.
TempC = Annotated[float, Field(ge=-40, le=85)]
DeltaC = Annotated[float, Field(ge=0, le=50)]
Minutes = Annotated[float, Field(ge=0, le=7 * 24 * 60)]
PositiveMinutes = Annotated[float, Field(gt=0, le=7 * 24 * 60)]
Days = Annotated[float, Field(ge=0, le=366)]
PositiveDays = Annotated[float, Field(gt=0, le=366)]
_TABLE_KEYS = 8  # the per-storage-mode and per-class tables have three keys each


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    # grain_temp_high / grain_temp_mean_high, by storage mode
    grain_temp_max_c: dict[str, TempC] = Field(
        default_factory=lambda: {"low": 20.0, "quasi_low": 25.0, "normal": 30.0},
        max_length=_TABLE_KEYS)
    grain_temp_mean_max_c: dict[str, TempC] = Field(
        default_factory=lambda: {"low": 15.0, "quasi_low": 20.0, "normal": 25.0},
        max_length=_TABLE_KEYS)
    # hotspot: a point above the mean of the rest of its layer
    hotspot_warning_delta_c: DeltaC = 3.0
    hotspot_alarm_delta_c: DeltaC = 5.0
    # temp_rise: per point, sustained daily rise or rise over three days
    temp_rise_per_day_c: DeltaC = 1.0
    temp_rise_sustained_days: int = Field(2, ge=1, le=7)
    temp_rise_3day_c: DeltaC = 3.0
    # condensation_risk: grain at or near the dew point of the indoor air
    condensation_margin_c: DeltaC = 3.0
    condensation_margin_zone7_c: DeltaC = 2.0
    storage_zone: int | None = Field(None, ge=1, le=7)
    # indoor_humidity_high
    indoor_rh_max_pct: float = Field(75.0, ge=0, le=100)
    indoor_rh_hold_min: Minutes = 120.0
    # sensor_fault
    sensor_stuck_days: PositiveDays = 7.0
    grain_valid_min_c: float = Field(-40.0, ge=-60, le=100)
    grain_valid_max_c: float = Field(85.0, ge=-60, le=100)
    # a layout cable with no reading this long before a scan counts as gone (cable_subject)
    cable_silent_min: PositiveMinutes = 90.0
    # depot_offline / camera_offline
    offline_interval_multiple: float = Field(3.0, gt=0, le=100)
    expected_scan_interval_min: PositiveMinutes = 60.0
    camera_offline_hold_min: Minutes = 10.0
    # lifecycle: how long a condition must stay false before its alarm clears
    clear_hysteresis_min: Minutes = 30.0
    # ventilation advice (domain.md §4)
    vent_start_delta_c: DeltaC = 8.0
    vent_continue_delta_c: DeltaC = 4.0
    vent_stop_top_bottom_c: DeltaC = 3.0
    # inspection_overdue (domain.md §3): days by [max grain temp band][safety class]
    check_interval_days: dict[str, Annotated[dict[str, PositiveDays], Field(max_length=_TABLE_KEYS)]] = Field(
        default_factory=lambda: {
            "cool": {"safe": 15, "semi_safe": 10, "dangerous": 5},
            "warm": {"safe": 10, "semi_safe": 5, "dangerous": 1},
        }, max_length=_TABLE_KEYS)
    check_cool_max_c: TempC = 15.0
    check_heating_days: Days = 1.0
    safety_class: Literal["safe", "semi_safe", "dangerous"] = "safe"  # by the grain moisture
    new_grain_months: int = Field(3, ge=0, le=60)

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


# Which way each setting loosens an alarm (domain.md §10: loosening needs four eyes and may
# never pass the province floor). +1: a higher value alarms later or less often (a limit, a
# hold time, a check interval); -1: a lower value does (a margin, the hysteresis that keeps an
# alarm open, the months grain counts as new). Ventilation advice raises no alarm: neutral.
LOOSER_WHEN: dict[str, int] = {
    "grain_temp_max_c": 1, "grain_temp_mean_max_c": 1,
    "hotspot_warning_delta_c": 1, "hotspot_alarm_delta_c": 1,
    "temp_rise_per_day_c": 1, "temp_rise_sustained_days": 1, "temp_rise_3day_c": 1,
    "condensation_margin_c": -1, "condensation_margin_zone7_c": -1,
    "indoor_rh_max_pct": 1, "indoor_rh_hold_min": 1,
    "sensor_stuck_days": 1, "grain_valid_min_c": -1, "grain_valid_max_c": 1,
    "cable_silent_min": 1, "offline_interval_multiple": 1, "expected_scan_interval_min": 1,
    "camera_offline_hold_min": 1, "clear_hysteresis_min": -1,
    "check_interval_days": 1, "check_cool_max_c": 1, "check_heating_days": 1,
    "new_grain_months": -1,
}
NEUTRAL = frozenset({"vent_start_delta_c", "vent_continue_delta_c", "vent_stop_top_bottom_c"})
# A safer class means longer check intervals (domain.md §3).
_SAFETY_RANK = {"dangerous": 0, "semi_safe": 1, "safe": 2}


def flatten(settings: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """{'grain_temp_max_c': {'low': 18}} → {'grain_temp_max_c.low': 18}: one path per value."""
    out: dict[str, Any] = {}
    for key, value in settings.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, path + "."))
        else:
            out[path] = value
    return out


def _looser(path: str, old: Any, new: Any) -> bool:
    field = path.split(".", 1)[0]
    if field == "safety_class":
        return _SAFETY_RANK[new] > _SAFETY_RANK[old]
    if field == "storage_zone" or field in NEUTRAL or old is None or new is None:
        return False
    return (new - old) * LOOSER_WHEN[field] > 0


def loosened(old: Thresholds, new: Thresholds, only: Iterable[str] | None = None) -> list[str]:
    """The settings (as paths, `grain_temp_max_c.low`) on which `new` alarms later or less
    than `old`. A table key that `new` drops falls back to nothing, which counts as looser;
    moving to storage zone 7 loosens when its condensation margin is the smaller one."""
    before, after = flatten(old.model_dump()), flatten(new.model_dump())
    paths = list(before) if only is None else [p for p in only if p in before]
    out = [p for p in paths if p not in after or _looser(p, before[p], after[p])]
    zone_moved = new.storage_zone != old.storage_zone
    if (only is None or "storage_zone" in only) and zone_moved and new.margin_c() < old.margin_c():
        out.append("storage_zone")
    return out


def floor_breaches(floor: Mapping[str, Any], th: Thresholds) -> list[tuple[str, Any]]:
    """The settings of `th` looser than a province floor (the settings the province set
    itself; what it left alone binds nobody), each with the floor's value."""
    paths = flatten(floor)
    if not paths:
        return []
    base = resolve_thresholds(floor)
    return [(p, paths[p]) for p in loosened(base, th, only=paths)]


# What staff call each setting, for the refusals they read.
LABELS = {
    "grain_temp_max_c": "最高粮温上限", "grain_temp_mean_max_c": "平均粮温上限",
    "hotspot_warning_delta_c": "局部发热预警温差", "hotspot_alarm_delta_c": "局部发热报警温差",
    "temp_rise_per_day_c": "日升温", "temp_rise_sustained_days": "连续升温天数",
    "temp_rise_3day_c": "三日升温", "condensation_margin_c": "结露温差",
    "condensation_margin_zone7_c": "结露温差（第七储粮区）", "storage_zone": "储粮生态区",
    "indoor_rh_max_pct": "仓内湿度上限", "indoor_rh_hold_min": "仓湿超限持续时间",
    "sensor_stuck_days": "传感器读数不变天数", "grain_valid_min_c": "有效粮温下限",
    "grain_valid_max_c": "有效粮温上限", "cable_silent_min": "测温电缆无数据时间",
    "offline_interval_multiple": "离线判定倍数", "expected_scan_interval_min": "检测周期",
    "camera_offline_hold_min": "摄像头离线持续时间", "clear_hysteresis_min": "报警解除延时",
    "check_interval_days": "粮情检查周期", "check_cool_max_c": "低温带粮温上限",
    "check_heating_days": "升温判定天数", "safety_class": "储粮安全等级",
    "new_grain_months": "新粮期",
}
_KEY_NAMES = {"low": "低温", "quasi_low": "准低温", "normal": "常温", "cool": "低温带",
              "warm": "高温带", "safe": "安全粮", "semi_safe": "半安全粮", "dangerous": "危险粮"}
_UNITS = (("_c", " °C"), ("_pct", " %"), ("_min", " 分钟"), ("_days", " 天"), ("_months", " 个月"))


def setting_name(path: str) -> str:
    """'grain_temp_max_c.low' → '最高粮温上限·低温（grain_temp_max_c.low）'."""
    field, *keys = path.split(".")
    name = "·".join([LABELS.get(field, field), *(_KEY_NAMES.get(k, k) for k in keys)])
    return f"{name}（{path}）"


def _floor_value(path: str, value: Any) -> str:
    field = path.split(".", 1)[0]
    if field == "safety_class":
        return _KEY_NAMES.get(value, str(value))
    unit = next((u for suffix, u in _UNITS if field.endswith(suffix)), "")
    return f"{value:g}{unit}" if isinstance(value, int | float) else str(value)


def floor_message(province: str | None, breaches: list[tuple[str, Any]]) -> str:
    """The refusal of a change looser than the province floor, naming each setting."""
    def limit(path: str, value: Any) -> str:
        side = {1: "不得高于", -1: "不得低于"}.get(LOOSER_WHEN.get(path.split(".", 1)[0], 0), "不得宽于")
        return f"{setting_name(path)}{side}省级底线 {_floor_value(path, value)}"
    return f"阈值不得宽于省 {province} 的预警底线：" + "；".join(limit(p, v) for p, v in breaches)
