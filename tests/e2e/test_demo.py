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


# The seeded year of reserve business (`grainlink central seed`) raises these on purpose.
RESERVE_RULES = {"stock_discrepancy", "storage_accident", "rectification_overdue", "stock_below_plan",
                 "shelf_life", "granary_over_capacity"}


def open_alarms(port: int, token: str) -> set[tuple[str, str, str]]:
    return {(a["depot"], a["rule"], a["subject"]) for a in api(port, token, "/api/v1/alarms")
            if a["state"] != "cleared" and a["rule"] not in RESERVE_RULES}


def check_cameras(port: int, token: str, state_dir) -> None:
    """Each demo depot's cameras (granary and gate) are online with a still, and the OSD of the
    granary camera shows that granary's latest indoor reading."""
    import yaml

    from edge.camera.onvif import OnvifCamera
    from edge.camera.still import overlay_text

    deadline = time.monotonic() + 90
    for depot in ("HN-DEMO-001", "HN-DEMO-002"):
        cams: dict = {}
        while time.monotonic() < deadline:
            cams = {c["camera"]: c for c in api(port, token, f"/api/v1/depots/{depot}/cameras")["cameras"]}
            if set(cams) == {"CAM-P01-1", "GATE-1"} and all(c["online"] and c["latest_still"]
                                                            for c in cams.values()):
                break
            time.sleep(2)
        assert set(cams) == {"CAM-P01-1", "GATE-1"}, cams
        assert all(c["online"] and c["latest_still"] for c in cams.values()), cams
    config = yaml.safe_load((state_dir / "depots" / "HN-DEMO-001.yaml").read_text(encoding="utf-8"))
    url = config["cameras"][0]["url"]
    osd = expected = None
    while time.monotonic() < deadline + 30:
        indoor = api(port, token, "/api/v1/depots/HN-DEMO-001/granaries/P01/latest")["indoor"]
        expected = overlay_text(indoor["temp_c"], indoor["rh_pct"])
        osd = list(OnvifCamera(url, "admin", "admin123").osd_texts("vsc_profile_1").values())
        if osd == [expected]:
            break
        time.sleep(1)
    assert osd == [expected]
    check_live_view(port, token, state_dir)


def check_live_view(port: int, token: str, state_dir) -> None:
    """实时 on the demo's granary camera: HLS within seconds, the OSD text top-left in its frames."""
    import cv2

    from grainlink.demo.media import missing_parts

    if missing_parts() is not None:
        return
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/depots/HN-DEMO-001/cameras/CAM-P01-1/live",
                                     method="POST", headers={"Authorization": f"Bearer {token}"})
    answer = json.load(urllib.request.urlopen(request, timeout=20))
    assert answer["state"] == "done", answer
    playlist = answer["hls_url"]
    fragment = None
    deadline = time.monotonic() + 10
    while fragment is None and time.monotonic() < deadline:
        try:
            names = [x for x in urllib.request.urlopen(playlist, timeout=2).read().decode().splitlines()
                     if x.endswith(".ts")]
        except OSError:
            names = []
        fragment = playlist.rsplit("/", 1)[0] + "/" + names[-1] if names else None
        time.sleep(0.2)
    assert fragment, playlist
    seg = state_dir / "live.ts"
    seg.write_bytes(urllib.request.urlopen(fragment, timeout=5).read())
    png = state_dir / "live.png"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(seg), "-frames:v", "1", "-y", str(png)], check=True, timeout=20)
    frame = cv2.imread(str(png))
    assert frame[28:62, 22:86].mean() < 200 < frame[100:200, 22:86].mean()  # the OSD band top-left


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
        check_cameras(port, token, tmp_path)
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
