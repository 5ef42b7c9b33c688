"""`EdgeAgent.start_cameras` on the real edge agent with the simulated depot's Modbus units: the OSD
follows the indoor reading the agent just polled, and a camera with a wrong password never
stops the polling."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import UTC, datetime

import pytest

from edge.agent import EdgeAgent
from edge.camera.soap import CameraError, call
from edge.camera.still import overlay_text
from edge.config import load_config
from protocols.mqtt.codec import decode_message
from protocols.mqtt.models import Command
from simulators.depot import SimulatedDepot
from simulators.onvif.server import SimulatedCamera
from tests.central.ingest_support import wait_for
from tests.edge.depot_support import write_depot


@pytest.fixture
def depot(tmp_path):
    cams = [SimulatedCamera().start(), SimulatedCamera(password="not-the-configured-one").start()]
    path = write_depot(tmp_path, mqtt_url="mqtt://127.0.0.1:1", air_interval="1h", wire_time="false")
    with path.open("a", encoding="utf-8") as f:
        f.write("cameras:\n")
        for i, cam in enumerate(cams, 1):
            f.write(f"  - {{camera: CAM-{i}, granary: P01, url: '{cam.url}', username: admin, "
                    "password_file: cam.pass, health_interval: 0.2s, offline_after: 0.4s, timeout: 1s}\n")
    (tmp_path / "cam.pass").write_text("admin123\n")
    cfg = load_config(path, environ={})
    sim = SimulatedDepot(cfg.depot, config_source=str(path))
    sim.start()
    agent = EdgeAgent(cfg, with_uplink=False)
    service = agent.start_cameras()  # what agent.start() does
    yield agent, service, cams
    service.stop()
    agent.stop()
    sim.stop()
    for cam in cams:
        cam.stop()


def test_osd_follows_the_polled_indoor_reading_and_auth_failure_spares_polling(depot):
    agent, service, (good, bad) = depot
    results = agent.polling.read_air("tcp-1")
    assert results and all(r.ok for r in results)
    indoor = [a for m in agent.outbox.next_pending(100) if m.kind == "telemetry"
              for a in decode_message(f"grainlink/v1/{agent.code}/telemetry", m.payload).air
              if a.place == "indoor" and a.granary == "P01"]
    assert indoor, "the agent polled no indoor reading for P01"
    expected = overlay_text(indoor[-1].temp_c, indoor[-1].rh_pct)
    assert wait_for(lambda: good.osd_text(), expected, timeout=5) == expected
    assert service.workers["CAM-1"].overlay == expected
    d = wait_for(lambda: service.details()[1]["error_kind"], "auth", timeout=5)
    assert d == "auth" and "认证失败" in service.details()[1]["last_error"]
    assert bad.osd_text() is None
    t = time.monotonic()
    again = agent.polling.read_air("tcp-1")  # polling goes on while CAM-2 keeps failing
    assert all(r.ok for r in again) and time.monotonic() - t < 2.0
    detail = agent.on_command(Command(depot=agent.code, id=str(uuid.uuid4()), action="snapshot",
                                      granary="P01", issued_at=datetime.now(UTC)))
    assert detail.startswith("已抓拍 1 张；失败：CAM-2") and "认证失败" in detail
    status = agent.reporter.status_message("online")
    assert [(c.camera, c.ok) for c in status.cameras] == [("CAM-1", True), ("CAM-2", False)]


def test_sim_camera_command_and_its_scenario_switches():
    proc = subprocess.Popen([sys.executable, "-m", "grainlink.cli", "sim", "camera", "--port", "0"],
                            stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().split()[-1]
        assert proc.stdout.readline().strip() == "ready"
        assert call(url, "<tds:GetDeviceInformation/>", "admin", "admin123", 2.0) is not None
        base = url.rsplit("/onvif/", 1)[0]
        urllib.request.urlopen(f"{base}/sim/password/new-one", timeout=2).read()
        with pytest.raises(CameraError) as err:
            call(url, "<tds:GetDeviceInformation/>", "admin", "admin123", 2.0)
        assert err.value.kind == "auth"
        urllib.request.urlopen(f"{base}/sim/offline", timeout=2).read()
        with pytest.raises(CameraError) as err:
            call(url, "<tds:GetDeviceInformation/>", "admin", "new-one", 2.0)
        assert err.value.kind == "unreachable"
    finally:
        proc.terminate()
        proc.wait(5)
