"""A simulated RS-485 temperature/humidity transmitter (`th485` profile or any `thrh` one).

It measures continuously: every read samples the air it hangs in (a granary's indoor air or
the outside air) at the current simulated time.
"""

from __future__ import annotations

from typing import Any

from protocols.modbus import codec
from simulators.grainpile.world import World
from simulators.modbus.device import read_map
from simulators.modbus.rtu_frame import ILLEGAL_FUNCTION


class Th485:
    def __init__(self, world: World, address: int, profile: Any, place: str,
                 granary: str | None = None):
        if place == "indoor" and granary is None:
            raise ValueError(f"th485 at address {address}: indoor air needs a granary")
        self.world = world
        self.address = address
        self.profile = profile
        self.place = place
        self.granary = granary

    def air(self) -> tuple[float, float]:
        if self.place == "indoor":
            return self.world.indoor_air(self.granary)
        return self.world.outdoor_air()

    def registers(self) -> dict[int, int]:
        temp_c, rh_pct = self.air()
        return codec.encode_thrh(self.profile, temp_c, rh_pct)

    def read(self, function: int, start: int, count: int) -> list[int] | int:
        return read_map(self.registers(), function, (self.profile.function_code,), start, count)

    def write(self, start: int, values: list[int]) -> int | None:
        return ILLEGAL_FUNCTION
