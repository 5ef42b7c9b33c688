"""How much CPU the grain-pile model costs: a 20-granary x 312-point depot evaluated as if
every granary were scanned every second (the simulators' worst case).

    .venv/bin/python bench/bench_sim_grainpile.py
Goal: one whole-depot evaluation well under 100 ms (< 10 % of one core at 1 Hz).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from simulators.grainpile.climate import ClimateSettings
from simulators.grainpile.clock import SimClock
from simulators.grainpile.thermal import CablePlace, PileGeometry, ThermalSettings
from simulators.grainpile.world import World


def main(granaries: int = 20, seconds: int = 20) -> None:
    geos = [
        PileGeometry(f"P{g:02d}", "flat", 60, 24, 6.0, (0.3, 2.0, 4.0, 5.7), tuple(
            CablePlace(r * 13 + c + 1, 4, r + 1, c + 1, 0.5 + 4.5 * c, 0.5 + 4.6 * r)
            for r in range(6) for c in range(13)))
        for g in range(granaries)
    ]
    clock = SimClock(datetime(2026, 11, 1, tzinfo=UTC), 3600)
    world = World(geos, clock, 42, ClimateSettings(), ThermalSettings())
    world.schedule({"kind": "hotspot", "granary": "P01", "cable": 40, "layer": 3,
                    "rate_c_per_day": 1.5})
    t0 = clock.timestamp()
    cpu = time.process_time()
    for step in range(seconds):
        t = t0 + step * 3600
        for g in geos:
            world.sensed_grain(g.code, t)
            world.indoor_air(g.code, t)
    per_step = (time.process_time() - cpu) / seconds
    points = sum(len(p.sensors) for p in world.piles.values())
    print(f"{granaries} granaries, {points} points: {per_step * 1000:.1f} ms CPU per "
          f"whole-depot evaluation ({per_step * 100:.1f} % of a core at 1 Hz)")


if __name__ == "__main__":
    main()
