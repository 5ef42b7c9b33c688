"""Control requests to a simulated depot: good ones act, bad ones get a reply naming why."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from simulators.control import handle
from simulators.depot import SimulatedDepot
from simulators.grainpile.clock import FrozenClock
from simulators.load import parse_sim_depot
from tests.simulators.test_depot import depot_text


@pytest.fixture
def depot(tmp_path):
    config, settings = parse_sim_depot(depot_text(tmp_path), "depot.yaml")
    return SimulatedDepot(config, settings, clock=FrozenClock(datetime(2026, 11, 1, tzinfo=UTC)))


def test_inject_status_clear(depot):
    reply = handle(depot, {"cmd": "inject", "scenario": {
        "kind": "hotspot", "granary": "P01", "cable": 2, "layer": 1, "rate_c_per_day": 3}})
    assert reply == {"ok": True, "id": 1}
    status = handle(depot, {"cmd": "status"})
    assert status["sim_time"].startswith("2026-11-01T00:00:00")
    assert [s["kind"] for s in status["scenarios"]] == ["hotspot"]
    assert handle(depot, {"cmd": "clear", "kind": "hotspot"}) == {"ok": True, "cleared": 1}


@pytest.mark.parametrize(("request_", "error"), [
    ([1, 2], '"cmd"'),
    ({"cmd": "explode"}, "未知命令 'explode'"),
    ({"cmd": "inject"}, "scenario.kind: null 不是以下之一"),
    ({"cmd": "inject", "scenario": {"kind": "hotspot", "granary": "P01", "cable": 1,
                                    "layer": 1, "rate_c_per_day": -1}}, "rate_c_per_day"),
    ({"cmd": "expected_grain", "granary": "P99"}, "没有仓房 'P99'"),
    ({"cmd": "inject", "scenario": {"kind": "cable_missing", "granary": "P02", "cable": 10}},
     "scenario.cable: 仓房 P02 没有电缆 10"),
    ({"cmd": "inject", "scenario": {"kind": "slave_silent", "bus": "rs485-1", "address": 9}},
     "scenario.address: 总线 rs485-1 上没有地址为 9 的分机"),
])
def test_bad_requests_are_answered_not_raised(depot, request_, error):
    reply = handle(depot, request_)
    assert reply["ok"] is False and error in reply["error"]
