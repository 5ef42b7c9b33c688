"""Rules that relate one part of the depot file to another (field rules live in the model).

Each check takes the parts that validated on their own, so one bad granary does not hide a
unit that names a granary that does not exist at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from protocols.depot.model import AirSource, Camera, Granary, Unit

Problem = tuple[tuple, str]  # (setting path, message)
ProfileLookup = Callable[[str], Any]  # name -> profile, or None when unknown

# Register-driven cable counts are bounded by the contract (cable_count 0-64, stride 1-32).
DEFAULT_MAX_CABLES = 64
DEFAULT_MAX_SENSORS = 32

_PLACE_ZH = {"indoor": "仓内", "outdoor": "仓外"}


def max_cables(profile: Any) -> int:
    fixed = getattr(profile, "cable_count", None)
    return int(fixed) if fixed else int(getattr(profile, "max_cables", None) or DEFAULT_MAX_CABLES)


def max_sensors(profile: Any) -> int:
    fixed = getattr(profile, "sensors_per_cable", None)
    if fixed:
        return int(fixed)
    stride = getattr(profile, "stride", None)
    return int(stride) if stride else DEFAULT_MAX_SENSORS


def profile_kind(profile: Any) -> str:
    return getattr(profile, "kind", "cable_unit")


def has_air_registers(profile: Any, place: str) -> bool:
    return getattr(profile, f"{place}_temp_register", None) is not None or \
        getattr(profile, f"{place}_rh_register", None) is not None


def check_unique(items: list[tuple[int, str]], section: str, key: str, what: str) -> list[Problem]:
    """Problems for values of `key` repeated in list `section` ((index, value) pairs)."""
    seen: dict[str, int] = {}
    out: list[Problem] = []
    for index, value in items:
        if value in seen:
            out.append(((section, index, key), f"{what} {value!r} 已被 {section}[{seen[value]}] 使用"))
        else:
            seen[value] = index
    return out


@dataclass
class BusView:
    """What the checks need of a bus: it may have failed validation in part."""

    name: str
    device: str | None
    units: dict[int, Unit]


@dataclass
class Parts:
    """The items that validated (keyed by index in the file), plus the raw names of all of them
    so a granary with a bad setting is not also reported as unknown wherever it is named."""

    granaries: dict[int, Granary] = field(default_factory=dict)
    buses: dict[int, BusView] = field(default_factory=dict)
    air: dict[int, AirSource] = field(default_factory=dict)
    cameras: dict[int, Camera] = field(default_factory=dict)
    granary_codes: set[str] = field(default_factory=set)
    unit_places: set[tuple[str, int]] = field(default_factory=set)


def cross_check(parts: Parts, lookup: ProfileLookup) -> list[Problem]:
    """Every relation problem of the file."""
    granaries, buses, air, cameras = parts.granaries, parts.buses, parts.air, parts.cameras
    out: list[Problem] = []
    out += check_unique([(i, g.code) for i, g in granaries.items()], "granaries", "code", "仓房代码")
    out += check_unique([(i, b.name) for i, b in buses.items()], "buses", "name", "总线名称")
    out += check_unique(
        [(i, b.device) for i, b in buses.items() if b.device], "buses", "device", "串口设备",
    )
    out += check_unique([(i, c.camera) for i, c in cameras.items()], "cameras", "camera", "摄像机代码")
    by_code: dict[str, Granary | None] = dict.fromkeys(parts.granary_codes)
    by_code.update({g.code: g for g in granaries.values()})
    for i, g in granaries.items():
        out += _check_granary_cables(i, g)
    fed: dict[tuple[str, int], str] = {}
    units_by_place: dict[tuple[str, int], Any] = {}
    air_places: dict[tuple[str, str | None], str] = {}
    for bi, bus in buses.items():
        seen_addr: dict[int, int] = {}
        for ui, unit in sorted(bus.units.items()):
            where = ("buses", bi, "units", ui)
            if unit.address in seen_addr:
                out.append(((*where, "address"), f"地址 {unit.address} 在总线 "
                             f"{bus.name!r} 上已被 units[{seen_addr[unit.address]}] 使用"))
            seen_addr[unit.address] = ui
            profile = lookup(unit.profile)
            units_by_place[(bus.name, unit.address)] = profile
            if profile is None:
                out.append(((*where, "profile"), f"未知的寄存器配置 {unit.profile!r}：请用内置配置"
                             "（lst1812、th485、silo8x8），或在 `profiles:` 下定义"))
            out += _check_unit(where, bus, unit, profile, by_code, fed, air_places)
    for place in parts.unit_places:
        units_by_place.setdefault(place, None)
    for ai, src in air.items():
        out += _check_air_source(ai, src, by_code, units_by_place, air_places)
    for ci, cam in cameras.items():
        if cam.granary is not None and cam.granary not in by_code:
            out.append((("cameras", ci, "granary"), f"没有仓房 {cam.granary!r}"))
    return out


def _check_granary_cables(index: int, g: Granary) -> list[Problem]:
    out: list[Problem] = []
    depth_count = len(g.layer_depths_m)
    if g.cables is not None:
        seen: dict[int, int] = {}
        places: dict[tuple[int, int], int] = {}
        for ci, c in enumerate(g.cables):
            where = ("granaries", index, "cables", ci)
            if c.cable in seen:
                out.append(((*where, "cable"), f"电缆号 {c.cable} 已被 cables[{seen[c.cable]}] 使用"))
            seen.setdefault(c.cable, ci)
            if (c.row, c.col) in places:
                out.append(((*where, "row"), f"第 {c.row} 行第 {c.col} 列已被 cables[{places[(c.row, c.col)]}] 占用"))
            places.setdefault((c.row, c.col), ci)
            if c.layers > depth_count:
                out.append(((*where, "layers"), f"有 {c.layers} 层，但 layer_depths_m 只列了 {depth_count} 层"))
    elif g.cable_grid is not None and g.cable_grid.layers > depth_count:
        out.append((("granaries", index, "cable_grid", "layers"),
                    f"有 {g.cable_grid.layers} 层，但 layer_depths_m 只列了 {depth_count} 层"))
    return out


def _check_unit(where, bus, unit, profile, by_code, fed, air_places) -> list[Problem]:
    out: list[Problem] = []
    kind = profile_kind(profile) if profile is not None else None
    granary = by_code.get(unit.granary) if unit.granary else None
    if unit.granary is not None and unit.granary not in by_code:
        out.append(((*where, "granary"), f"没有仓房 {unit.granary!r}"))
    if kind == "thrh":
        if unit.cables:
            out.append(((*where, "cables"), f"寄存器配置 {unit.profile!r} 是温湿度变送器：没有电缆"))
        if unit.air is None:
            out.append(((*where, "air"), "温湿度变送器须写 `air: indoor` 或 `air: outdoor`"))
        out += _claim_air(where, unit.air, unit.granary, f"{bus.name}/{unit.address}", air_places)
        return out
    if unit.air is not None:
        out.append(((*where, "air"), "`air:` 只用于温湿度变送器；测温分机的温湿度寄存器"
                     "写在顶层的 `air:` 部分"))
    if not unit.cables:
        out.append(((*where, "cables"), "测温分机须写 `cables:`（分机的哪几路电缆接仓房的哪几根电缆）"))
        return out
    if unit.granary is None:
        out.append(((*where, "granary"), "测温分机须写其电缆所在的仓房（granary）"))
    limit = max_cables(profile) if profile is not None else None
    numbers = {c.cable: c for c in granary.cable_list()} if granary else {}
    wire_seen: set[int] = set()
    for k, block in enumerate(unit.cables):
        bw = (*where, "cables", k)
        last_wire = block.first_wire_cable + block.count - 1
        if limit is not None and last_wire > limit:
            out.append(((*bw, "count"), f"分机电缆 {block.first_wire_cable}-{last_wire} 超出了"
                         f"寄存器配置 {unit.profile!r} 最多能接的 {limit} 路"))
        for wire, cable in block.pairs():
            if wire in wire_seen:
                out.append(((*bw, "first_wire_cable"), f"分机电缆 {wire} 在本分机上映射了两次"))
                break
            wire_seen.add(wire)
            if granary is None:
                continue
            if cable not in numbers:
                out.append(((*bw, "first_cable"), f"仓房 {granary.code} 没有电缆 {cable}"
                             f"（它的电缆是 {_ranges(sorted(numbers))}）"))
                break
            owner = fed.get((granary.code, cable))
            if owner is not None:
                out.append(((*bw, "first_cable"), f"仓房电缆 {granary.code}/{cable} 已由 {owner} 接入"))
                break
            fed[(granary.code, cable)] = f"{bus.name}/{unit.address}"
            sensors = max_sensors(profile) if profile is not None else DEFAULT_MAX_SENSORS
            if numbers[cable].layers > sensors:
                out.append(((*bw, "first_cable"), f"电缆 {granary.code}/{cable} 有 {numbers[cable].layers} "
                             f"层，寄存器配置 {unit.profile!r} 每根电缆最多读 {sensors} 个测点"))
                break
    return out


def _claim_air(where, place, granary, owner, air_places) -> list[Problem]:
    if place is None:
        return []
    if place == "indoor" and granary is None:
        return [((*where, "granary"), "仓内温湿度属于某个仓房：请写明 granary")]
    if place == "outdoor" and granary is not None:
        return [((*where, "granary"), "仓外温湿度属于整个库点：不要写 granary")]
    key = (place, granary)
    if key in air_places:
        what = f"仓房 {granary} 的仓内温湿度" if granary else "仓外温湿度"
        return [((*where, "air" if where[0] == "buses" else "place"), f"{what}已由 {air_places[key]} 提供")]
    air_places[key] = owner
    return []


def _check_air_source(ai, src, by_code, units_by_place, air_places) -> list[Problem]:
    where = ("air", ai)
    out: list[Problem] = []
    if src.granary is not None and src.granary not in by_code:
        out.append(((*where, "granary"), f"没有仓房 {src.granary!r}"))
    if (src.bus, src.address) not in units_by_place:
        out.append(((*where, "address"), f"总线 {src.bus!r} 上没有地址为 {src.address} 的分机"))
    else:
        profile = units_by_place[(src.bus, src.address)]
        if profile is not None and not has_air_registers(profile, src.place):
            out.append(((*where, "place"), f"该分机的寄存器配置没有{_PLACE_ZH.get(src.place, src.place)}温湿度寄存器"))
    out += _claim_air(where, src.place, src.granary, f"{src.bus}/{src.address}", air_places)
    return out


def _ranges(numbers: list[int]) -> str:
    if not numbers:
        return "无"
    parts, start, prev = [], numbers[0], numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        parts.append(f"{start}-{prev}" if prev != start else str(start))
        if n is not None:
            start = prev = n
    return ", ".join(parts)
