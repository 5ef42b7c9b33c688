"""`grainlink central serve` as a real process: migrates, answers, stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from urllib.parse import urlparse

import httpx
import paho.mqtt.client as mqtt
import pytest

from central.db.pool import connect
from central.users import add_user
from tests.central.api_support import bearer, tag


def _start_serve(database_url: str, mqtt_url: str, port: int, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "GRAINLINK_DATABASE_URL": database_url, "GRAINLINK_MQTT_URL": mqtt_url,
           "GRAINLINK_MQTT_CLIENT_ID": f"serve-test-{tag()}",
           "GRAINLINK_AUTO_PROVISION": "true"}  # test depots are not provisioned
    return subprocess.Popen(
        [sys.executable, "-m", "grainlink.cli", "central", "serve", "--host", "127.0.0.1",
         "--port", str(port), *extra],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _wait_healthy(proc: subprocess.Popen, url: str, timeout: float = 30.0) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"serve exited with {proc.returncode}: {proc.stderr.read()[-2000:]}")
        try:
            r = httpx.get(url + "/healthz", timeout=1.0)
            if r.status_code == 200:
                return r
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    pytest.fail(f"serve did not answer /healthz in {timeout}s: {proc.communicate()[1][-2000:]}")


def _stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> tuple[int, str]:
    proc.send_signal(sig)
    try:
        _out, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        _out, err = proc.communicate()
        pytest.fail(f"serve did not stop within 20 s of SIGTERM: {err[-2000:]}")
    return proc.returncode, err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_api_only_answers_healthz_and_stops_on_a_signal(database_url, mqtt_url,
                                                              free_port, sig):
    proc = _start_serve(database_url, mqtt_url, free_port, "--no-ingest", "--no-jobs")
    try:
        base = f"http://127.0.0.1:{free_port}"
        assert _wait_healthy(proc, base).json() == {"status": "ok", "database": "ok"}
        assert httpx.get(base + "/api/v1/depots").status_code == 401
        assert "grainlink_api_requests_total" in httpx.get(base + "/metrics").text
    finally:
        code, err = _stop(proc, sig)
    assert code == 0, err[-2000:]
    assert "serve stopped" in err
    assert "Traceback" not in err


def _publish(broker_url: str, messages: list[tuple[str, dict, bool]]) -> None:
    """Publish (topic, payload, retain) with QoS 1 and wait for every PUBACK."""
    u = urlparse(broker_url)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"serve-pub-{tag()}")
    client.connect(u.hostname, u.port)
    client.loop_start()
    try:
        for topic, payload, retain in messages:
            client.publish(topic, json.dumps(payload), qos=1, retain=retain).wait_for_publish(5)
    finally:
        client.disconnect()
        client.loop_stop()


def test_serve_ingests_from_mqtt_and_serves_the_readings(database_url, private_broker,
                                                         free_port):
    """One process: what a depot publishes is stored by the ingest worker and answered by
    the API (the broker is the test's own: the worker keeps a persistent session)."""
    depot = f"SERVE{tag()}"
    layout = {
        "schema": "grainlink.layout/1", "depot": depot, "name": "serve test depot",
        "region": {"province": "430000", "city": "430100", "county": "430102"},
        "generated_at": "2026-11-22T07:59:00Z",
        "granaries": [{"granary": "P01", "name": "1号仓", "type": "flat", "length_m": 60,
                       "width_m": 24, "grain_height_m": 6.0, "capacity_t": 5000,
                       "grain": "wheat", "storage_mode": "quasi_low",
                       "cables": [{"cable": 1, "row": 1, "col": 1, "x_m": 2.0, "y_m": 2.0,
                                   "layers": 4},
                                  {"cable": 2, "row": 1, "col": 2, "x_m": 7.0, "y_m": 2.0,
                                   "layers": 4}],
                       "layer_depths_m": [0.3, 2.0, 4.0, 5.7], "cameras": []}],
        "cameras": [],
    }
    now = datetime.now(UTC).replace(microsecond=0)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    telemetry = {
        "schema": "grainlink.telemetry/1", "depot": depot, "batch": 1, "sent_at": stamp,
        "grain": [{"ts": stamp, "granary": "P01", "cable": 1, "temps_c": [14.8, 15.1, None, 16.0],
                   "faults": [3]},
                  {"ts": stamp, "granary": "P01", "cable": 2, "temps_c": [13.0, 14.0, 15.0, 16.0],
                   "faults": []}],
        "air": [{"ts": stamp, "granary": "P01", "place": "indoor", "temp_c": 25.0, "rh_pct": 60.0},
                {"ts": stamp, "granary": None, "place": "outdoor", "temp_c": 19.2, "rh_pct": 91.0}],
    }
    proc = _start_serve(database_url, private_broker.url, free_port)
    try:
        base = f"http://127.0.0.1:{free_port}"
        _wait_healthy(proc, base)
        with connect(database_url, autocommit=True) as conn:
            headers = bearer(add_user(conn, f"serve-{tag()}", "city", "430100"))
        latest_url = f"{base}/api/v1/depots/{depot}/granaries/P01/latest"
        deadline = time.monotonic() + 30
        body = None
        while time.monotonic() < deadline:
            # Until the worker has subscribed, a published message reaches nobody: repeat
            # (the database key stores a repeated reading once).
            _publish(private_broker.url, [(f"grainlink/v1/{depot}/layout", layout, True),
                                          (f"grainlink/v1/{depot}/telemetry", telemetry, False)])
            r = httpx.get(latest_url, headers=headers)
            if r.status_code == 200 and r.json()["ts"] is not None:
                body = r.json()
                break
            time.sleep(0.5)
        assert body is not None, "nothing ingested within 30 s"
        assert body["ts"] == stamp
        assert [c["temps_c"] for c in body["cables"]] == [[14.8, 15.1, None, 16.0],
                                                          [13.0, 14.0, 15.0, 16.0]]
        assert body["cables"][0]["faults"] == [3]
        assert body["layers"][0] == {"layer": 1, "min": 13.0, "max": 14.8, "mean": 13.9}
        assert body["indoor"]["dew_point_c"] == 16.7
        assert body["outdoor"]["dew_point_c"] == 17.7
        depots = httpx.get(f"{base}/api/v1/depots", headers=headers).json()
        mine = next(d for d in depots if d["depot"] == depot)
        assert mine["granaries"] == 1 and mine["region"] == "430102"
    finally:
        code, err = _stop(proc)
    assert code == 0, err[-2000:]
    assert "ingest stopped" in err and "serve stopped" in err


def test_serve_on_a_busy_port_fails_clearly(database_url, mqtt_url):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = _start_serve(database_url, mqtt_url, port, "--no-ingest", "--no-jobs")
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 3  # uvicorn's "startup failed"
    assert "address already in use" in err.lower()
    assert "serve stopped" in err


def test_serve_rejects_a_bad_port_setting(database_url, mqtt_url):
    proc = _start_serve(database_url, mqtt_url, 70000, "--no-ingest")
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert "api_port" in err and "Traceback" not in err
