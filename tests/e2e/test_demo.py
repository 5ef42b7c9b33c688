"""`grainlink demo` for real: broker, central, simulated depots and edge agents as processes;
the first reading reaches the API; the grain-pile model's hot spot, condensation-prone silo
and faulty sensor raise exactly their three alarms through the whole path (Modbus → edge →
broker → ingest → rules → API) and the quiet granaries raise none; SIGINT leaves no process
behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request

import psutil
import pytest

from tests.support import services

# What the demo's depots are built to show (grainlink/demo/province.py), and nothing else.
EXPECTED_ALARMS = {("HN-DEMO-001", "hotspot", "P01/C9/L2"),
                   ("HN-DEMO-001", "sensor_fault", "P03/C2/L3"),
                   ("HN-DEMO-002", "condensation_risk", "P02")}


def api(port: int, token: str, path: str):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                     headers={"Authorization": f"Bearer {token}"})
    return json.load(urllib.request.urlopen(request, timeout=5))


def open_alarms(port: int, token: str) -> set[tuple[str, str, str]]:
    return {(a["depot"], a["rule"], a["subject"]) for a in api(port, token, "/api/v1/alarms")
            if a["state"] != "cleared"}


@pytest.fixture
def demo_database(database_server_url):
    with services.scratch_database(database_server_url, prefix="grainlink_demo") as url:
        yield url


def test_demo_brings_readings_to_the_api_and_stops_cleanly(tmp_path, demo_database):
    port = services.free_port()
    env = {**os.environ, "GRAINLINK_DATABASE_URL": demo_database}
    proc = subprocess.Popen([sys.executable, "-m", "grainlink", "demo", "--state-dir", str(tmp_path),
                             "--port", str(port)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines: list[str] = []
    first = threading.Event()

    def read() -> None:  # keep the pipe drained for as long as the demo writes
        for line in proc.stdout:
            lines.append(line)
            if "first grain reading on the dashboard" in line:
                first.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        first.wait(90)
        token = next((x.split(":", 1)[1].strip() for x in lines
                      if x.strip().startswith("token:")), None)
        assert token, "".join(lines)
        assert first.is_set(), "".join(lines)
        children = psutil.Process(proc.pid).children(recursive=True)
        assert len(children) >= 6  # broker, central, 2 simulators, 2 agents (and their helpers)
        depots = api(port, token, "/api/v1/depots")
        assert {d["depot"] for d in depots} >= {"HN-DEMO-001", "HN-DEMO-002"}
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read().decode()
        assert "grainlink 粮情监测" in page
        seen: set = set()
        deadline = time.monotonic() + 120
        while not seen >= EXPECTED_ALARMS and time.monotonic() < deadline:
            time.sleep(2)
            seen = open_alarms(port, token)
        time.sleep(5)  # a few more scan rounds: nothing else may appear
        assert open_alarms(port, token) == EXPECTED_ALARMS, (seen, "".join(lines[-30:]))
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
    leftovers = [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    assert leftovers == [], [c.cmdline() for c in leftovers]
    assert proc.returncode == 0, "".join(lines)
