"""Alarm rules that read neither a scan nor a series: silent depots and cameras, inspection
intervals, threshold overrides, ventilation advice, insect grades.

The scan and series rules at the boundaries of their thresholds are case folders in
tests/cases/rules/."""

from datetime import UTC, date, datetime, timedelta

import pytest

from central.rules.advice import cooling_ventilation
from central.rules.insects import insect_grade
from central.rules.thresholds import ThresholdError, Thresholds, resolve_thresholds
from central.rules.time_rules import (
    camera_offline,
    check_interval_days,
    depot_offline,
    inspection_overdue,
)

NOW = datetime(2026, 11, 22, 0, 0, tzinfo=UTC)
TH = Thresholds()


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
