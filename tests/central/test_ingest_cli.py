"""`grainlink central migrate` and `grainlink central ingest` as processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

from tests.central.ingest_support import (
    Publisher,
    forget_session,
    scalar,
    telemetry,
    unique_depot,
    wait_for,
)

ROOT = Path(__file__).resolve().parents[2]


def _env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRAINLINK_")}
    env.update(values)
    return env


def grainlink(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grainlink.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_migrate_command_is_idempotent(database_url):
    env = _env(GRAINLINK_DATABASE_URL=database_url)
    first = grainlink("central", "migrate", env=env)
    assert first.returncode == 0, first.stderr
    second = grainlink("central", "migrate", env=env)
    assert second.returncode == 0 and "schema is up to date" in second.stdout


def test_migrate_command_names_a_bad_setting(tmp_path):
    f = tmp_path / "central.yaml"
    f.write_text("database_url: mysql://nope\n")
    out = grainlink("central", "migrate", "--settings", str(f), env=_env())
    assert out.returncode == 2
    assert "database_url" in out.stderr and "central.yaml, line 1" in out.stderr


def test_ingest_command_stores_and_stops_cleanly(database_url, private_broker):
    client_id = f"test-cli-{uuid.uuid4().hex[:8]}"
    env = _env(GRAINLINK_DATABASE_URL=database_url, GRAINLINK_MQTT_URL=private_broker.url,
               GRAINLINK_MQTT_CLIENT_ID=client_id)
    proc = subprocess.Popen([sys.executable, "-m", "grainlink.cli", "central", "ingest"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        q = "SELECT count(*) FROM ingest_workers WHERE client_id = %s"
        depot = unique_depot("CLI")
        pub = Publisher(private_broker.url)
        # the worker's subscription exists once its persistent session does; publish until
        # the first message lands
        batch = 0

        def published_and_stored():
            nonlocal batch
            batch += 1
            pub.publish(f"grainlink/v1/{depot}/telemetry", telemetry(depot, batch))
            pub.flush()
            return scalar(database_url, q, (client_id,))

        assert wait_for(published_and_stored, 1, timeout=30, interval=0.3) == 1
        pub.close()
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
        assert proc.returncode == 0, out
        assert "ingest stopped" in out
    finally:
        if proc.poll() is None:
            proc.kill()
        forget_session(private_broker.url, client_id)
