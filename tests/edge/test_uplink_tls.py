"""TLS with a client certificate and username/password against a private mosquitto, plus the
retained layout republished on a configuration change."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import pytest

from edge.outbox.outbox import Outbox
from edge.uplink.broker import BrokerSettings
from edge.uplink.uplink import Uplink
from tests.edge.mqtt_collector import Collector
from tests.edge.scan_samples import T0, granary_scan
from tests.edge.test_uplink import layout_for
from tests.edge.waits import wait_empty
from tests.support import services


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_pki(d: Path) -> None:
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test-ca",
            "-keyout", "ca.key", "-out", "ca.crt", cwd=d)
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name in ("server", "client"):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}",
                "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=d)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", f"{name}.crt",
                cwd=d)


@pytest.fixture
def tls_broker(tmp_path):
    pki = tmp_path / "pki"
    pki.mkdir()
    make_pki(pki)
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(pki / "passwd"), "depot-user", "s3cret"],
                   check=True, capture_output=True)
    tls_port = services.free_port()
    extra = (
        f"listener {tls_port} 127.0.0.1\n"
        f"cafile {pki / 'ca.crt'}\ncertfile {pki / 'server.crt'}\nkeyfile {pki / 'server.key'}\n"
        "require_certificate true\n"
        f"password_file {pki / 'passwd'}\n"
    )
    broker = services.start_private_mosquitto(tmp_path / "mosquitto", extra_conf=extra)
    services.wait_for_port("127.0.0.1", tls_port)
    yield broker, tls_port, pki
    broker.stop()


def tls_settings(port: int, pki: Path, password: str) -> BrokerSettings:
    return BrokerSettings.from_url(
        f"mqtts://127.0.0.1:{port}", ca_file=str(pki / "ca.crt"),
        cert_file=str(pki / "client.crt"), key_file=str(pki / "client.key"),
        username="depot-user", password=password, reconnect_min_s=0.1, reconnect_max_s=0.3,
    )


def test_tls_client_certificate_and_password(tmp_path, tls_broker):
    broker, port, pki = tls_broker
    depot = f"T-TLS-{uuid.uuid4().hex[:8]}"
    collector = Collector(broker.url, f"grainlink/v1/{depot}/#")
    layout = {"v": layout_for(depot)}
    outbox = Outbox(tmp_path / "e.sqlite", depot)
    outbox.add_telemetry(*granary_scan("P01", T0))

    wrong = Uplink(tls_settings(port, pki, "wrong"), depot, outbox)
    wrong.start()
    try:
        assert not wrong.connected.wait(1.5)
        assert wrong.counters["connect_failures_total"] >= 1
        assert outbox.stats().pending == 1
    finally:
        wrong.stop()

    uplink = Uplink(tls_settings(port, pki, "s3cret"), depot, outbox,
                    layout_fn=lambda: layout["v"])
    uplink.start()
    try:
        assert uplink.connected.wait(10)
        assert wait_empty(outbox, 10)
        assert collector.wait_for(lambda: collector.on("telemetry") and collector.on("layout"))
        assert json.loads(collector.on("telemetry")[0])["batch"] == 1
        # Configuration changed: the retained layout is replaced.
        layout["v"] = layout["v"].model_copy(update={"name": "改名后的粮库"})
        uplink.republish_layout()
        assert collector.wait_for(
            lambda: any(json.loads(p)["name"] == "改名后的粮库" for p in collector.on("layout")))
        before = len(collector.on("status"))
        uplink.publish_status()
        assert collector.wait_for(lambda: len(collector.on("status")) > before)
    finally:
        uplink.stop()
        collector.close()
