"""Rules that need a history or the clock (domain.md §2–§3): temperature rise, humidity held
high, stuck sensors, silent depots and cameras, overdue inspections. Pure functions: the
caller fetches the series from the database and passes `now`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from central.rules.model import Finding
from central.rules.thresholds import Thresholds


def temp_rise(subject: str, granary: str, daily: Sequence[float | None], th: Thresholds) -> Finding | None:
    """`daily[k]` is the point's temperature k days ago (daily[0] = now).

    Fires on a rise ≥ per-day limit in each of the last `temp_rise_sustained_days` days, or a
    rise ≥ the 3-day limit over three days. A seasonal drift of a few tenths a day never does."""
    n = th.temp_rise_sustained_days
    if len(daily) > n and all(daily[k] is not None for k in range(n + 1)):
        steps = [daily[k] - daily[k + 1] for k in range(n)]
        if all(step >= th.temp_rise_per_day_c for step in steps):
            rise = round(min(steps), 2)
            return Finding("temp_rise", subject, "warning", rise, th.temp_rise_per_day_c,
                           f"连续 {n} 天每天上升 {rise:.1f} ℃ 以上", granary)
    if len(daily) > 3 and daily[0] is not None and daily[3] is not None:
        rise = round(daily[0] - daily[3], 2)
        if rise >= th.temp_rise_3day_c:
            return Finding("temp_rise", subject, "warning", rise, th.temp_rise_3day_c,
                           f"3 天内上升 {rise:.1f} ℃", granary)
    return None


def indoor_humidity_high(granary: str, series: Sequence[tuple[datetime, float]], now: datetime,
                         th: Thresholds) -> Finding | None:
    """仓湿 above the limit for the whole hold time: every reading since `now - hold` is above,
    and the readings reach back at least that far (a single wet reading is not enough)."""
    hold = timedelta(minutes=th.indoor_rh_hold_min)
    start = now - hold
    window = [(ts, rh) for ts, rh in series if ts >= start]
    before = [ts for ts, _ in series if ts <= start]
    if not window or not before:
        return None
    # the reading in force at the start of the window counts too
    last_before = max((item for item in series if item[0] <= start), key=lambda item: item[0])
    values = [rh for _, rh in window] + [last_before[1]]
    if min(values) <= th.indoor_rh_max_pct:
        return None
    low = min(values)
    return Finding("indoor_humidity_high", granary, "warning", round(low, 2), th.indoor_rh_max_pct,
                   f"仓湿持续 {th.indoor_rh_hold_min / 60:g} 小时高于 {th.indoor_rh_max_pct:g} %RH"
                   f"（期间最低 {low:.1f} %RH）", granary)


def sensor_stuck(subject: str, granary: str, series: Sequence[tuple[datetime, float]], now: datetime,
                 th: Thresholds) -> Finding | None:
    """A sensor that has read one identical value for `sensor_stuck_days` days."""
    span = timedelta(days=th.sensor_stuck_days)
    if not series:
        return None
    first_ts = min(ts for ts, _ in series)
    if now - first_ts < span:
        return None
    recent = [v for ts, v in series if ts >= now - span]
    if len(recent) < 2 or len(set(recent)) != 1:
        return None
    return Finding("sensor_fault", subject, "warning", recent[0], None,
                   f"读数连续 {th.sensor_stuck_days:g} 天停在 {recent[0]:.2f} ℃", granary)


def depot_offline(state: str | None, last_seen: datetime | None, now: datetime,
                  th: Thresholds) -> Finding | None:
    """The last will said offline, or nothing arrived for a multiple of the scan interval."""
    limit = timedelta(minutes=th.expected_scan_interval_min * th.offline_interval_multiple)
    if state == "offline":
        return Finding("depot_offline", "@depot", "alarm", None, None,
                       "边缘设备报告离线（遗嘱消息）")
    if last_seen is not None and now - last_seen > limit:
        minutes = (now - last_seen).total_seconds() / 60
        return Finding("depot_offline", "@depot", "alarm", round(minutes, 1), limit.total_seconds() / 60,
                       f"已 {minutes:.0f} 分钟未收到数据（限值 {limit.total_seconds() / 60:.0f} 分钟）")
    return None


def camera_offline(camera: str, granary: str | None, offline_since: datetime | None, now: datetime,
                   th: Thresholds) -> Finding | None:
    if offline_since is None:
        return None
    held = now - offline_since
    if held < timedelta(minutes=th.camera_offline_hold_min):
        return None
    minutes = held.total_seconds() / 60
    return Finding("camera_offline", camera, "warning", round(minutes, 1), th.camera_offline_hold_min,
                   f"摄像机 {camera} 已离线 {minutes:.0f} 分钟", granary)


def check_interval_days(max_grain_c: float, safety_class: str, th: Thresholds, *, heating: bool = False,
                        new_grain: bool = False) -> float:
    """Days allowed between complete scans (domain.md §3): by the granary's highest grain
    temperature and the grain's safety class; daily while heating; new grain twice as often."""
    if heating:
        return th.check_heating_days
    band = "cool" if max_grain_c <= th.check_cool_max_c else "warm"
    try:
        days = th.check_interval_days[band][safety_class]
    except KeyError:
        raise ValueError(f"unknown safety class {safety_class!r}; expected safe, semi_safe or dangerous") from None
    return days / 2 if new_grain else days


def inspection_overdue(granary: str, last_complete_scan: datetime | None, interval_days: float,
                       now: datetime) -> Finding | None:
    if last_complete_scan is None:
        return Finding("inspection_overdue", granary, "warning", None, interval_days,
                       "没有完整巡检记录", granary)
    age = (now - last_complete_scan).total_seconds() / 86400
    if age <= interval_days:
        return None
    return Finding("inspection_overdue", granary, "warning", round(age, 2), interval_days,
                   f"距上次完整巡检 {age:.1f} 天，应每 {interval_days:g} 天一次", granary)
