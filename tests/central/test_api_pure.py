"""Pure parts of the API: statistics, depot state, history range rules, JSON times."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from central.api.encoding import json_answer
from central.api.errors import BadRequest
from central.api.history_range import history_range
from central.api.queries import depot_state
from central.api.stats import air_value, cable_scan, granary_stats, layer_stats, summary

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def test_cable_scan_places_layers_and_faults():
    rows = [(3, 12.5, False), (1, 10.0000001, False), (2, None, True)]
    assert cable_scan(rows) == ([10.0, None, 12.5], [2])
    assert cable_scan([]) == ([], [])
    assert cable_scan([], 2) == ([None, None], [])
    assert cable_scan([(1, 5.0, False)], 3) == ([5.0, None, None], [])


def test_layer_and_granary_stats_skip_missing_values():
    cables = [{"temps_c": [10.0, None, 12.0]}, {"temps_c": [14.0, 20.0]}, {"temps_c": [None]}]
    assert layer_stats(cables) == [
        {"layer": 1, "min": 10.0, "max": 14.0, "mean": 12.0},
        {"layer": 2, "min": 20.0, "max": 20.0, "mean": 20.0},
        {"layer": 3, "min": 12.0, "max": 12.0, "mean": 12.0},
    ]
    assert granary_stats(cables) == {"min": 10.0, "max": 20.0, "mean": 14.0}
    assert summary([None]) == {"min": None, "max": None, "mean": None}


@pytest.mark.parametrize(
    ("temp", "rh", "dew"),
    [(25.0, 60.0, 16.7), (19.2, 91.0, 17.7), (20.0, None, None), (None, 50.0, None),
     (20.0, 0.0, None), (20.0, 130.0, None)],
)
def test_air_value_dew_point(temp, rh, dew):
    assert air_value(temp, rh)["dew_point_c"] == dew


@pytest.mark.parametrize(
    ("stored", "silent_s", "state"),
    [("online", 60, "online"), ("online", 4 * 3600, "offline"), ("offline", 60, "offline"),
     ("unknown", 60, "unknown")],
)
def test_depot_state(stored, silent_s, state):
    assert depot_state(stored, NOW - timedelta(seconds=silent_s), NOW, 3 * 3600) == state
    assert depot_state("unknown", None, NOW, 3 * 3600) == "unknown"


def test_history_range_defaults_and_limits():
    rng = history_range(None, None, "raw", NOW)
    assert (rng.start, rng.end) == (NOW - timedelta(days=1), NOW)
    assert history_range(None, None, "1d", NOW).start == NOW - timedelta(days=92)
    with pytest.raises(BadRequest, match="bucket：只能是 raw、1h、1d"):
        history_range(None, None, "1w", NOW)
    with pytest.raises(BadRequest, match="超过 1830 天"):
        history_range(NOW - timedelta(days=2000), NOW, "1d", NOW)

    class Tight:
        history_max_days_raw = 1

    with pytest.raises(BadRequest, match="超过 1 天"):
        history_range(NOW - timedelta(days=2), NOW, "raw", NOW, Tight())


def test_json_answer_writes_utc_z_times():
    shanghai = datetime(2026, 11, 22, 16, 0, tzinfo=UTC).astimezone(ZoneInfo("Asia/Shanghai"))
    body = json.loads(json_answer({"ts": shanghai, "xs": [NOW]}).body)
    assert body == {"ts": "2026-11-22T16:00:00Z", "xs": ["2026-11-22T08:00:00Z"]}
