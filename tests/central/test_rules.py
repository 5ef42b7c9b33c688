"""Alarm rules on crafted scans: each rule alone, at the boundaries of its thresholds."""

from datetime import UTC, date, datetime, timedelta

import pytest

from central.rules.advice import cooling_ventilation
from central.rules.insects import insect_grade
from central.rules.model import GranaryScan, Point
from central.rules.scan_rules import (
    condensation_risk,
    evaluate_scan,
    grain_temp_high,
    grain_temp_mean_high,
    hotspot,
    sensor_fault,
)
from central.rules.thresholds import ThresholdError, Thresholds, resolve_thresholds
from central.rules.time_rules import (
    camera_offline,
    check_interval_days,
    depot_offline,
    indoor_humidity_high,
    inspection_overdue,
    sensor_stuck,
    temp_rise,
)

NOW = datetime(2026, 11, 22, 0, 0, tzinfo=UTC)
TH = Thresholds()


def grid(temps, mode="normal", **kw):
    """temps[layer-1][cable-1] -> a scan; None = no reading, 'F' = fault."""
    points = []
    for li, row in enumerate(temps):
        for ci, t in enumerate(row):
            points.append(Point(cable=ci + 1, layer=li + 1, temp_c=None if t in (None, "F") else t,
                                fault=t == "F", wall=ci in (0, len(row) - 1)))
    return GranaryScan("P01", mode, NOW, points, **kw)


@pytest.mark.parametrize(("mode", "limit"), [("low", 20.0), ("quasi_low", 25.0), ("normal", 30.0)])
def test_grain_temp_high_boundaries(mode, limit):
    assert grain_temp_high(grid([[limit - 0.1, 10]], mode), TH) == []
    assert grain_temp_high(grid([[limit, 10]], mode), TH) == []
    [f] = grain_temp_high(grid([[limit + 0.1, 10]], mode), TH)
    assert (f.rule, f.subject, f.severity, f.value, f.threshold) == ("grain_temp_high", "P01", "alarm", limit + 0.1, limit)
    assert "cable 1 layer 1" in f.message


def test_grain_temp_mean_high_boundaries():
    assert grain_temp_mean_high(grid([[15.0, 15.0]], "low"), TH) == []
    [f] = grain_temp_mean_high(grid([[15.0, 15.2]], "low"), TH)
    assert f.value == 15.1 and f.threshold == 15.0


def test_hotspot_marks_only_the_hot_point_with_warning_and_alarm_levels():
    layer = [12.0] * 10
    assert hotspot(grid([layer[:9] + [14.9]]), TH) == []
    [warn] = hotspot(grid([layer[:9] + [15.0]]), TH)
    assert (warn.subject, warn.severity, warn.value) == ("P01/C10/L1", "warning", 3.0)
    [alarm] = hotspot(grid([layer[:9] + [17.0], layer]), TH)
    assert (alarm.subject, alarm.severity) == ("P01/C10/L1", "alarm")


def test_hotspot_compares_within_its_own_layer_only():
    # a warm bottom layer is not a hot spot: every point there is warm
    assert hotspot(grid([[10.0] * 5, [20.0] * 5]), TH) == []


def test_faulty_point_raises_sensor_fault_and_no_temperature_alarm():
    scan = grid([[12.0, 12.0, "F", 12.0]])
    found = evaluate_scan(scan, TH)
    assert [f.subject for f in found["sensor_fault"]] == ["P01/C3/L1"]
    assert found["hotspot"] == [] and found["grain_temp_high"] == []


def test_missing_cable_is_a_sensor_fault_of_that_cable():
    found = sensor_fault(grid([[12.0]], missing_cables=[7]), TH)
    assert [f.subject for f in found] == ["P01/C7"]


def test_condensation_boundaries_by_dew_point():
    # indoor 25 °C at 60 %RH: dew point 16.7 °C
    kw = {"indoor_temp_c": 25.0, "indoor_rh_pct": 60.0}
    assert condensation_risk(grid([[19.8, 30.0, 19.8]], **kw), TH) == []
    [warn] = condensation_risk(grid([[19.5, 30.0, 19.5]], **kw), TH)
    assert warn.severity == "warning" and warn.value <= 3.0
    [alarm] = condensation_risk(grid([[16.5, 30, 30]], **kw), TH)
    assert alarm.severity == "alarm"


def test_condensation_margin_is_smaller_in_zone_7():
    kw = {"indoor_temp_c": 25.0, "indoor_rh_pct": 60.0}
    zone7 = resolve_thresholds({"storage_zone": 7})
    scan = grid([[19.2, 30.0]], **kw)  # margin about 2.5 °C
    assert condensation_risk(scan, TH)
    assert condensation_risk(scan, zone7) == []


def test_condensation_ignores_inner_deep_points():
    kw = {"indoor_temp_c": 25.0, "indoor_rh_pct": 60.0}
    scan = grid([[30.0, 30.0, 30.0], [30.0, 10.0, 30.0]], **kw)  # cold point is deep and inside
    assert condensation_risk(scan, TH) == []


