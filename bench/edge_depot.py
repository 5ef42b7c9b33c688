"""Depot files for the edge benchmarks: N flat granaries of 78 cables × 4 layers (312 points)."""

from __future__ import annotations

import uuid
from pathlib import Path

GRANARY = """\
  - code: G{n:02d}
    name: {n}号仓
    type: flat
    length_m: 60
    width_m: 24
    grain_height_m: 6.0
    capacity_t: 5000
    grain: wheat
    storage_mode: quasi_low
    layer_depths_m: [0.3, 2.0, 4.0, 5.7]
    cable_grid: {{rows: 6, cols: 13, layers: 4, x0_m: 0.5, y0_m: 0.5, dx_m: 4.5, dy_m: 4.6}}
    scan_interval: {scan_interval}
"""

HEADER = """\
depot:
  code: {code}
  name: bench
  region: {{province: "430000", city: "430100", county: "430102"}}
granaries:
"""


def units_for(granaries: list[int], cables_per_unit: int) -> list[tuple[int, int, int, int]]:
    """(granary, first granary cable, count, address) covering 78 cables per granary."""
    out, address = [], 1
    for g in granaries:
        first = 1
        while first <= 78:
            count = min(cables_per_unit, 79 - first)
            out.append((g, first, count, address))
            address += 1
            first += count
    return out


def write_bench_depot(folder: Path, granaries: int, buses: int, kind: str = "serial",
                      baud: int = 9600, scan_interval: str = "1h", cables_per_unit: int = 78,
                      mqtt_url: str = "mqtt://127.0.0.1:1883", metrics_port: int = 0,
                      tcp_ports: list[int] | None = None, unit_scan_every_s: float = 0) -> Path:
    """`unit_scan_every_s`: how often the simulated units scan on their own (0: only when
    told), so a poller that publishes each unit scan once has new scans to publish."""
    folder.mkdir(parents=True, exist_ok=True)
    code = f"BENCH-{uuid.uuid4().hex[:8]}"
    text = HEADER.format(code=code)
    text += "".join(GRANARY.format(n=n, scan_interval=scan_interval) for n in range(1, granaries + 1))
    text += "buses:\n"
    links = []
    for b in range(buses):
        mine = [g for g in range(1, granaries + 1) if (g - 1) % buses == b]
        name = f"bus-{b + 1}"
        if kind == "serial":
            tty = folder / f"tty-{name}"
            links.append(f"{name}: {tty}")
            text += (f"  - name: {name}\n    kind: serial\n    device: {tty}\n    baud: {baud}\n"
                     "    timeout_s: 1.0\n    retries: 1\n    units:\n")
        else:
            port = (tcp_ports or [])[b]
            links.append(f"{name}: {port}")
            text += f"  - name: {name}\n    kind: tcp\n    host: 127.0.0.1\n    port: {port}\n    units:\n"
        for g, first, count, address in units_for(mine, cables_per_unit):
            text += (f"      - {{address: {address}, profile: lst1812, granary: G{g:02d}, "
                     f"cables: {{first_wire_cable: 1, count: {count}, first_cable: {first}}}}}\n")
    ports = "tcp_ports" if kind != "serial" else "serial_links"
    text += (f"broker: {{url: \"{mqtt_url}\", client_id: {code}-edge}}\n"
             f"state_dir: ./state-{code}\n"
             f"agent: {{clock_check: none, metrics_port: {metrics_port}, log_level: warning}}\n"
             "simulation:\n  seed: 1\n  speed: 60\n  rtu_wire_time: true\n"
             f"  unit_scan_every_s: {unit_scan_every_s:g}\n"
             f"  {ports}: {{{', '.join(links)}}}\n")
    path = folder / "depot.yaml"
    path.write_text(text, encoding="utf-8")
    return path
