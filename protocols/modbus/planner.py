"""The read planner: which registers to ask for, in the fewest requests of ≤ max_read.

Covering a set of addresses with the fewest windows of fixed length is solved exactly by the
greedy rule: open a window at the lowest address not yet covered, take everything it
reaches, repeat (any optimal plan can be shifted window by window onto the greedy one).
Windows may read through unused addresses between needed ones; each is trimmed to end at
the last address it needs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from protocols.modbus.codec import UnitHeader
from protocols.modbus.profile import ProfileError, RegisterProfile


@dataclass(frozen=True)
class ReadRequest:
    function_code: int
    address: int
    count: int

    @property
    def end(self) -> int:
        return self.address + self.count - 1


def plan_addresses(addresses: Iterable[int], function_code: int, max_count: int = 125) -> list[ReadRequest]:
    """Fewest reads of at most `max_count` registers covering every address."""
    if not 1 <= max_count <= 125:
        raise ValueError(f"max_count {max_count} is outside 1 … 125")
    wanted = sorted(set(addresses))
    plan: list[ReadRequest] = []
    i = 0
    while i < len(wanted):
        start = wanted[i]
        last = start
        while i < len(wanted) and wanted[i] < start + max_count:
            last = wanted[i]
            i += 1
        plan.append(ReadRequest(function_code, start, last - start + 1))
    return plan


def _header_addresses(profile: RegisterProfile) -> list[int]:
    candidates = (
        profile.version_register, profile.status_register, profile.cable_count_register,
        profile.stride_register, profile.scan_counter_register, profile.scan_age_register,
        profile.indoor_temp_register, profile.indoor_rh_register,
        profile.outdoor_temp_register, profile.outdoor_rh_register,
    )
    return [a for a in candidates if a is not None]


def plan_header_reads(profile: RegisterProfile, cable_count_hint: int | None = None) -> list[ReadRequest]:
    """The header (and air) registers. With a hint of how many cables the unit has (from the
    depot configuration) the per-cable sensor counts are asked for in the same requests, which
    saves a round trip on a slow bus; the cable reads fetch any that are missing."""
    if profile.kind != "cable_unit":
        raise ProfileError(f"profile {profile.name} is not a cable unit")
    addresses = _header_addresses(profile)
    if cable_count_hint and profile.sensors_register_base is not None:
        n = min(cable_count_hint, profile.max_cables)
        addresses += range(profile.sensors_register_base, profile.sensors_register_base + n)
    return plan_addresses(addresses, profile.function_code, profile.max_read)


def plan_cable_reads(profile: RegisterProfile, header: UnitHeader, cables: Iterable[int]) -> list[ReadRequest]:
    """Every slot of the given wire cables (1-based), plus their sensor counts when the header
    reads did not bring them."""
    addresses: list[int] = []
    for cable in cables:
        if not 1 <= cable <= header.cable_count:
            raise ProfileError(f"cable {cable} is not on this unit (it has {header.cable_count})")
        first = profile.temp_address(cable, 0, header.stride)
        addresses += range(first, first + header.stride)
        if profile.sensors_register_base is not None and not header.sensors_per_cable:
            addresses.append(profile.sensors_register_base + cable - 1)
    return plan_addresses(addresses, profile.function_code, profile.max_read)
