"""The demo's simulated province: two depots of three granaries of different types, written
as ordinary depot files (the same format integrators write) into the demo's state folder.

One hot spot develops in depot 1's flat granary, depot 2's squat silo is condensation-prone
(warm humid air over cold grain) and one sensor of depot 1's silo is faulty. Time runs
accelerated: one simulated hour per real second by default, so a simulated day passes in 24 s."""

from __future__ import annotations

from pathlib import Path

import yaml

DEPOTS = [
    {"code": "HN-DEMO-001", "name": "长沙演示粮库",
     "region": {"province": "430000", "city": "430100", "county": "430102"}},
    {"code": "HN-DEMO-002", "name": "株洲演示粮库",
     "region": {"province": "430000", "city": "430200", "county": "430203"}},
]


def _granaries() -> list[dict]:
    return [
        {"code": "P01", "name": "1号仓", "type": "flat", "length_m": 30, "width_m": 18,
         "grain_height_m": 6.0, "capacity_t": 2500, "grain": "wheat", "storage_mode": "quasi_low",
         "layer_depths_m": [0.3, 2.0, 4.0, 5.7],
         "cable_grid": {"rows": 4, "cols": 6, "layers": 4, "x0_m": 2.5, "y0_m": 2.0, "dx_m": 5.0, "dy_m": 4.7}},
        {"code": "P02", "name": "2号仓", "type": "squat_silo", "length_m": 25, "width_m": 25,
         "grain_height_m": 12.0, "capacity_t": 5000, "grain": "maize", "storage_mode": "normal",
         "layer_depths_m": [0.3, 4.0, 8.0, 11.7],
         "cable_grid": {"rows": 3, "cols": 3, "layers": 4, "x0_m": 8.0, "y0_m": 8.0, "dx_m": 4.5, "dy_m": 4.5}},
        {"code": "P03", "name": "3号仓", "type": "silo", "length_m": 10, "width_m": 10,
         "grain_height_m": 18.0, "capacity_t": 1200, "grain": "paddy", "storage_mode": "low",
         "layer_depths_m": [0.5, 6.0, 12.0, 17.5],
         "cable_grid": {"rows": 1, "cols": 3, "layers": 4, "x0_m": 2.0, "y0_m": 5.0, "dx_m": 3.0, "dy_m": 1.0}},
    ]


CAMERA_PASSWORD_ENV = "GRAINLINK_DEMO_CAMERA_PASSWORD"


def cameras(camera_port: int) -> list[dict]:
    """The depot's simulated NVR (`grainlink sim camera --channels 2`): channel 1 inside
    granary P01 (its OSD carries P01's 仓温/仓湿), channel 2 at the gate."""
    common = {"url": f"http://127.0.0.1:{camera_port}/onvif/device_service", "username": "admin",
              "password_env": CAMERA_PASSWORD_ENV, "snapshot_interval": "20s", "health_interval": "10s",
              "offline_after": "60s", "timeout": "3s"}
    return [{"camera": "CAM-P01-1", "granary": "P01", "name": "1号仓仓内", "profile": "profile_1", **common},
            {"camera": "GATE-1", "name": "大门", "profile": "profile_2", **common}]


def depot_config(index: int, mqtt_url: str, tcp_port: int, state_dir: Path, speed: float,
                 camera_port: int | None = None, live_url: str | None = None) -> dict:
    depot = DEPOTS[index]
    granaries = _granaries()
    units = []
    for address, g in enumerate(granaries, start=1):
        count = g["cable_grid"]["rows"] * g["cable_grid"]["cols"]
        units.append({"address": address, "profile": "lst1812", "granary": g["code"],
                      "cables": {"first_wire_cable": 1, "count": count, "first_cable": 1}})
        g["scan_interval"] = "15s"
    scenarios = ([{"kind": "hotspot", "granary": "P01", "cable": 9, "layer": 2, "rate_c_per_day": 4.0,
                   "start_after": "6h"},
                  {"kind": "sensor_fault", "granary": "P03", "cable": 2, "layer": 3, "fault": "open"}]
                 if index == 0 else [{"kind": "condensation", "granary": "P02"}])
    return {
        "depot": {**depot, "timezone": "Asia/Shanghai"},
        "granaries": granaries,
        "buses": [{"name": "tcp-1", "kind": "tcp", "host": "127.0.0.1", "port": tcp_port,
                   "timeout_s": 1.0, "retries": 1, "units": units}],
        "air": [{"place": "indoor", "granary": g["code"], "source": "unit", "bus": "tcp-1",
                 "address": n} for n, g in enumerate(granaries, start=1)]
        + [{"place": "outdoor", "source": "unit", "bus": "tcp-1", "address": 1}],
        "cameras": cameras(camera_port) if camera_port else [],
        "live": {"url": live_url, "max_streams": 1, "duration": "5m"},
        "schedules": {"air_interval": "15s", "status_interval": "10s", "housekeeping_interval": "1h"},
        "broker": {"url": mqtt_url, "username": depot["code"], "password_env": "GRAINLINK_MQTT_PASSWORD"},
        "agent": {"clock_check": "none", "metrics_port": 0},
        "state_dir": str(state_dir / "edge" / depot["code"]),
        "simulation": {
            "seed": 7 + index, "speed": speed, "listen_host": "127.0.0.1",
            "tcp_ports": {"tcp-1": tcp_port}, "unit_scan_every_s": 5,
            "granaries": {"P03": {"initial_c": 9.0}},
            "scenarios": scenarios,
        },
    }


def write_province(state_dir: Path, mqtt_url: str, ports: list[int], speed: float,
                   camera_ports: list[int] | None = None, live_url: str | None = None) -> list[Path]:
    """The depot files of the demo; returns their paths."""
    paths = []
    for index, port in enumerate(ports):
        camera_port = camera_ports[index] if camera_ports else None
        path = state_dir / "depots" / f"{DEPOTS[index]['code']}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        text = yaml.safe_dump(depot_config(index, mqtt_url, port, state_dir, speed, camera_port, live_url),
                              allow_unicode=True, sort_keys=False)
        path.write_text("# written by `grainlink demo`; edit freely, it is rewritten on each run\n" + text)
        paths.append(path)
    return paths
