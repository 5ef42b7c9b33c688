"""Registers of one sub-unit ⇄ cables × layers of temperatures, with sentinels and faults.

Decoding rules (contract `modbus-lst1812.md`):
- `sentinel_absent` (no sensor there) → null, not a fault;
- any of `sentinel_fault` → null and a fault;
- `sentinel_not_ready` (not measured since power-on) → null, not a fault: the sensor is
  there and will answer; calling it faulty would raise alarms after every power cut;
- a value outside `valid_min_c … valid_max_c` → null and a fault;
- exactly `power_on_c` (85.0) when the last valid reading of that point was more than
  `power_on_jump_c` lower, or when there is no last reading, is the DS18B20 power-on value:
  a fault, not heat. (With no history we cannot tell a power-on 85.0 from a real one, and a
  real 85 °C in stored grain would mean fire: reporting a fault is the safer mistake.)
Temperatures are rounded to two decimals (1/16 °C steps become e.g. 21.06).
Cables are 1-based in every output; layer 1 is the top sensor (s = 0).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from protocols.modbus.profile import ProfileError, RegisterProfile

# Markers for encoding a state the simulators want to show.
ABSENT = "absent"
FAULT = "fault"
NOT_READY = "not_ready"
MARKERS = (ABSENT, FAULT, NOT_READY)

AIR_RH_RANGE = (0.0, 100.0)


class DecodeError(ValueError):
    """The registers cannot be decoded (a register missing, a header out of range)."""


@dataclass(frozen=True)
class CableReading:
    cable: int
    temps_c: list[float | None]
    faults: list[int]


@dataclass(frozen=True)
class AirValue:
    temp_c: float | None
    rh_pct: float | None
    temp_fault: bool = False
    rh_fault: bool = False


@dataclass(frozen=True)
class UnitHeader:
    profile_version: int | None
    scan_in_progress: bool
    indoor_present: bool
    outdoor_present: bool
    self_test_fault: bool
    on_battery: bool
    cable_count: int
    stride: int
    scan_counter: int | None
    scan_age_s: int | None
    sensors_per_cable: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class UnitReading:
    header: UnitHeader
    cables: list[CableReading]
    indoor: AirValue | None
    outdoor: AirValue | None


@dataclass
class UnitState:
    """What a simulated unit holds; `temps[c][s]` is °C or a marker."""

    temps: list[list[float | str]]
    indoor: tuple[float | str, float | str] | None = None
    outdoor: tuple[float | str, float | str] | None = None
    scan_in_progress: bool = False
    self_test_fault: bool = False
    on_battery: bool = False
    scan_counter: int = 0
    scan_age_s: int = 0
    stride: int | None = None
    profile_version: int = 0x0101


# --- raw values ---------------------------------------------------------------------------

def _signed(raw: int) -> int:
    return raw - 0x10000 if raw >= 0x8000 else raw


def _raw(regs: Mapping[int, int], address: int, what: str) -> int:
    try:
        value = regs[address]
    except KeyError:
        raise DecodeError(f"register {address} ({what}) was not read") from None
    if not 0 <= value <= 0xFFFF:
        raise DecodeError(f"register {address} ({what}) holds {value}, not a 16-bit value")
    return value


def _value(raw: int, scale: float, signed: bool) -> float:
    return round((_signed(raw) if signed else raw) * scale, 2)


def decode_temp(profile: RegisterProfile, raw: int, previous: float | None = None) -> tuple[float | None, bool]:
    """One grain-temperature register → (°C or None, fault)."""
    if raw in profile.sentinel_fault:
        return None, True
    if raw == profile.sentinel_absent or raw == profile.sentinel_not_ready:
        return None, False
    value = _value(raw, profile.scale, profile.signed)
    if not profile.valid_min_c <= value <= profile.valid_max_c:
        return None, True
    if profile.power_on_c is not None and value == profile.power_on_c and (
        previous is None or previous < profile.power_on_c - profile.power_on_jump_c
    ):
        return None, True
    return value, False


def _air(profile: RegisterProfile, regs: Mapping[int, int], t_reg: int | None, rh_reg: int | None,
         what: str) -> AirValue | None:
    if t_reg is None and rh_reg is None:
        return None
    temp, temp_fault = None, False
    rh, rh_fault = None, False
    if t_reg is not None:
        temp, temp_fault = _air_value(profile, _raw(regs, t_reg, f"{what} temperature"),
                                      profile.air_temp_scale, True, (profile.valid_min_c, profile.valid_max_c))
    if rh_reg is not None:
        rh, rh_fault = _air_value(profile, _raw(regs, rh_reg, f"{what} humidity"),
                                  profile.air_rh_scale, False, AIR_RH_RANGE)
    return AirValue(temp, rh, temp_fault, rh_fault)


def _air_value(profile: RegisterProfile, raw: int, scale: float, signed: bool,
               valid: tuple[float, float]) -> tuple[float | None, bool]:
    # The air sensors use the contract's fixed sentinels whatever the grain block uses.
    if raw in (0x7FFF, 0x7FFE, profile.sentinel_absent, profile.sentinel_not_ready):
        return None, False
    if raw == 0x8000 or raw in profile.sentinel_fault:
        return None, True
    value = _value(raw, scale, signed)
    if not valid[0] <= value <= valid[1]:
        return None, True
    return value, False


# --- decoding -----------------------------------------------------------------------------

def decode_header(profile: RegisterProfile, regs: Mapping[int, int]) -> UnitHeader:
    """The unit's header. Per-cable sensor counts are filled in when their registers were read."""
    if profile.kind != "cable_unit":
        raise ProfileError(f"profile {profile.name} is a {profile.kind} profile, not a cable unit")
    status = _raw(regs, profile.status_register, "unit_status") if profile.status_register is not None else 0
    if profile.cable_count is not None:
        cable_count = profile.cable_count
    else:
        cable_count = _raw(regs, profile.cable_count_register, "cable_count")
        if cable_count > profile.max_cables:
            raise DecodeError(f"cable_count {cable_count} is above the profile's {profile.max_cables}")
    if profile.stride is not None:
        stride = profile.stride
    else:
        stride = _raw(regs, profile.stride_register, "stride")
        if not 1 <= stride <= 32:
            raise DecodeError(f"stride {stride} is outside 1 … 32")
    sensors = _sensors_per_cable(profile, regs, cable_count, stride)
    return UnitHeader(
        profile_version=regs.get(profile.version_register) if profile.version_register is not None else None,
        scan_in_progress=bool(status & 0x01),
        indoor_present=bool(status & 0x02),
        outdoor_present=bool(status & 0x04),
        self_test_fault=bool(status & 0x08),
        on_battery=bool(status & 0x10),
        cable_count=cable_count,
        stride=stride,
        scan_counter=regs.get(profile.scan_counter_register) if profile.scan_counter_register is not None else None,
        scan_age_s=regs.get(profile.scan_age_register) if profile.scan_age_register is not None else None,
        sensors_per_cable=sensors,
    )


