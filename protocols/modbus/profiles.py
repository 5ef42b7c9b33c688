"""The built-in register profiles and loading vendor profiles from YAML."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml
from pydantic import ValidationError

from protocols.modbus.profile import ProfileError, RegisterProfile

# The contract's table says 0–64 cables, yet its own timing example is a 78-cable unit; the
# sensor-count block (16 + c) has room for 84 before the temperatures start at 100, so that
# is the limit here.
LST1812 = RegisterProfile(
    name="lst1812", kind="cable_unit", function_code=3,
    temp_base=100, stride_register=3, cable_count_register=2, sensors_register_base=16, max_cables=84,
    scale=0.1, signed=True,
    sentinel_absent=0x7FFF, sentinel_fault=(0x8000,), sentinel_not_ready=0x7FFE,
    version_register=0, status_register=1, scan_counter_register=4, scan_age_register=5,
    command_register=6,
    indoor_temp_register=8, indoor_rh_register=9, outdoor_temp_register=10, outdoor_rh_register=11,
)

# The common RS-485 temperature/humidity transmitter.
TH485 = RegisterProfile(
    name="th485", kind="thrh", function_code=3, rh_register=0, temp_register=1,
    air_temp_scale=0.1, air_rh_scale=0.1,
)

# A published silo-cable layout of another shape: 8 cables × 8 sensors, fixed, temperatures at
# 22 + 8·c + s in 1/16 °C (DS18B20 raw), 0xF4F4 = error; no header, no air sensors.
SILO8X8 = RegisterProfile(
    name="silo8x8", kind="cable_unit", function_code=3,
    temp_base=22, stride=8, cable_count=8, sensors_per_cable=8, max_cables=8,
    scale=0.0625, signed=True,
    sentinel_absent=None, sentinel_fault=(0xF4F4,), sentinel_not_ready=None,
)

BUILTIN_PROFILES: dict[str, RegisterProfile] = {p.name: p for p in (LST1812, TH485, SILO8X8)}


def get_profile(name: str, extra: Mapping[str, RegisterProfile] | None = None) -> RegisterProfile:
    """A profile by name: the configuration's own first, then the built-ins."""
    if extra and name in extra:
        return extra[name]
    try:
        return BUILTIN_PROFILES[name]
    except KeyError:
        known = sorted({*BUILTIN_PROFILES, *(extra or {})})
        raise ProfileError(f"unknown register profile {name!r}; known: {', '.join(known)}") from None


def _describe(exc: ValidationError) -> list[tuple[tuple, str]]:
    return [(tuple(err["loc"]), err["msg"]) for err in exc.errors()]


def parse_profile(data: Mapping[str, Any], source: str = "<profile>") -> RegisterProfile:
    """A profile from a mapping (as read from YAML); errors name every bad field."""
    if not isinstance(data, Mapping):
        raise ProfileError(f"{source}: a profile must be a mapping of settings, not {type(data).__name__}")
    try:
        return RegisterProfile.model_validate(dict(data))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, loc)) or 'profile'}: {msg}" for loc, msg in _describe(exc))
        raise ProfileError(f"{source}: {problems}") from None


def load_profiles_yaml(text: str, source: str = "<yaml>") -> dict[str, RegisterProfile]:
    """Named profiles from a YAML mapping `{name: {setting: value}}`; each error names the
    file, the line and the setting."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        raise ProfileError(f"{source}: not valid YAML: {exc}") from None
    if root is None:
        return {}
    if not isinstance(root, yaml.MappingNode):
        raise ProfileError(f"{source}:{root.start_mark.line + 1}: expected a mapping of profile names")
    data = yaml.safe_load(text)
    profiles: dict[str, RegisterProfile] = {}
    errors: list[str] = []
    for key_node, value_node in root.value:
        name = key_node.value
        body = data[name]
        if not isinstance(body, Mapping):
            errors.append(f"{source}:{value_node.start_mark.line + 1}: profiles.{name}: expected a mapping")
            continue
        lines = {k.value: k.start_mark.line + 1 for k, _ in getattr(value_node, "value", [])}
        try:
            profiles[name] = RegisterProfile.model_validate({"name": name, **body})
        except ValidationError as exc:
            for loc, msg in _describe(exc):
                field = str(loc[0]) if loc else ""
                line = lines.get(field, value_node.start_mark.line + 1)
                errors.append(f"{source}:{line}: profiles.{name}{'.' + field if field else ''}: {msg}")
    if errors:
        raise ProfileError("\n".join(errors))
    return profiles
