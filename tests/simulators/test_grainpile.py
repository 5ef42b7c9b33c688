"""The grain-pile model: depth lag, determinism, hot spot growth, condensation, climate."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from simulators.grainpile.climate import Climate, ClimateSettings, dew_point_c
from simulators.grainpile.clock import FrozenClock, SimClock
from simulators.grainpile.scenarios import ScenarioError, parse_scenario
from simulators.grainpile.thermal import CablePlace, PileGeometry, ThermalSettings
from simulators.grainpile.world import World

START = datetime(2026, 11, 1, tzinfo=UTC)
DAY = 86400.0


def flat_geometry(code="P01", rows=3, cols=3, depths=(0.3, 2.0, 4.0, 5.7)):
    cables = tuple(
        CablePlace(r * cols + c + 1, len(depths), r + 1, c + 1, 20.0 + 4 * c, 8.0 + 4 * r)
        for r in range(rows) for c in range(cols)
    )
    return PileGeometry(code, "flat", 60, 24, 6.0, depths, cables)


def world(seed=42, **kw):
    return World([flat_geometry()], FrozenClock(START), seed, ClimateSettings(**kw),
                 ThermalSettings())


def test_daily_swing_only_near_the_surface():
    w = world()
    t0 = START.timestamp()
    hours = [t0 + h * 3600 for h in range(24)]
    by_layer = list(zip(*[w.grain("P01", t)[5] for t in hours], strict=True))
    swings = [max(v) - min(v) for v in by_layer]
    outdoor = [w.climate.outdoor_temp_c(t) for t in hours]
    assert max(outdoor) - min(outdoor) > 8           # the air swings ±5 °C a day
    assert swings[0] > 1.0                             # 0.3 m down still feels the day
    assert swings[2] < 0.2 and swings[3] < 0.2         # 4 m down does not


def _peak_day(values):
    return max(range(len(values)), key=values.__getitem__)


def test_seasonal_wave_arrives_late_and_damped_deep_inside():
    w = world(weather_amplitude_c=0.0, daily_amplitude_c=0.0)
    t0 = START.timestamp()
    days = [t0 + d * DAY for d in range(0, 400)]
    air = [w.climate.outdoor_temp_c(t) for t in days]
    deep = [w.grain("P01", t)[5][3] for t in days]
    top = [w.grain("P01", t)[5][0] for t in days]
    lag_deep = _peak_day(deep) - _peak_day(air)
    lag_top = _peak_day(top) - _peak_day(air)
    assert 30 <= lag_deep <= 62, lag_deep            # 1-2 months late 5.7 m down
    assert lag_top <= 3
    assert (max(deep) - min(deep)) < 0.85 * (max(air) - min(air))


def test_same_seed_same_pile_other_seed_other_pile():
    t = START.timestamp() + 12.345 * DAY
    a, b, c = world(seed=7), world(seed=7), world(seed=8)
    assert a.grain("P01", t) == b.grain("P01", t)
    assert a.grain("P01", t) != c.grain("P01", t)
    # a closed form: the answer does not depend on what was asked before
    a.grain("P01", t - 3 * DAY)
    assert a.grain("P01", t) == b.grain("P01", t)


def test_hotspot_grows_at_its_rate_where_it_was_put():
    w, base = world(), world()
    w.schedule({"kind": "hotspot", "granary": "P01", "cable": 5, "layer": 3,
                "rate_c_per_day": 1.5, "start_after": "2d"}, at_start=True)
    t0 = START.timestamp()
    for day, rise in ((1, 0.0), (2, 0.0), (4, 3.0), (10, 12.0)):
        t = t0 + day * DAY
        hot, cold = w.grain("P01", t), base.grain("P01", t)
        assert hot[5][2] - cold[5][2] == pytest.approx(rise, abs=1e-9)
        # neighbours warm by the spread share, far cables not at all
        assert hot[5][1] - cold[5][1] == pytest.approx(0.3 * rise, abs=1e-9)
        assert hot[4][2] - cold[4][2] == pytest.approx(0.3 * rise, abs=1e-9)
        assert hot[1] == cold[1]


def test_initial_grain_temperature_relaxes_with_depth():
    geo = flat_geometry()
    w = World([geo], FrozenClock(START), 1, ClimateSettings(), ThermalSettings(),
              initial_c={"P01": 5.0})
    t0 = START.timestamp()
    start = w.grain("P01", t0)[5]
    assert all(abs(v - 5.0) < 1.0 for v in start)      # conduction mixes a little
    later = w.grain("P01", t0 + 5 * DAY)[5]
    assert abs(later[3] - 5.0) < 2.0                   # deep grain still remembers
    assert abs(later[0] - 5.0) > 3.0                   # the top has moved on


def test_condensation_puts_humid_warm_air_over_a_colder_surface():
    w = world()
    t = START.timestamp() + DAY
    temp, rh = w.indoor_air("P01", t)
    top = min(v[0] for v in w.grain("P01", t).values())
    assert dew_point_c(temp, rh) < top                 # normally: no condensation
    w.schedule({"kind": "condensation", "granary": "P01"}, at_start=True)
    temp, rh = w.indoor_air("P01", t)
    top = max(v[0] for v in w.grain("P01", t).values())
    assert rh == 90.0
    assert dew_point_c(temp, rh) > top                 # the top layer is below the dew point


def test_outdoor_rh_falls_when_the_day_warms():
    c = Climate(ClimateSettings(weather_amplitude_c=0), seed=1)
    t0 = START.timestamp()
    hours = [t0 + h * 3600 for h in range(24)]
    temps = [c.outdoor_temp_c(t) for t in hours]
    rhs = [c.outdoor_rh_pct(t) for t in hours]
    assert rhs[temps.index(max(temps))] < rhs[temps.index(min(temps))]
    assert all(5 <= r <= 100 for r in rhs)


def test_sensor_faults_and_missing_cable_in_sensed_values():
    w = world()
    for fault in ("open", "short", "power_on"):
        w.schedule({"kind": "sensor_fault", "granary": "P01", "cable": 2,
                    "layer": {"open": 1, "short": 2, "power_on": 3}[fault], "fault": fault})
    w.schedule({"kind": "cable_missing", "granary": "P01", "cable": 9})
    sensed = w.sensed_grain("P01", w.now_t())
    assert sensed[2][:3] == ["open", -127.0, 85.0]
    assert sensed[9] == []
    assert len(sensed[1]) == 4 and all(isinstance(v, float) for v in sensed[1])


def test_scenario_start_after_and_lasts():
    w = world()
    w.schedule({"kind": "cable_missing", "granary": "P01", "cable": 3,
                "start_after": "1h", "lasts": "2h"}, at_start=True)
    t0 = START.timestamp()
    assert w.sensed_grain("P01", t0)[3] != []
    assert w.sensed_grain("P01", t0 + 3600)[3] == []
    assert w.sensed_grain("P01", t0 + 3 * 3600)[3] != []


@pytest.mark.parametrize(("data", "named"), [
    ({"kind": "volcano"}, "kind"),
    ({"kind": "hotspot", "granary": "P01", "cable": 1, "layer": 1}, "rate_c_per_day"),
    ({"kind": "hotspot", "granary": "P01", "cable": 1, "layer": 1, "rate_c_per_day": 1,
      "colour": "red"}, "colour"),
    ({"kind": "sensor_fault", "granary": "P01", "cable": 1, "layer": 1, "fault": "x"}, "fault"),
    ({"kind": "slave_silent", "bus": "b", "address": 300}, "address"),
    ({"kind": "crc_corrupt", "bus": "b", "address": 1, "start_after": "soon"}, "start_after"),
])
def test_bad_scenarios_name_the_setting(data, named):
    with pytest.raises(ScenarioError) as err:
        parse_scenario(data)
    assert named in str(err.value)


def test_sim_clock_runs_accelerated():
    now = [100.0]
    clock = SimClock(START, 3600, monotonic=lambda: now[0])
    now[0] += 2.5
    assert clock.now() == START.replace(hour=2, minute=30)
    clock.advance(1800)
    assert clock.elapsed_s() == pytest.approx(2.5 * 3600 + 1800)
    with pytest.raises(ValueError, match="speed"):
        SimClock(START, 0)
    assert math.isclose(clock.timestamp(), START.timestamp() + clock.elapsed_s())


def test_conduction_pulls_each_point_towards_its_neighbours():
    geo = flat_geometry()
    t = START.timestamp() + 40 * DAY
    plain = World([geo], FrozenClock(START), 3, ClimateSettings(),
                  ThermalSettings(conduction=0.0)).grain("P01", t)
    mixed = World([geo], FrozenClock(START), 3, ClimateSettings(),
                  ThermalSettings(conduction=0.3)).grain("P01", t)
    # cable 5 (grid centre), layer 2: neighbours are layers 1 and 3 and cables 2, 4, 6, 8
    near = [plain[5][0], plain[5][2], plain[2][1], plain[4][1], plain[6][1], plain[8][1]]
    v = plain[5][1]
    assert mixed[5][1] == pytest.approx(v + 0.3 * (sum(near) / len(near) - v), abs=1e-9)
    assert mixed[5][1] != pytest.approx(v, abs=0.05)