def _sensors_per_cable(profile: RegisterProfile, regs: Mapping[int, int], cable_count: int, stride: int) -> list[int]:
    """Sensor counts of the first cables whose count registers were read (all of them when the
    profile fixes the count); a count above the stride cannot be addressed, so it is cut."""
    if profile.sensors_per_cable_register is not None:
        one = regs.get(profile.sensors_per_cable_register)
        return [] if one is None else [min(one, stride)] * cable_count
    if profile.sensors_register_base is None:
        fixed = profile.sensors_per_cable if profile.sensors_per_cable is not None else stride
        return [min(fixed, stride)] * cable_count
    counts = []
    for c in range(cable_count):
        value = regs.get(profile.sensors_register_base + c)
        if value is None:
            break  # not read: only the cables before it are known
        counts.append(min(value, stride))
    return counts


def decode_unit(
    profile: RegisterProfile,
    regs: Mapping[int, int],
    cables: Iterable[int] | None = None,
    previous: Mapping[tuple[int, int], float] | None = None,
    header: UnitHeader | None = None,
) -> UnitReading:
    """Decode the cables asked for (1-based wire cables; all the unit has by default).

    `header` is the unit's header with its sensor counts when the caller already knows them
    (a poller that reads the count registers only when the layout may have changed)."""
    header = header or decode_header(profile, regs)
    wanted = list(range(1, header.cable_count + 1) if cables is None else cables)
    previous = previous or {}
    readings = []
    for cable in wanted:
        if not 1 <= cable <= header.cable_count:
            raise DecodeError(f"cable {cable} is not on this unit (it has {header.cable_count})")
        if cable > len(header.sensors_per_cable):
            where = profile.layout_addresses(cable)
            raise DecodeError(f"sensor counts not read: cable {cable} (register {where[-1] if where else '?'})")
        temps: list[float | None] = []
        faults: list[int] = []
        for s in range(header.sensors_per_cable[cable - 1]):
            address = profile.temp_address(cable, s, header.stride)
            value, fault = decode_temp(profile, _raw(regs, address, f"cable {cable} sensor {s}"),
                                       previous.get((cable, s + 1)))
            temps.append(value)
            if fault:
                faults.append(s + 1)
        readings.append(CableReading(cable, temps, faults))
    indoor = _air(profile, regs, profile.indoor_temp_register, profile.indoor_rh_register, "indoor")
    outdoor = _air(profile, regs, profile.outdoor_temp_register, profile.outdoor_rh_register, "outdoor")
    if profile.status_register is not None:
        indoor = indoor if header.indoor_present else None
        outdoor = outdoor if header.outdoor_present else None
    return UnitReading(header, readings, indoor, outdoor)


