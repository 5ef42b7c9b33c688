"""The grain-pile thermal model, its climate, scenarios and simulated clock (pure, no I/O)."""

from simulators.grainpile.climate import Climate, ClimateSettings
from simulators.grainpile.clock import FrozenClock, SimClock
from simulators.grainpile.scenarios import ScenarioBook, ScenarioError, parse_scenario
from simulators.grainpile.thermal import (
    CablePlace,
    Condensation,
    GrainPile,
    Hotspot,
    PileGeometry,
    ThermalSettings,
)
from simulators.grainpile.world import World, geometry_of

__all__ = [
    "CablePlace", "Climate", "ClimateSettings", "Condensation", "FrozenClock", "GrainPile",
    "Hotspot", "PileGeometry", "ScenarioBook", "ScenarioError", "SimClock", "ThermalSettings",
    "World", "geometry_of", "parse_scenario",
]
