"""`grainlink edge probe` (alias `scan`): ask each address of a bus who it is (profile
version, cables)."""

from __future__ import annotations

from collections.abc import Iterator

from edge.config import EdgeConfig
from edge.modbus.counters import ErrorCounters
from edge.modbus.link import BusLink, ReadFailure
from protocols.depot.model import SerialBus, TcpBus, Unit

DEFAULT_PROFILE = "lst1812"


def parse_addresses(text: str) -> list[int]:
    """`1-20,30` → [1..20, 30]; every address within 1-247."""
    out: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        lo, _, hi = part.partition("-")
        try:
            first, last = int(lo), int(hi or lo)
        except ValueError:
            raise ValueError(f"{part!r} 不是地址，也不是 1-20 这样的范围") from None
        if not (1 <= first <= last <= 247):
            raise ValueError(f"{part!r}：地址须在 1-247 之间")
        out.extend(range(first, last + 1))
    return sorted(set(out))


def probe_bus(cfg: EdgeConfig, bus: SerialBus | TcpBus, addresses: list[int],
              profile_name: str | None = None, timeout_s: float | None = None) -> Iterator[tuple[str, bool]]:
    """(report line, answered) per address, as each is probed."""
    quick = bus.model_copy(update={"retries": 0, "timeout_s": timeout_s or bus.timeout_s, "units": []})
    device = cfg.serial_device(bus) if isinstance(bus, SerialBus) else None
    link = BusLink(quick, ErrorCounters(), device=device)
    configured = {u.address: u for u in bus.units}
    try:
        for address in addresses:
            unit = configured.get(address)
            name = profile_name or (unit.profile if unit else DEFAULT_PROFILE)
            try:
                profile = cfg.depot.profile(name)
            except (KeyError, ValueError):  # get_profile raises ProfileError, a ValueError
                yield f"{address:3d}  未知的寄存器配置 {name!r}", False
                continue
            yield _probe_one(link, address, name, profile, unit)
    finally:
        link.close()


def _probe_one(link: BusLink, address: int, name: str, profile, unit: Unit | None) -> tuple[str, bool]:
    from edge.modbus.unit import UnitPoller

    poller = UnitPoller(link, unit or Unit(address=address, profile=name), profile)
    expected = "" if unit is None else f"  （配置为 {unit.profile}）"
    try:
        if poller.is_thrh:
            air = poller.read_thrh()
            return f"{address:3d}  按 {name} 应答：{air.temp_c} °C，{air.rh_pct} %RH{expected}", True
        header, _ = poller.read_header()
    except ReadFailure as failure:
        if failure.kind == "exception":
            return f"{address:3d}  有应答，但不是 {name}：{failure.detail}{expected}", True
        if failure.kind == "io":
            return f"{address:3d}  {failure.detail}（代理是否正在运行并占用该端口？）", False
        return f"{address:3d}  无应答（{failure.kind}）", False
    sensors = header.sensors_per_cable or []
    points = sum(sensors) if sensors else None
    version = header.profile_version
    return (f"{address:3d}  按 {name} 应答：配置版本 "
            f"{f'0x{version:04X}' if isinstance(version, int) else version}，"
            f"{header.cable_count} 根电缆，stride {header.stride}"
            + (f"，{points} 个测点" if points is not None else "")
            + f"，扫描计数 {header.scan_counter}，上次扫描在 {header.scan_age_s} s 前{expected}"), True
