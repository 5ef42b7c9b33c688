"""The mosquitto configuration the broker role wrote, started for real on free ports: the
contract's broker rules hold (contracts/mqtt.md, "Broker rules")."""

from __future__ import annotations

import uuid

import pytest

from tests.deploy.conftest import Deployment
from tests.deploy.mqtt_probe import Probe


@pytest.fixture
def broker(deployed_broker) -> Deployment:
    return deployed_broker


def probe(d: Deployment, user: str, *, tls: bool = False, **kw) -> Probe:
    password = d.passwords["central"] if user == d.central_user else d.passwords[user]
    port, ca = (d.tls_port, str(d.ca_file)) if tls else (d.plain_port, None)
    if user != d.central_user:
        kw.setdefault("client_id", f"grainlink-edge-{user}")  # the only id its user may use
    return Probe(port, user, password, ca_file=ca, **kw).connect()


def marker() -> bytes:
    return uuid.uuid4().hex.encode()


def test_wrong_password_is_refused(broker: Deployment) -> None:
    p = Probe(broker.plain_port, broker.depot_a, "not-the-password",
              client_id=f"grainlink-edge-{broker.depot_a}").connect()
    try:
        assert not p.accepted
    finally:
        p.close()
    anon = Probe(broker.plain_port, "", "").connect()
    try:
        assert not anon.accepted
    finally:
        anon.close()


def test_depot_publishes_under_its_own_prefix_only(broker: Deployment) -> None:
    a, b = broker.depot_a, broker.depot_b
    central = probe(broker, broker.central_user)
    depot = probe(broker, a)
    try:
        assert central.accepted and depot.accepted
        assert central.subscribe("grainlink/v1/#")
        forbidden = marker()
        depot.publish(f"grainlink/v1/{b}/telemetry", forbidden)
        depot.publish("grainlink/v2/elsewhere", forbidden)
        # Messages of one publisher arrive in order: once the allowed one is in, the
        # forbidden ones would have been too.
        allowed = marker()
        depot.publish(f"grainlink/v1/{a}/telemetry", allowed)
        got = central.receive_until(f"grainlink/v1/{a}/telemetry", allowed)
        assert all(payload != forbidden for _, payload in got), got
    finally:
        depot.close()
        central.close()


def test_depot_reads_only_its_own_cmd(broker: Deployment) -> None:
    a, b = broker.depot_a, broker.depot_b
    central = probe(broker, broker.central_user)
    depot = probe(broker, a)
    try:
        assert depot.subscribe(f"grainlink/v1/{a}/cmd")
        # The broker refuses the SUBSCRIBE itself (dynamic-security plugin), and delivers nothing.
        assert not depot.subscribe(f"grainlink/v1/{b}/cmd")
        assert not depot.subscribe(f"grainlink/v1/{b}/telemetry")
        assert not depot.subscribe("$share/grainlink-ingest/grainlink/v1/+/telemetry")
        other_cmd, other_data, own_cmd = marker(), marker(), marker()
        central.publish(f"grainlink/v1/{b}/cmd", other_cmd)
        b_probe = probe(broker, b)
        try:
            b_probe.publish(f"grainlink/v1/{b}/telemetry", other_data)
        finally:
            b_probe.close()
        central.publish(f"grainlink/v1/{a}/cmd", own_cmd)
        got = depot.receive_until(f"grainlink/v1/{a}/cmd", own_cmd)
        assert all(p not in (other_cmd, other_data) for _, p in got), got
    finally:
        depot.close()
        central.close()


def test_central_ingest_reads_through_the_shared_subscription_over_tls(broker: Deployment) -> None:
    a = broker.depot_a
    central = probe(broker, broker.central_user, tls=True)
    depot = probe(broker, a, tls=True)
    try:
        assert central.accepted and depot.accepted
        assert central.subscribe("$share/grainlink-ingest/grainlink/v1/+/telemetry")
        data = marker()
        depot.publish(f"grainlink/v1/{a}/telemetry", data)
        central.receive_until(f"grainlink/v1/{a}/telemetry", data)
    finally:
        depot.close()
        central.close()


def test_offline_ingest_session_keeps_more_than_1000_messages(broker: Deployment) -> None:
    """mosquitto's default max_queued_messages (1000) would drop this backlog."""
    a = broker.depot_a
    client_id = f"t-ingest-{uuid.uuid4().hex[:8]}"
    central = probe(broker, broker.central_user, clean=False, client_id=client_id)
    assert central.subscribe(f"grainlink/v1/{a}/telemetry")
    central.close()
    depot = probe(broker, a)
    try:
        for i in range(1500):
            depot.client.publish(f"grainlink/v1/{a}/telemetry", str(i).encode(), qos=1)
        # The broker saves its store as it acknowledges (crash durability): on a loaded
        # machine the burst takes a while, and the session must see all of it.
        last = depot.client.publish(f"grainlink/v1/{a}/telemetry", b"last", qos=1)
        last.wait_for_publish(120)
        assert last.is_published()
    finally:
        depot.close()
    central = probe(broker, broker.central_user, clean=False, client_id=client_id)
    try:
        got = central.receive_until(f"grainlink/v1/{a}/telemetry", b"last", timeout=10)
        assert [p for _, p in got[:-1]] == [str(i).encode() for i in range(1500)]
    finally:
        central.close()
