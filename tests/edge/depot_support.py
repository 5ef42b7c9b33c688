"""A small depot file for edge tests: one TCP bus, one RTU bus on a pty, unique codes."""

from __future__ import annotations

import uuid
from pathlib import Path

from tests.support.services import free_port

DEPOT_TEMPLATE = """\
depot:
  code: {code}
  name: 测试粮库
  region: {{province: "430000", city: "430100", county: "430102"}}
granaries:
  - code: P01
    name: 1号仓
    type: flat
    length_m: 30
    width_m: 12
    grain_height_m: 6.0
    capacity_t: 2000
    grain: wheat
    storage_mode: quasi_low
    layer_depths_m: [0.3, 2.0, 4.0, 5.7]
    cable_grid: {{rows: 2, cols: 5, layers: 4, x0_m: 0.5, y0_m: 0.5, dx_m: 4.5, dy_m: 4.6}}
    scan_interval: {scan_interval}
  - code: P02
    name: 2号仓
    type: squat_silo
    length_m: 25
    width_m: 25
    grain_height_m: 14.0
    capacity_t: 6000
    grain: maize
    storage_mode: normal
    layer_depths_m: [0.3, 3.0, 6.0, 9.0, 12.0, 13.7]
    cable_grid: {{rows: 3, cols: 3, layers: 6, x0_m: 4.0, y0_m: 4.0, dx_m: 8.5, dy_m: 8.5}}
    scan_interval: {scan_interval}
  - code: P03
    name: 3号仓
    type: silo
    length_m: 10
    width_m: 10
    grain_height_m: 20.0
    capacity_t: 1500
    grain: paddy
    storage_mode: low
    layer_depths_m: [0.5, 3.0, 6.0, 9.0, 12.0, 15.0, 18.0, 19.5]
    cables:
      - {{cable: 1, row: 1, col: 1, x_m: 3.0, y_m: 5.0, layers: 8}}
      - {{cable: 2, row: 1, col: 2, x_m: 7.0, y_m: 5.0, layers: 8}}
    scan_interval: {scan_interval}
buses:
  - name: tcp-1
    kind: tcp
    host: 127.0.0.1
    port: {tcp_port}
    timeout_s: 1.0
    retries: 1
    units:
      - {{address: 1, profile: lst1812, granary: P01, cables: {{first_wire_cable: 1, count: 10, first_cable: 1}}}}
  - name: rs485-1
    kind: serial
    device: {tty}
    baud: {baud}
    parity: N
    stop_bits: 1
    timeout_s: {rtu_timeout}
    retries: 1
    backoff_initial_s: {backoff}
    backoff_max_s: 60
    units:
      - {{address: 2, profile: lst1812, granary: P02, cables: {{first_wire_cable: 1, count: 5, first_cable: 1}}}}
      - {{address: 4, profile: lst1812, granary: P02, cables: {{first_wire_cable: 1, count: 4, first_cable: 6}}}}
      - {{address: 3, profile: silo8x8, granary: P03, cables: {{first_wire_cable: 1, count: 2, first_cable: 1}}}}
      - {{address: 10, profile: th485, air: indoor, granary: P03}}
      - {{address: 11, profile: th485, air: outdoor}}
air:
  - {{place: indoor, granary: P01, source: unit, bus: tcp-1, address: 1}}
  - {{place: indoor, granary: P02, source: unit, bus: rs485-1, address: 2}}
schedules:
  air_interval: {air_interval}
  status_interval: 1s
  housekeeping_interval: 1h
broker:
  url: {mqtt_url}
  client_id: {code}-edge
  max_inflight: 50
state_dir: ./state
agent:
  clock_check: none
  metrics_port: {metrics_port}
simulation:
  seed: 7
  speed: 60
  start: "2026-11-01T00:00:00Z"
  listen_host: 127.0.0.1
  rtu_wire_time: {wire_time}
  unit_scan_every_s: 0
  serial_links: {{rs485-1: {tty}}}
  tcp_ports: {{tcp-1: {tcp_port}}}
"""


def unique_code(prefix: str = "T-EDGE") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def write_depot(folder: Path, **overrides) -> Path:
    """The test depot file in `folder`; returns its path."""
    values = {
        "code": unique_code(), "scan_interval": "1h", "tcp_port": free_port(),
        "tty": str(folder / "ttyRS485-1"), "baud": 9600, "rtu_timeout": 0.3, "backoff": 5,
        "air_interval": "1h", "mqtt_url": "mqtt://127.0.0.1:1883", "metrics_port": 0,
        "wire_time": "true",
    }
    values.update(overrides)
    path = folder / "depot.yaml"
    path.write_text(DEPOT_TEMPLATE.format(**values), encoding="utf-8")
    return path
