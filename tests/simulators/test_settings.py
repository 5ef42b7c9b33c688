"""The `simulation:` section: the example is valid; every bad setting is named with its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from protocols.depot.loader import ConfigErrors
from simulators.load import load_sim_depot, parse_sim_depot
from simulators.settings import SimulationSettingsError, parse_simulation

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "depot.yaml"


def test_example_depot_is_a_valid_simulation():
    config, settings = load_sim_depot(EXAMPLE)
    assert settings.seed == 42 and settings.speed == 3600
    kinds = [s.kind for s in settings.parsed_scenarios()]
    assert kinds == ["hotspot", "sensor_fault", "condensation"]
    assert settings.serial_links == {"rs485-1": "./var/sim/ttyRS485-1"}
    assert config.depot.code == "HN-0731-001"


def test_defaults_without_a_section():
    settings = parse_simulation(None)
    assert settings.seed == 0 and settings.rtu_wire_time and settings.scenarios == []


def _line_of(text: str, needle: str) -> int:
    return next(i for i, t in enumerate(text.splitlines(), 1) if needle in t)


@pytest.mark.parametrize(("old", "new", "setting", "message"), [
    ("cable: 40, layer: 3", "cable: 99, layer: 3", "simulation.scenarios[0].cable",
     "仓房 P01 没有电缆 99"),
    ("cable: 40, layer: 3", "cable: 40, layer: 7", "simulation.scenarios[0].layer",
     "只有 4 层"),
    ("fault: open", "fault: melted", "simulation.scenarios[1].fault", "'open'、'short'"),
    ("granary: P03}", "granary: P07}", "simulation.scenarios[2].granary", "本库点没有仓房 'P07'"),
    ("speed: 3600", "speed: -2", "simulation.speed", "须大于 0"),
    ("start_after: 2d", "start_after: later", "simulation.scenarios[0].start_after",
     "不是时长"),
    ("{rs485-1: ./var", "{tcp-1: ./var", "simulation.serial_links.tcp-1", "不是串口总线"),
    ('start: "2026-11-01T00:00:00Z"', 'start: "2026-11-01T00:00:00"', "simulation.start",
     "须带时区"),
])
def test_bad_settings_are_named_with_their_line(old, new, setting, message):
    text = EXAMPLE.read_text(encoding="utf-8")
    assert old in text
    bad = text.replace(old, new, 1)
    with pytest.raises(ConfigErrors) as err:
        parse_sim_depot(bad, "depot.yaml")
    problem = err.value.errors[0]
    assert problem.setting == setting
    assert message in problem.message
    assert problem.line == _line_of(bad, new)


def test_several_problems_at_once():
    with pytest.raises(SimulationSettingsError) as err:
        parse_simulation({"seed": "x", "speed": 0, "scenarios": [{"kind": "hotspot"}]})
    paths = [".".join(map(str, p)) for p, _ in err.value.problems]
    assert paths == ["simulation.seed", "simulation.speed"]
    with pytest.raises(SimulationSettingsError) as err:
        parse_simulation({"scenarios": [{"kind": "hotspot"}, {"kind": "nope"}]})
    paths = [".".join(map(str, p)) for p, _ in err.value.problems]
    assert "simulation.scenarios.0.granary" in paths and "simulation.scenarios.1.kind" in paths


def test_simulated_depot_checks_a_raw_section_against_the_depot():
    from simulators.depot import SimulatedDepot

    config, _settings = load_sim_depot(EXAMPLE)
    raw = {"scenarios": [{"kind": "slave_silent", "bus": "rs485-1", "address": 99}]}
    with pytest.raises(SimulationSettingsError, match="总线 rs485-1 上没有地址为 99 的分机"):
        SimulatedDepot(config, raw)
