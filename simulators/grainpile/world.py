"""Everything the simulated devices sample: the depot's climate, one pile per granary,
the scenarios, and the simulated clock."""

from __future__ import annotations

from typing import Any

from simulators.grainpile.climate import Climate, ClimateSettings
from simulators.grainpile.clock import SimClock
from simulators.grainpile.scenarios import ScenarioBook, parse_scenario
from simulators.grainpile.thermal import CablePlace, GrainPile, PileGeometry, ThermalSettings

# What a sensor with an injected fault reports (the unit turns these into register values).
OPEN, SHORT_C, POWER_ON_C = "open", -127.0, 85.0


def geometry_of(granary: Any) -> PileGeometry:
    """A `protocols.depot` Granary (or anything shaped like it) → the pile's geometry."""
    cables = tuple(
        CablePlace(c.cable, c.layers, c.row, c.col, c.x_m, c.y_m) for c in granary.cable_list()
    )
    return PileGeometry(granary.code, granary.type, granary.length_m, granary.width_m,
                        granary.grain_height_m, tuple(granary.layer_depths_m), cables)


class World:
    """Climate + piles + scenarios, evaluated at simulated time."""

    def __init__(self, geometries: list[PileGeometry], clock: SimClock, seed: int,
                 climate: ClimateSettings, thermal: ThermalSettings, utc_offset_h: float = 8.0,
                 initial_c: dict[str, float | None] | None = None):
        self.clock = clock
        self.seed = seed
        self.climate = Climate(climate, seed, utc_offset_h)
        t0 = clock.start.timestamp()
        initial_c = initial_c or {}
        self.piles = {
            g.code: GrainPile(g, self.climate, thermal, seed, t0, initial_c.get(g.code))
            for g in geometries
        }
        self.scenarios = ScenarioBook()

    def now_t(self) -> float:
        return self.clock.timestamp()

    def schedule(self, scenario: Any, at_start: bool = False) -> int:
        """Add a scenario; `start_after` counts from the simulation start or from now."""
        scenario = parse_scenario(scenario)
        origin = self.clock.start.timestamp() if at_start else self.now_t()
        return self.scenarios.add(scenario, origin)

    def grain(self, granary: str, t: float | None = None) -> dict[int, list[float]]:
        """Physical grain temperatures (no sensor faults), cable → layers top first."""
        t = self.now_t() if t is None else t
        return self.piles[granary].temperatures(t, self.scenarios.hotspots(granary, t))

    def sensed_grain(self, granary: str, t: float) -> dict[int, list[float | str]]:
        """What the sensors report: faults applied; a vanished cable has no sensors."""
        temps: dict[int, list[Any]] = self.grain(granary, t)
        for (cable, layer), fault in self.scenarios.sensor_faults(granary, t).items():
            layers = temps.get(cable)
            if layers is not None and 1 <= layer <= len(layers):
                layers[layer - 1] = {"open": OPEN, "short": SHORT_C, "power_on": POWER_ON_C}[fault]
        for cable in self.scenarios.missing_cables(granary, t):
            if cable in temps:
                temps[cable] = []
        return temps

    def indoor_air(self, granary: str, t: float | None = None) -> tuple[float, float]:
        t = self.now_t() if t is None else t
        pile = self.piles[granary]
        top = pile.top_layer_mean(self.grain(granary, t))
        return pile.indoor_air(t, top, self.scenarios.condensation(granary, t))

    def outdoor_air(self, t: float | None = None) -> tuple[float, float]:
        t = self.now_t() if t is None else t
        return self.climate.outdoor_temp_c(t), self.climate.outdoor_rh_pct(t)
