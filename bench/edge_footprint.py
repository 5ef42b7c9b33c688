"""Footprint of the edge agent running a 20-granary depot: peak RSS and CPU seconds per 1000
readings (goals ≤ 50 MB, ≤ 1 s).

Starts `grainlink sim depot` and `grainlink edge run` as separate processes (the agent
publishes to the broker at 127.0.0.1:1883), lets the agent scan every granary every
`--interval` seconds for `--seconds`, then reads the agent's VmHWM and CPU time from /proc
and its reading count from its metrics port.

    .venv/bin/python bench/edge_footprint.py [--seconds 60] [--interval 10s] [--kind serial|tcp]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.edge_bus_efficiency import start_simulator  # noqa: E402
from bench.edge_depot import write_bench_depot  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_stats(pid: int) -> tuple[float, float]:
    """(peak RSS MB, CPU seconds) of a running process."""
    status = Path(f"/proc/{pid}/status").read_text()
    hwm_kb = int(re.search(r"VmHWM:\s+(\d+)", status).group(1))
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    return hwm_kb / 1024, cpu


def native_modules(pid: int) -> list[str]:
    """The standard library's C extensions mapped into the process (`_asyncio`, `_ssl`, ...):
    what its imports cost in shared objects, seen from outside."""
    maps = Path(f"/proc/{pid}/maps").read_text()
    return sorted({m.group(1) for m in re.finditer(r"lib-dynload/(\w+)\.", maps)})


def metric(port: int, name: str) -> float:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith(f"grainlink_edge_{name}") and not line.startswith("#"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--interval", default="10s")
    ap.add_argument("--kind", choices=("serial", "tcp"), default="serial")
    ap.add_argument("--buses", type=int, default=4)
    ap.add_argument("--mqtt-url", default=os.environ.get("GRAINLINK_TEST_MQTT_URL", "mqtt://127.0.0.1:1883"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        ports = [free_port() for _ in range(args.buses)] if args.kind == "tcp" else None
        # the units scan every second, so every poll finds a new scan to publish
        path = write_bench_depot(Path(tmp), 20, args.buses, kind=args.kind, scan_interval=args.interval,
                                 mqtt_url=args.mqtt_url, metrics_port=port, tcp_ports=ports,
                                 unit_scan_every_s=1)
        sim = start_simulator(path)
        agent = subprocess.Popen([sys.executable, "-m", "grainlink", "edge", "run", str(path)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(args.seconds)
            if agent.poll() is not None:
                raise RuntimeError(f"agent exited with {agent.returncode}")
            rss_mb, cpu_s = proc_stats(agent.pid)
            natives = native_modules(agent.pid)
            readings = metric(port, "readings_total")
            acked = metric(port, "acked_total")
        finally:
            agent.send_signal(signal.SIGTERM)
            agent.wait(30)
            sim.terminate()
            sim.wait(10)
    per_k = cpu_s / readings * 1000 if readings else float("nan")
    print(f"edge agent, 20 granaries x 312 points over {args.buses} {args.kind} buses, "
          f"{args.seconds:.0f}s: {readings:.0f} readings, {acked:.0f} messages acknowledged")
    print(f"peak RSS {rss_mb:.1f} MB (goal <= 50): ratio {rss_mb / 50:.2f}")
    print(f"CPU {cpu_s:.2f}s = {per_k:.3f}s per 1000 readings (goal <= 1): ratio {per_k:.3f}")
    print(f"C extensions loaded ({len(natives)}): {' '.join(natives)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
