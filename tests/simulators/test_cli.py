"""`grainlink sim depot`: prints one line per device then `ready`, stops cleanly on SIGTERM,
and refuses a bad `simulation:` section naming file, line and setting."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from pymodbus.client import ModbusTcpClient

from tests.simulators.test_depot import depot_text

ROOT = Path(__file__).resolve().parents[2]


def run_sim(path: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "grainlink", "sim", "depot", "--config", str(path), *extra],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def sim_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grainlink", "sim", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=30)


def test_sim_depot_runs_until_sigterm_and_takes_scenarios(tmp_path):
    path = tmp_path / "depot.yaml"
    path.write_text(depot_text(tmp_path, control_socket="ctl.sock"), encoding="utf-8")
    proc = run_sim(path, "--speed", "60")
    try:
        lines = []
        while True:
            line = proc.stdout.readline()
            assert line, f"exited early: {proc.stderr.read()}"
            lines.append(line.strip())
            if line.strip() == "ready":
                break
        devices = [x for x in lines if x.startswith("设备 ")]
        assert len(devices) == 5
        tcp = next(x for x in devices if x.startswith("设备 tcp-1/1 lst1812"))
        port = int(tcp.rsplit(":", 1)[1])
        link = tmp_path / "ttyRS485-1"
        assert os.readlink(link).startswith("/dev/pts/")
        client = ModbusTcpClient("127.0.0.1", port=port, timeout=1, retries=0)
        assert client.connect()
        assert client.read_holding_registers(0, count=4, device_id=1).registers[0] == 0x0101
        assert f"控制接口：unix {tmp_path / 'ctl.sock'}" in lines

        done = sim_cli("inject", "--config", str(path), json.dumps(
            {"kind": "sensor_fault", "granary": "P01", "cable": 1, "layer": 1, "fault": "open"}))
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == {"ok": True, "id": 1}
        client.write_register(6, 1, device_id=1)
        time.sleep(0.4)
        assert client.read_holding_registers(100, count=1, device_id=1).registers == [0x8000]
        bad = sim_cli("inject", "--config", str(path), '{"kind": "hotspot", "granary": "P01"}')
        assert bad.returncode == 1 and "scenario.cable: 缺少必填设置" in bad.stdout
        cleared = sim_cli("clear", "--config", str(path), "--id", "1")
        assert json.loads(cleared.stdout) == {"ok": True, "cleared": 1}
        client.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
        assert not link.exists() and not (tmp_path / "ctl.sock").exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_bad_simulation_section_is_refused_with_its_line(tmp_path):
    text = depot_text(tmp_path, scenarios=[
        {"kind": "hotspot", "granary": "P09", "cable": 1, "layer": 1, "rate_c_per_day": 1}])
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    proc = run_sim(path)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "P09" in t)
    assert f"bad.yaml:{line}: simulation.scenarios[0].granary: 本库点没有仓房 'P09'" in err
