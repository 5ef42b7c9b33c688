"""The read planner: which registers to ask a unit for, and in which frames.

A unit scan needs its header, then the temperature slots of the wired cables; the sensor-count
registers only when the unit's layout may have changed (first read, a changed header). The
frames are chosen by wire cost: every frame costs its request, its reply header, two silent
intervals and the slave's turnaround, so a gap between needed registers is read through when
that is cheaper than a new frame and skipped when not. A contiguous block therefore becomes the
fewest frames of ≤ max_read registers, full frames first.

`plan_addresses` (fewest frames regardless of the registers dragged along) stays for callers
that want exactly that: covering addresses with the fewest windows of fixed length is solved
by the greedy rule (open a window at the lowest address not yet covered, take everything it
reaches, repeat)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from protocols.modbus.codec import UnitHeader
from protocols.modbus.profile import ProfileError, RegisterProfile

# What one more frame costs, in registers' worth of wire time: request (8 bytes), reply
# address/function/count/CRC (5 bytes), two 3.5-character gaps (7), about 10 characters of
# slave turnaround; one register is 2 characters.
FRAME_COST_REGISTERS = 15


@dataclass(frozen=True)
class ReadRequest:
    function_code: int
    address: int
    count: int

    @property
    def end(self) -> int:
        return self.address + self.count - 1


def _check_max(max_count: int) -> None:
    if not 1 <= max_count <= 125:
        raise ValueError(f"max_count {max_count} is outside 1 … 125")


def plan_addresses(addresses: Iterable[int], function_code: int, max_count: int = 125) -> list[ReadRequest]:
    """Fewest reads of at most `max_count` registers covering every address."""
    _check_max(max_count)
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


def plan_cheapest(addresses: Iterable[int], function_code: int, max_count: int = 125) -> list[ReadRequest]:
    """Reads of at most `max_count` registers covering every address at the least wire time.

    Exact by dynamic programming over the sorted addresses (each frame starts at a needed
    address and ends at one); on a tie the plan with the longer first frames wins."""
    _check_max(max_count)
    a: Sequence[int] = sorted(set(addresses))
    n = len(a)
    best = [0] * (n + 1)
    cut = [n] * (n + 1)
    for i in range(n - 1, -1, -1):
        best[i] = -1
        j = i
        while j < n and a[j] - a[i] < max_count:
            cost = FRAME_COST_REGISTERS + a[j] - a[i] + 1 + best[j + 1]
            if best[i] < 0 or cost <= best[i]:
                best[i], cut[i] = cost, j + 1
            j += 1
    plan, i = [], 0
    while i < n:
        j = cut[i]
        plan.append(ReadRequest(function_code, a[i], a[j - 1] - a[i] + 1))
        i = j
    return plan


def header_addresses(profile: RegisterProfile) -> list[int]:
    """The registers read on every scan: status, layout, scan counter/age, air sensors."""
    return profile.header_registers()


def plan_header_reads(profile: RegisterProfile, cable_count_hint: int | None = None,
                      with_layout: bool = False) -> list[ReadRequest]:
    """The header (and air) registers; `with_layout` adds the sensor-count registers of the
    first `cable_count_hint` cables (all the profile allows without a hint) into the same
    frames when they fit, for a first read or after the layout may have changed."""
    if profile.kind != "cable_unit":
        raise ProfileError(f"profile {profile.name} is not a cable unit")
    addresses = header_addresses(profile)
    if with_layout:
        addresses += profile.layout_addresses(cable_count_hint or profile.max_cables)
    return plan_cheapest(addresses, profile.function_code, profile.max_read)


def plan_layout_reads(profile: RegisterProfile, cable_count: int) -> list[ReadRequest]:
    """Only the sensor-count registers (the header said the layout changed)."""
    return plan_cheapest(profile.layout_addresses(cable_count), profile.function_code, profile.max_read)


def plan_cable_reads(profile: RegisterProfile, header: UnitHeader, cables: Iterable[int]) -> list[ReadRequest]:
    """The temperature slots of the given wire cables (1-based): the sensors present where the
    header knows them, the whole stride where it does not (plus the missing counts)."""
    addresses: list[int] = []
    known = header.sensors_per_cable
    for cable in cables:
        if not 1 <= cable <= header.cable_count:
            raise ProfileError(f"cable {cable} is not on this unit (it has {header.cable_count})")
        first = profile.temp_address(cable, 0, header.stride)
        if cable <= len(known):
            addresses += range(first, first + known[cable - 1])
            continue
        addresses += range(first, first + header.stride)
        if profile.sensors_register_base is not None:
            addresses.append(profile.sensors_register_base + cable - 1)
        elif profile.sensors_per_cable_register is not None:
            addresses.append(profile.sensors_per_cable_register)
    return plan_cheapest(addresses, profile.function_code, profile.max_read)