def test_temp_rise_sustained_and_three_day():
    assert temp_rise("s", "P01", [15.0, 14.8, 14.6, 14.4], TH) is None  # seasonal drift
    assert temp_rise("s", "P01", [15.0, 14.0, 13.0, 13.0], TH).threshold == 1.0
    assert temp_rise("s", "P01", [15.0, 14.0, 13.5, 13.0], TH) is None
    assert temp_rise("s", "P01", [16.0, 15.5, 13.5, 13.0], TH).threshold == 3.0
    assert temp_rise("s", "P01", [15.0, None, None, 12.0], TH).value == 3.0


def test_indoor_humidity_needs_the_whole_hold_time():
    series = [(NOW - timedelta(minutes=m), 80.0) for m in range(0, 130, 10)]
    assert indoor_humidity_high("P01", series, NOW, TH).value == 80.0
    assert indoor_humidity_high("P01", series[:10], NOW, TH) is None  # only 90 min of history
    dip = [*series[:5], (NOW - timedelta(minutes=45), 75.0), *series[6:]]
    assert indoor_humidity_high("P01", dip, NOW, TH) is None


def test_sensor_stuck_for_days():
    flat = [(NOW - timedelta(hours=h), 14.5) for h in range(0, 24 * 8, 6)]
    assert sensor_stuck("P01/C1/L1", "P01", flat, NOW, TH) is not None
    moving = [*flat[:-1], (flat[-1][0], 14.6)]
    assert sensor_stuck("P01/C1/L1", "P01", moving[:5] + [(NOW - timedelta(hours=1), 14.6)], NOW, TH) is None
    assert sensor_stuck("P01/C1/L1", "P01", flat[:20], NOW, TH) is None  # only 5 days seen


def test_depot_offline_by_last_will_or_silence():
    assert depot_offline("offline", NOW, NOW, TH).subject == "@depot"
    assert depot_offline("online", NOW - timedelta(minutes=180), NOW, TH) is None
    assert depot_offline("online", NOW - timedelta(minutes=181), NOW, TH).value == 181.0


def test_camera_offline_after_hold_time():
    assert camera_offline("CAM1", "P01", NOW - timedelta(minutes=9), NOW, TH) is None
    assert camera_offline("CAM1", "P01", NOW - timedelta(minutes=10), NOW, TH) is not None
    assert camera_offline("CAM1", "P01", None, NOW, TH) is None


@pytest.mark.parametrize(("temp", "klass", "days"), [
    (15.0, "safe", 15), (15.0, "semi_safe", 10), (15.0, "dangerous", 5),
    (15.1, "safe", 10), (15.1, "semi_safe", 5), (15.1, "dangerous", 1),
])
def test_check_intervals(temp, klass, days):
    assert check_interval_days(temp, klass, TH) == days
    assert check_interval_days(temp, klass, TH, new_grain=True) == days / 2
    assert check_interval_days(temp, klass, TH, heating=True) == 1


def test_inspection_overdue():
    assert inspection_overdue("P01", NOW - timedelta(days=10), 10, NOW) is None
    assert inspection_overdue("P01", NOW - timedelta(days=10, hours=1), 10, NOW).value == 10.04
    assert inspection_overdue("P01", None, 10, NOW) is not None


def test_overrides_merge_by_storage_mode_and_reject_unknown_settings():
    th = resolve_thresholds({"grain_temp_max_c": {"low": 18}}, {"hotspot_alarm_delta_c": 4})
    assert th.grain_temp_max_c == {"low": 18, "quasi_low": 25.0, "normal": 30.0}
    assert th.hotspot_alarm_delta_c == 4
    with pytest.raises(ThresholdError, match="hotspot_delta"):
        resolve_thresholds({"hotspot_delta": 3})
    with pytest.raises(ThresholdError):
        resolve_thresholds({"indoor_rh_max_pct": 130})


def test_ventilation_advice():
    assert cooling_ventilation(20.0, 18.0, 2.0, 12.0, 50.0, TH).action == "start"
    assert cooling_ventilation(20.0, 18.0, 2.0, 12.1, 50.0, TH).action == "none"
    assert cooling_ventilation(20.0, 18.0, 2.0, 15.0, 50.0, TH, ventilating=True).action == "continue"
    assert cooling_ventilation(20.0, 18.0, 2.0, 16.0, 50.0, TH, ventilating=True).action == "stop"
    assert cooling_ventilation(20.0, 18.0, 4.0, 16.0, 50.0, TH, ventilating=True).action == "continue"
    # outside air at 10 °C and 100 %RH has a dew point of 10 °C, above the coldest grain
    assert cooling_ventilation(20.0, 9.0, 2.0, 10.0, 100.0, TH).action == "vetoed"
    assert cooling_ventilation(20.0, 18.0, 2.0, 12.0, 50.0, TH, raining=True).action == "vetoed"


@pytest.mark.parametrize(("all_", "major", "q", "temp", "grade", "days"), [
    (5, 2, False, 20, "basically_free", None),
    (6, 0, False, 20, "ordinary", 15),
    (0, 3, False, 20, "ordinary", 15),
    (30, 10, False, 14.9, "ordinary", None),
    (31, 0, False, 10, "serious", 7),
    (0, 11, False, 10, "serious", 7),
    (0, 0, True, 10, "dangerous", 3),
])
def test_insect_grades(all_, major, q, temp, grade, days):
    day = date(2026, 11, 1)
    g = insect_grade(all_, major, q, day, temp)
    assert g.grade == grade
    assert g.deadline == (None if days is None else day + timedelta(days=days))
