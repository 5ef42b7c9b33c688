"""`grainlink demo` for real: broker, central, simulated depots and edge agents as processes;
the first reading reaches the API; SIGINT leaves no process behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import psutil
import pytest

from tests.support import services


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
    try:
        token = None
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.strip().startswith("token:"):
                token = line.split(":", 1)[1].strip()
            if "first grain reading on the dashboard" in line:
                break
        assert token, "".join(lines)
        assert any("first grain reading on the dashboard" in x for x in lines), "".join(lines)
        children = psutil.Process(proc.pid).children(recursive=True)
        assert len(children) >= 6  # broker, central, 2 simulators, 2 agents (and their helpers)
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/depots",
                                         headers={"Authorization": f"Bearer {token}"})
        depots = json.load(urllib.request.urlopen(request, timeout=5))
        assert {d["depot"] for d in depots} >= {"HN-DEMO-001", "HN-DEMO-002"}
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read().decode()
        assert "grainlink 粮情监测" in page
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
    leftovers = [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    assert leftovers == [], [c.cmdline() for c in leftovers]
    assert proc.returncode == 0, "".join(lines) + proc.stdout.read()
