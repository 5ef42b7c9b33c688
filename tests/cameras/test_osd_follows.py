"""The camera's OSD follows successive readings, also across a camera that forgets its OSD or
restarts; a camera that cannot be reached is not hammered, and its failure is logged once."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

import pytest

from edge.camera.service import CameraService
from edge.camera.still import overlay_text
from protocols.depot.model import Camera
from protocols.mqtt.models import AirReading
from simulators.onvif.server import SimulatedCamera


def indoor(temp: float, rh: float) -> list[AirReading]:
    return [AirReading(ts=datetime.now(UTC), granary="P01", place="indoor", temp_c=temp, rh_pct=rh)]


def until(fn, timeout: float = 8.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if fn():
            return True
        time.sleep(0.05)
    return fn()


def service(sim: SimulatedCamera, published: list, **cam) -> CameraService:
    camera = Camera(camera="CAM-1", granary="P01", url=sim.url, username="admin", password_env="P",
                    health_interval=0.2, offline_after=0.6, timeout=1.0, **cam)
    return CameraService([camera], "OSD-T", lambda k, m: published.append((k, m)),
                         lambda: datetime.now(UTC), environ={"P": "admin123"}).start()


@pytest.fixture
def camera():
    sims = [SimulatedCamera().start()]
    published: list = []
    svc = service(sims[0], published)
    yield sims, svc, published
    svc.stop()
    for sim in sims:
        sim.stop()


def test_osd_text_follows_successive_readings_across_camera_restarts(camera):
    sims, svc, _ = camera
    sim = sims[0]
    assert until(lambda: svc.details()[0]["ok"])
    for temp, rh in ((7.9, 70.8), (11.9, 55.3), (12.4, 54.0)):
        svc.on_air(indoor(temp, rh))
        text = overlay_text(temp, rh)
        assert until(lambda text=text: sim.osd_text() == text), (sim.osd_text(), text)
    assert sim.state.calls.count("CreateOSD") == 1 and sim.state.calls.count("SetOSD") == 2
    assert svc.details()[0]["osd_supported"]

    # the camera forgets its OSDs without going away: SetOSD's fault is not "no OSD"
    with sim.state.lock:
        sim.state.osds.clear()
    svc.on_air(indoor(13.0, 53.0))
    assert until(lambda: sim.osd_text() == overlay_text(13.0, 53.0)), sim.osd_text()

    # the camera restarts (a new device on the same address): the edge sees it go and come back
    host, port = sim.httpd.server_address[:2]
    sim.stop()
    assert until(lambda: not svc.details()[0]["ok"])
    fresh = SimulatedCamera(host, port).start()
    sims.append(fresh)
    assert until(lambda: fresh.osd_text() == overlay_text(13.0, 53.0)), fresh.osd_text()
    svc.on_air(indoor(14.2, 52.1))
    assert until(lambda: fresh.osd_text() == overlay_text(14.2, 52.1)), fresh.osd_text()
    assert len(fresh.state.osds) == 1


def test_the_agents_osd_is_found_again_not_duplicated(camera):
    sims, svc, _ = camera
    sim = sims[0]
    svc.on_air(indoor(10.0, 60.0))
    assert until(lambda: sim.osd_text() == overlay_text(10.0, 60.0))
    svc.stop()
    again = service(sim, [])  # the agent restarts; the camera keeps its OSD
    try:
        again.on_air(indoor(11.0, 61.0))
        assert until(lambda: sim.osd_text() == overlay_text(11.0, 61.0))
        assert len(sim.state.osds) == 1 and sim.state.calls.count("CreateOSD") == 1
    finally:
        again.stop()


def test_unreachable_camera_is_backed_off_and_logged_once_per_change(caplog):
    sim = SimulatedCamera().start()
    published: list = []
    svc = service(sim, published, snapshot_interval=0.1)
    caplog.set_level(logging.INFO, logger="edge.camera")
    try:
        assert until(lambda: sum(k == "snapshot" for k, _ in published) >= 2)
        sim.set_offline(True)
        time.sleep(3.0)
        # stills every 0.1 s and checks every 0.2 s would be ~45 tries; backed off, a handful
        assert sim.state.dropped <= 8, sim.state.dropped
        failures = [r for r in caplog.records if "失败（" in r.getMessage()]
        assert len(failures) == 1, [r.getMessage() for r in failures]
        assert any(getattr(m, "kind", None) == "camera_offline" for _, m in published)
        n = sum(k == "snapshot" for k, _ in published)
        sim.set_offline(False)
        assert until(lambda: sum(k == "snapshot" for k, _ in published) > n)
        assert sum("reachable again" in r.getMessage() for r in caplog.records) == 1
    finally:
        svc.stop()
        sim.stop()
