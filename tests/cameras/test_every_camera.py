"""Every camera of a depot through the whole path (simulated cameras → edge camera service →
real broker → real ingest → PostgreSQL → API): cameras outside granaries are listed with
their health and latest still, a camera never reached is not online, each camera has a still
time line, and a granary alarm brings a still of its cameras that is kept with the alarm."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from central.cameras import jobs as camera_jobs
from central.cameras.alarm_stills import mqtt_publisher, request_stills
from central.db.pool import connect
from central.wiring import build_app
from edge.camera.service import CameraService
from edge.outbox.outbox import Outbox
from edge.uplink.broker import BrokerSettings
from edge.uplink.uplink import Uplink
from protocols.depot.model import Camera
from protocols.mqtt.codec import decode_message
from simulators.onvif.server import SimulatedCamera
from tests.cameras.support import Subscriber
from tests.central.api_support import bearer, new_user
from tests.central.ingest_support import Publisher, layout, scalar, settings_for, wait_for


@pytest.fixture
def depot(database_url, broker, worker, stills, monkeypatch, tmp_path):
    monkeypatch.setenv("GRAINLINK_STILLS_DIR", str(stills))
    code = f"EVC-{uuid.uuid4().hex[:8]}"
    lay = layout(code)
    lay["cameras"] += [{"camera": "GATE-1", "granary": None, "name": "大门"},
                       {"camera": "OIL-1", "granary": None, "name": "油罐区"}]
    pub = Publisher(broker.url)
    pub.publish(f"grainlink/v1/{code}/layout", lay, retain=True)
    pub.flush()
    pub.close()
    assert wait_for(lambda: scalar(database_url, "SELECT count(*) FROM depots WHERE code = %s", (code,)), 1) == 1
    sims = {"CAM-P01-1": SimulatedCamera().start(), "GATE-1": SimulatedCamera().start()}
    outbox = Outbox(tmp_path / "edge.sqlite", code)
    uplink = Uplink(BrokerSettings.from_url(broker.url, reconnect_min_s=0.1, reconnect_max_s=0.5), code, outbox)
    uplink.start()

    def publish(kind, model):
        outbox.add_message(kind, model)
        uplink.kick()

    cams = [Camera(camera=name, granary="P01" if name.startswith("CAM") else None, url=sim.url,
                   username="admin", password_env="P", health_interval=0.2, timeout=1.0)
            for name, sim in sims.items()]
    svc = CameraService(cams, code, publish, lambda: datetime.now(UTC), environ={"P": "admin123"})
    app = build_app(settings_for(database_url, broker.url))
    with TestClient(app) as client:
        yield code, svc, client, bearer(new_user(database_url, "depot", code))
    svc.stop()
    uplink.stop()
    outbox.close()
    for sim in sims.values():
        sim.stop()


def listed(client, code, auth, **params) -> dict:
    r = client.get(f"/api/v1/depots/{code}/cameras", headers=auth, params=params)
    assert r.status_code == 200, r.text
    return {c["camera"]: c for c in r.json()["cameras"]}


def stills_count(database_url, code) -> int:
    return scalar(database_url, "SELECT count(*) FROM camera_stills WHERE depot = %s", (code,))


def test_every_camera_listed_health_latest_still_and_time_line(database_url, depot):
    code, svc, client, auth = depot
    cams = listed(client, code, auth)
    assert set(cams) == {"CAM-P01-1", "GATE-1", "OIL-1"}
    assert cams["GATE-1"]["name"] == "大门" and cams["GATE-1"]["granary"] is None
    # never reached: not online
    assert [(c["online"], c["state"], c["state_name"]) for c in cams.values()] == \
        [(False, "never_reached", "从未连通")] * 3

    svc.start()
    assert wait_for(lambda: all(d["ok"] for d in svc.details()), True, timeout=5)
    assert "已抓拍 2 张" in svc.snapshot(timeout=10)
    assert wait_for(lambda: stills_count(database_url, code), 2) == 2
    cams = listed(client, code, auth)
    assert cams["GATE-1"]["online"] and cams["CAM-P01-1"]["online"] and cams["OIL-1"]["state"] == "never_reached"
    r = client.get(cams["GATE-1"]["latest_still"]["url"], headers=auth)
    assert r.status_code == 200 and r.content.startswith(b"\xff\xd8")
    assert set(listed(client, code, auth, granary="P01")) == {"CAM-P01-1"}

    svc.snapshot(timeout=10)
    assert wait_for(lambda: stills_count(database_url, code), 4) == 4
    r = client.get(f"/api/v1/depots/{code}/cameras/GATE-1/stills", headers=auth)
    line = r.json()["stills"]
    assert r.status_code == 200 and len(line) == 2 and line[0]["ts"] > line[1]["ts"]
    assert client.get(line[1]["url"], headers=auth).status_code == 200
    r = client.get(f"/api/v1/depots/{code}/cameras/GATE-1/stills", headers=auth,
                   params={"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"})
    assert r.status_code == 422 and "from 须早于 to" in r.json()["detail"]
    other = bearer(new_user(database_url, "depot", code + "-X"))
    assert client.get(line[1]["url"], headers=other).status_code == 404


def test_a_granary_alarm_brings_stills_kept_with_the_alarm(database_url, broker, depot):
    code, svc, client, auth = depot
    svc.start()
    assert wait_for(lambda: all(d["ok"] for d in svc.details()), True, timeout=5)
    svc.snapshot(timeout=10)  # an ordinary still before the alarm: not kept with it
    assert wait_for(lambda: stills_count(database_url, code), 2) == 2

    sub = Subscriber(broker.url, f"grainlink/v1/{code}/cmd")
    answered = threading.Thread(target=lambda: sub.got.wait(15) and svc.snapshot_command(
        decode_message(f"grainlink/v1/{code}/cmd", sub.messages[0])))  # what the agent does
    answered.start()
    now = datetime.now(UTC)
    with connect(database_url, autocommit=True) as conn:
        alarm = conn.execute(
            "INSERT INTO alarms (depot, granary, rule, subject, severity, message, opened_at, updated_at) "
            "VALUES (%s, 'P01', 'temp_high', 'P01/C1/L2', 'alarm', '粮温超限', %s, %s) RETURNING id",
            (code, now, now)).fetchone()[0]
        publish, close = mqtt_publisher(settings_for(database_url, broker.url))
        try:
            sent = request_stills(conn, publish)  # other tests' alarms may ask too: look at ours
            assert [(c.action, c.granary) for c in sent if c.depot == code] == [("snapshot", "P01")]
            assert [c for c in request_stills(conn, publish) if c.depot == code] == []  # once per alarm
        finally:
            close()
    answered.join(20)
    sub.close()
    assert wait_for(lambda: scalar(database_url, "SELECT count(*) FROM alarm_stills WHERE alarm_id = %s",
                                   (alarm,)), 1) == 1
    r = client.get(f"/api/v1/alarms/{alarm}/stills", headers=auth)
    assert r.status_code == 200
    (kept,) = r.json()["stills"]
    assert kept["camera"] == "CAM-P01-1" and kept["ts"] >= now.strftime("%Y-%m-%dT%H:%M:%S")
    assert client.get(kept["url"], headers=auth).status_code == 200

    with connect(database_url, autocommit=True) as conn:
        camera_jobs.stills_retention_job(conn, now=datetime.now(UTC) + timedelta(days=31))
    assert stills_count(database_url, code) == 1  # only the still kept with the alarm
    assert client.get(kept["url"], headers=auth).status_code == 200
