"""The grain pile: every sensor follows the outside air through a lag that grows with depth.

A first-order lag of time constant tau on a sinusoid of angular speed w keeps
1/sqrt(1+(w·tau)^2) of its amplitude and delays it by atan(w·tau)/w. Near the surface
(tau of hours) the daily swing survives; deep inside (tau of ~2 months) only the seasonal
wave does, about 45 days late. Closed form, so evaluating is a few multiplications per
sensor and the result does not depend on how often anyone asks.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from simulators.grainpile.climate import Climate, rh_for, saturation_vapour_hpa

ROUND_TYPES = frozenset({"silo", "squat_silo", "tank"})


@dataclass(frozen=True)
class CablePlace:
    cable: int
    layers: int
    row: int | None = None
    col: int | None = None
    x_m: float | None = None
    y_m: float | None = None


@dataclass(frozen=True)
class PileGeometry:
    code: str
    kind: str
    length_m: float
    width_m: float
    grain_height_m: float
    layer_depths_m: tuple[float, ...]
    cables: tuple[CablePlace, ...]

    def depth_of(self, layer: int, layers: int) -> float:
        """Depth below the grain surface of a 1-based layer (top = 1)."""
        if layer <= len(self.layer_depths_m):
            return self.layer_depths_m[layer - 1]
        return self.grain_height_m * (layer - 0.5) / layers

    def wall_distance(self, place: CablePlace) -> float | None:
        if place.x_m is None or place.y_m is None:
            return None
        if self.kind in ROUND_TYPES:
            r = self.length_m / 2
            return max(0.0, r - math.hypot(place.x_m - r, place.y_m - self.width_m / 2))
        return max(0.0, min(place.x_m, self.length_m - place.x_m,
                            place.y_m, self.width_m - place.y_m))


@dataclass(frozen=True)
class ThermalSettings:
    surface_lag_h: float = 2.0       # tau right at the surface
    deep_lag_days: float = 60.0      # tau deep inside (seasonal wave ~45 days late)
    deep_from_m: float = 3.0         # depth from which tau is the deep one
    wall_factor: float = 2.0         # a wall at w metres acts like a depth of w·factor; 0 = off
    conduction: float = 0.1          # share of the neighbours' difference taken each evaluation
    sensor_offset_c: float = 0.2     # per-sensor calibration spread (seeded)
    indoor_lag_h: float = 4.0        # granary air behind the outside air
    indoor_gain_c: float = 1.0       # sun on the roof: granary air a little warmer
    equilibrium_rh_pct: float = 65.0  # air over the grain settles to this RH at grain temp


@dataclass(frozen=True)
class Hotspot:
    cable: int
    layer: int
    rate_c_per_day: float
    start_t: float
    max_rise_c: float = 40.0
    spread: float = 0.3              # share of the rise its direct neighbours show

    def rise_c(self, t: float) -> float:
        return min(self.max_rise_c, max(0.0, t - self.start_t) / 86400.0 * self.rate_c_per_day)


@dataclass(frozen=True)
class Condensation:
    """Warm humid air over a cold grain surface: indoor air = top-layer mean + warm_by_c."""

    warm_by_c: float = 5.0
    rh_pct: float = 90.0


@dataclass
class _Sensor:
    cable: int
    layer: int
    tau_s: float
    gains: list[tuple[float, float]]  # per climate wave: (g·cos(lag), g·sin(lag))
    offset_c: float
    neighbours: list[int] = field(default_factory=list)


class GrainPile:
    """The thermal state of one granary as a function of simulated time (UNIX seconds)."""

    def __init__(self, geometry: PileGeometry, climate: Climate, thermal: ThermalSettings,
                 seed: int, t0: float, initial_c: float | None = None):
        self.geometry = geometry
        self.climate = climate
        self.thermal = thermal
        self.t0 = t0
        rng = random.Random(f"pile:{seed}:{geometry.code}")
        self.sensors: list[_Sensor] = []
        self._index: dict[tuple[int, int], int] = {}
        for place in geometry.cables:
            wall = geometry.wall_distance(place)
            for layer in range(1, place.layers + 1):
                depth = geometry.depth_of(layer, place.layers)
                if wall is not None and thermal.wall_factor > 0:
                    depth = min(depth, wall * thermal.wall_factor)
                tau = self._tau_s(depth)
                gains = []
                for w in climate.waves:
                    x = w.omega * tau
                    g = 1 / math.sqrt(1 + x * x)
                    lag = math.atan(x)
                    gains.append((g * math.cos(lag), g * math.sin(lag)))
                offset = rng.uniform(-thermal.sensor_offset_c, thermal.sensor_offset_c)
                self._index[(place.cable, layer)] = len(self.sensors)
                self.sensors.append(_Sensor(place.cable, layer, tau, gains, offset))
        self._link_neighbours()
        # Grain loaded at `initial_c` relaxes towards the seasonal state with its own tau.
        self._transient = [0.0] * len(self.sensors)
        if initial_c is not None:
            start = self._followed(t0)
            self._transient = [initial_c - v for v in start]

    def _tau_s(self, depth_m: float) -> float:
        th = self.thermal
        surface, deep = th.surface_lag_h * 3600.0, th.deep_lag_days * 86400.0
        share = min(1.0, (max(depth_m, 0.0) / th.deep_from_m) ** 2) if th.deep_from_m > 0 else 1
        return surface + (deep - surface) * share

    def _link_neighbours(self) -> None:
        grid = {(p.row, p.col): p.cable for p in self.geometry.cables if p.row and p.col}
        for s in self.sensors:
            near = [(s.cable, s.layer - 1), (s.cable, s.layer + 1)]
            place = next(p for p in self.geometry.cables if p.cable == s.cable)
            if place.row and place.col:
                for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1)):
                    other = grid.get((place.row + dr, place.col + dc))
                    if other is not None:
                        near.append((other, s.layer))
            s.neighbours = [self._index[k] for k in near if k in self._index]

    def has_sensor(self, cable: int, layer: int) -> bool:
        return (cable, layer) in self._index

    def _followed(self, t: float) -> list[float]:
        """Each sensor's lagged view of the outside air plus its calibration offset."""
        waves = [(w.amplitude * math.cos(w.phase(t)), w.amplitude * math.sin(w.phase(t)))
                 for w in self.climate.waves]
        mean = self.climate.settings.mean_c
        out = []
        for s in self.sensors:
            v = mean + s.offset_c
            for (c, si), (gc, gs) in zip(waves, s.gains, strict=True):
                v += c * gc + si * gs
            out.append(v)
        return out

    def _base(self, t: float) -> list[float]:
        temps = self._followed(t)
        dt = max(0.0, t - self.t0)
        for i, amount in enumerate(self._transient):
            if amount:
                temps[i] += amount * math.exp(-dt / self.sensors[i].tau_s)
        k = self.thermal.conduction
        if k:
            temps = [
                v + k * (sum(temps[j] for j in s.neighbours) / len(s.neighbours) - v)
                if s.neighbours else v
                for v, s in zip(temps, self.sensors, strict=True)
            ]
        return temps

    def flat_temperatures(self, t: float, hotspots: list[Hotspot] = ()) -> list[float]:
        temps = self._base(t)
        for h in hotspots:
            centre = self._index.get((h.cable, h.layer))
            if centre is None:
                continue
            rise = h.rise_c(t)
            temps[centre] += rise
            for j in self.sensors[centre].neighbours:
                temps[j] += rise * h.spread
        return temps

    def temperatures(self, t: float, hotspots: list[Hotspot] = ()) -> dict[int, list[float]]:
        """cable → temperature per layer (top first), °C, as the pile holds them at `t`."""
        out: dict[int, list[float]] = {p.cable: [] for p in self.geometry.cables}
        for s, v in zip(self.sensors, self.flat_temperatures(t, hotspots), strict=True):
            out[s.cable].append(v)
        return out

    def top_layer_mean(self, temps: dict[int, list[float]]) -> float:
        tops = [v[0] for v in temps.values() if v]
        return sum(tops) / len(tops) if tops else self.climate.outdoor_temp_c(self.t0)

    def indoor_air(self, t: float, top_mean_c: float,
                   condensation: Condensation | None = None) -> tuple[float, float]:
        """(temperature °C, RH %) of the air above the grain."""
        if condensation is not None:
            return top_mean_c + condensation.warm_by_c, condensation.rh_pct
        th = self.thermal
        temp = self.climate.lagged_temp_c(t, th.indoor_lag_h * 3600.0) + th.indoor_gain_c
        vapour = th.equilibrium_rh_pct / 100.0 * saturation_vapour_hpa(top_mean_c)
        return temp, rh_for(vapour, temp)
