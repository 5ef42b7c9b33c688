"""Read a depot file for simulation: the depot model (protocols.depot) plus our `simulation:`
section, checked against the depot (granaries, cables, buses named by scenarios exist)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from protocols.depot.loader import ConfigErrors, ConfigProblem, locate_setting, parse_depot_config
from protocols.os_zh import os_reason
from simulators.settings import SimulationSettings, SimulationSettingsError, parse_simulation


def scenario_problems(config: Any, s: Any) -> list[tuple[tuple, str]]:
    """Where a (field-valid) scenario names a granary, cable, layer, bus or unit not there."""
    granaries = {g.code: g for g in config.granaries}
    buses = {b.name: b for b in config.buses}
    problems: list[tuple[tuple, str]] = []
    if hasattr(s, "granary"):
        if s.granary not in granaries:
            return [(("granary",), f"本库点没有仓房 {s.granary!r}")]
        if hasattr(s, "cable"):
            layers = {c.cable: c.layers for c in granaries[s.granary].cable_list()}.get(s.cable)
            if layers is None:
                problems.append((("cable",), f"仓房 {s.granary} 没有电缆 {s.cable}"))
            elif hasattr(s, "layer") and s.layer > layers:
                problems.append((("layer",), f"{s.granary} 的电缆 {s.cable} 只有 {layers} 层"))
    if hasattr(s, "bus"):
        bus = buses.get(s.bus)
        if bus is None:
            problems.append((("bus",), f"本库点没有总线 {s.bus!r}"))
        elif s.address not in {u.address for u in bus.units}:
            problems.append((("address",), f"总线 {s.bus} 上没有地址为 {s.address} 的分机"))
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
            problems.append(((*root, "serial_links", name), f"{name!r} 不是串口总线"))
    for name in settings.tcp_ports:
        if getattr(buses.get(name), "kind", None) != "tcp":
            problems.append(((*root, "tcp_ports", name), f"{name!r} 不是 tcp 总线"))
    for code in settings.granaries:
        if code not in granaries:
            problems.append(((*root, "granaries", code), f"本库点没有仓房 {code!r}"))
    units = {f"{b.name}/{u.address}" for b in config.buses for u in b.units}
    for key in settings.devices:
        if key not in units:
            problems.append(((*root, "devices", key), f"没有分机 {key!r}（写成 总线/地址）"))
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
                                          f"读不了库点配置文件：{os_reason(exc)}")]) from None
    return parse_sim_depot(text, str(path))