def decode_thrh(profile: RegisterProfile, regs: Mapping[int, int]) -> AirValue:
    """A T/RH transmitter's two registers."""
    if profile.kind != "thrh":
        raise ProfileError(f"profile {profile.name} is not a T/RH transmitter profile")
    air = _air(profile, regs, profile.temp_register, profile.rh_register, "transmitter")
    assert air is not None
    return air


# --- encoding (the simulators' side) ------------------------------------------------------

def _to_raw(value: float, scale: float) -> int:
    return round(value / scale) & 0xFFFF


def _temp_raw(profile: RegisterProfile, value: float | str) -> int:
    if value == FAULT:
        return profile.sentinel_fault[0]
    if value == ABSENT:
        return profile.sentinel_absent if profile.sentinel_absent is not None else profile.sentinel_fault[0]
    if value == NOT_READY:
        return profile.sentinel_not_ready if profile.sentinel_not_ready is not None else profile.sentinel_fault[0]
    return _to_raw(float(value), profile.scale)


def _air_raw(value: float | str, scale: float) -> int:
    if value == FAULT:
        return 0x8000
    if value in (ABSENT, None):
        return 0x7FFF
    if value == NOT_READY:
        return 0x7FFE
    return _to_raw(float(value), scale)


def encode_unit(profile: RegisterProfile, state: UnitState) -> dict[int, int]:
    """Every register of a unit holding `state`; slots without a sensor hold the absent sentinel."""
    stride = profile.stride or state.stride or max([len(t) for t in state.temps] + [1])
    cable_count = profile.cable_count if profile.cable_count is not None else len(state.temps)
    regs: dict[int, int] = {}
    header = {
        profile.version_register: state.profile_version,
        profile.status_register: (int(state.scan_in_progress) | (state.indoor is not None) << 1
                                  | (state.outdoor is not None) << 2 | int(state.self_test_fault) << 3
                                  | int(state.on_battery) << 4),
        profile.cable_count_register: cable_count,
        profile.stride_register: stride,
        profile.scan_counter_register: state.scan_counter & 0xFFFF,
        profile.scan_age_register: min(state.scan_age_s, 0xFFFF),
        profile.command_register: 0,
    }
    regs.update({address: value for address, value in header.items() if address is not None})
    for place, (t_reg, rh_reg) in (("indoor", (profile.indoor_temp_register, profile.indoor_rh_register)),
                                   ("outdoor", (profile.outdoor_temp_register, profile.outdoor_rh_register))):
        pair = getattr(state, place) or (ABSENT, ABSENT)
        if t_reg is not None:
            regs[t_reg] = _air_raw(pair[0], profile.air_temp_scale)
        if rh_reg is not None:
            regs[rh_reg] = _air_raw(pair[1], profile.air_rh_scale)
    for c in range(cable_count):
        temps = state.temps[c] if c < len(state.temps) else []
        if len(temps) > stride:
            raise ValueError(f"cable {c + 1} has {len(temps)} sensors, more than the stride {stride}")
        if profile.sensors_register_base is not None:
            regs[profile.sensors_register_base + c] = len(temps)
        elif profile.sensors_per_cable_register is not None:
            regs[profile.sensors_per_cable_register] = max(
                regs.get(profile.sensors_per_cable_register, 0), len(temps))
        for s in range(stride):
            regs[profile.temp_address(c + 1, s, stride)] = (
                _temp_raw(profile, temps[s]) if s < len(temps) else _temp_raw(profile, ABSENT))
    # Reserved and unused addresses between the blocks read 0, so a planned read may span a gap.
    for address in range(min(regs), max(regs) + 1):
        regs.setdefault(address, 0)
    return regs


def encode_thrh(profile: RegisterProfile, temp_c: float | str | None, rh_pct: float | str | None) -> dict[int, int]:
    return {profile.temp_register: _air_raw(temp_c, profile.air_temp_scale),
            profile.rh_register: _air_raw(rh_pct, profile.air_rh_scale)}
