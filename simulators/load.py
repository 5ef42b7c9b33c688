"""Read a depot file for simulation: the depot model (protocols.depot) plus our `simulation:`
section, checked against the depot (granaries, cables, buses named by scenarios exist)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from protocols.depot.loader import ConfigErrors, ConfigProblem, locate_setting, parse_depot_config
from simulators.settings import SimulationSettings, SimulationSettingsError, parse_simulation


def scenario_problems(config: Any, s: Any) -> list[tuple[tuple, str]]:
    """Where a (field-valid) scenario names a granary, cable, layer, bus or unit not there."""
    granaries = {g.code: g for g in config.granaries}
    buses = {b.name: b for b in config.buses}
    problems: list[tuple[tuple, str]] = []
    if hasattr(s, "granary"):
        if s.granary not in granaries:
            return [(("granary",), f"no granary {s.granary!r} in this depot")]
        if hasattr(s, "cable"):
            layers = {c.cable: c.layers for c in granaries[s.granary].cable_list()}.get(s.cable)
            if layers is None:
                problems.append((("cable",), f"granary {s.granary} has no cable {s.cable}"))
            elif hasattr(s, "layer") and s.layer > layers:
                problems.append((("layer",), f"cable {s.cable} of {s.granary} has {layers} layers"))
    if hasattr(s, "bus"):
        bus = buses.get(s.bus)
        if bus is None:
            problems.append((("bus",), f"no bus {s.bus!r} in this depot"))
        elif s.address not in {u.address for u in bus.units}:
            problems.append((("address",), f"bus {s.bus} has no unit {s.address}"))
    return problems


def cross_check(config: Any, settings: SimulationSettings) -> list[tuple[tuple, str]]:
    """Problems where the simulation section names something the depot does not have."""
    problems: list[tuple[tuple, str]] = []
    granaries = {g.code for g in config.granaries}
    buses = {b.name: b for b in config.buses}
    root = ("simulation",)
    for i, scenario in enumerate(settings.parsed_scenarios()):
        problems += [((*root, "scenarios", i, *path), msg)
                     for path, msg in scenario_problems(config, scenario)]
    for name in settings.serial_links:
        if getattr(buses.get(name), "kind", None) != "serial":
            problems.append(((*root, "serial_links", name), f"{name!r} is not a serial bus"))
    for name in settings.tcp_ports:
        if getattr(buses.get(name), "kind", None) != "tcp":
            problems.append(((*root, "tcp_ports", name), f"{name!r} is not a tcp bus"))
    for code in settings.granaries:
        if code not in granaries:
            problems.append(((*root, "granaries", code), f"no granary {code!r} in this depot"))
    units = {f"{b.name}/{u.address}" for b in config.buses for u in b.units}
    for key in settings.devices:
        if key not in units:
            problems.append(((*root, "devices", key), f"no unit {key!r} (write bus/address)"))
    return problems


def parse_sim_depot(text: str, source: str) -> tuple[Any, SimulationSettings]:
    """Depot file text → (DepotConfig, SimulationSettings); raises ConfigErrors with lines."""
    config = parse_depot_config(text, source)
    try:
        settings = parse_simulation(config.simulation)
        problems = cross_check(config, settings)
    except SimulationSettingsError as exc:
        problems = exc.problems
        settings = None
    if problems:
        raise ConfigErrors([locate_setting(text, source, path, msg) for path, msg in problems])
    return config, settings


def load_sim_depot(path: str | Path) -> tuple[Any, SimulationSettings]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigErrors([ConfigProblem(str(path), None, "(file)",
                                          f"cannot read the depot file: {exc.strerror}")]) from None
    return parse_sim_depot(text, str(path))
