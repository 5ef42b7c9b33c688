"""The built-in register profiles and loading vendor profiles from YAML."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml
from pydantic import ValidationError

from protocols.modbus.profile import ProfileError, RegisterProfile
from protocols.pydantic_zh import translate
from protocols.yaml_zh import yaml_reason

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
        raise ProfileError(f"未知的寄存器配置 {name!r}；已有：{'、'.join(known)}") from None


def _describe(exc: ValidationError) -> list[tuple[tuple, str]]:
    # In Chinese, as every message an integrator reads (protocols/pydantic_zh.py).
    return [(tuple(err["loc"]), translate(err)) for err in exc.errors()]


def parse_profile(data: Mapping[str, Any], source: str = "<profile>") -> RegisterProfile:
    """A profile from a mapping (as read from YAML); errors name every bad field."""
    if not isinstance(data, Mapping):
        raise ProfileError(f"{source}: 寄存器配置须为设置的映射，而不是 {type(data).__name__}")
    try:
        return RegisterProfile.model_validate(dict(data))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, loc)) or 'profile'}: {msg}" for loc, msg in _describe(exc))
        raise ProfileError(f"{source}: {problems}") from None


def load_profiles_yaml(text: str, source: str = "<yaml>") -> dict[str, RegisterProfile]:
    """Named profiles from a YAML mapping `{name: {setting: value}}`; each error names the
    file, the line and the setting."""
    profiles, problems, _ = read_profiles_yaml(text, source)
    if problems:
        raise ProfileError("\n".join(f"{source}:{line}: {setting}: {msg}" if line else f"{source}: {setting}: {msg}"
                                     for line, setting, msg in problems))
    return profiles


ProfileProblem = tuple[int | None, str, str]  # (line, setting, message)


def read_profiles_yaml(text: str, source: str = "<yaml>") -> tuple[dict[str, RegisterProfile], list[ProfileProblem],
                                                                    dict[str, int]]:
    """Profiles from one YAML text, every problem in it (each with its line and setting), and
    the line of every profile name it defines (valid or not).

    Two shapes: a mapping of named profiles (`umt8: {temp_base: 40, ...}`), or one profile
    whose own `name:` is a setting (a file per device model)."""
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return {}, [(mark.line + 1 if mark else None, "(file)", f"不是有效的 YAML：{yaml_reason(getattr(exc, 'problem', None) or str(exc))}")], {}
    if root is None:
        return {}, [], {}
    if not isinstance(root, yaml.MappingNode) or not isinstance(data, Mapping):
        return {}, [(root.start_mark.line + 1, "(file)", "须为寄存器配置名称到其设置的映射")], {}
    if isinstance(data.get("name"), str):
        entries = [(data["name"], root, data, "profile")]
        names = {data["name"]: root.start_mark.line + 1}
    else:
        entries = [(str(k.value), v, data.get(k.value), f"profiles.{k.value}") for k, v in root.value]
        names = {str(k.value): k.start_mark.line + 1 for k, _ in root.value}
    profiles: dict[str, RegisterProfile] = {}
    problems: list[ProfileProblem] = []
    for name, node, body, where in entries:
        if not isinstance(body, Mapping):
            problems.append((node.start_mark.line + 1, where, "须为设置的映射"))
            continue
        lines = {str(k.value): k.start_mark.line + 1 for k, _ in getattr(node, "value", [])}
        try:
            profiles[name] = RegisterProfile.model_validate({**body, "name": name})
        except ValidationError as exc:
            for loc, msg in _describe(exc):
                field = str(loc[0]) if loc else ""
                line = lines.get(field, node.start_mark.line + 1)
                problems.append((line, f"{where}{'.' + field if field else ''}", _plain(msg)))
    return profiles, problems, names


def _plain(msg: str) -> str:
    return msg[len("Value error, "):] if msg.startswith("Value error, ") else msg


def describe_profile(profile: RegisterProfile) -> str:
    """The profile's settings on one line, defaults left out: what `grainlink protocols
    profiles` prints."""
    given = profile.model_dump(exclude_defaults=True, exclude={"name"})
    parts = [f"kind={profile.kind}", f"function_code={profile.function_code}"]
    if profile.kind == "cable_unit":
        parts += [f"scale={profile.scale:g}", f"signed={str(profile.signed).lower()}"]
    for key, value in given.items():
        if key in ("kind", "function_code", "scale", "signed"):
            continue
        if key.startswith("sentinel") and value is not None:
            value = [f"0x{v:04X}" for v in value] if isinstance(value, tuple | list) else f"0x{value:04X}"
        parts.append(f"{key}={value}")
    return " ".join(parts)
