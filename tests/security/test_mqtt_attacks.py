"""Issue 16's broker attacks, replayed with one depot's credentials against the mosquitto
configuration the Ansible broker role renders (contracts/mqtt.md, "Broker rules"): session
takeover, the shared-subscription hijack, subscriptions and publications outside the ACL."""

from __future__ import annotations

import itertools
import threading
import time
import uuid

import pytest

from tests.deploy import broker_render
from tests.deploy.broker_render import RenderedBroker, edge_client_id
from tests.deploy.mqtt_probe import Probe, ProbeError

pytestmark = pytest.mark.skipif(broker_render.environment_ok() is not None,
                                reason=str(broker_render.environment_ok()))

INGEST_GROUP = "grainlink-ingest"


@pytest.fixture(scope="module")
def broker(tmp_path_factory) -> RenderedBroker:
    rendered = broker_render.render_broker(tmp_path_factory.mktemp("security-broker"), depot_count=2)
    with broker_render.running(rendered):
        yield rendered


def connect(b: RenderedBroker, user: str, client_id: str | None = None, *, clean: bool = True,
            password: str | None = None) -> Probe:
    if client_id is None and user in b.depots:
        client_id = edge_client_id(user)
    probe = Probe(b.port, user, b.password(user) if password is None else password,
                  client_id=client_id or f"t-central-{uuid.uuid4().hex[:8]}", clean=clean)
    probe.client.reconnect_delay_set(60, 60)  # a refused attacker is not retried meanwhile
    return probe.connect()


def refused(probe: Probe) -> bool:
    try:
        return not probe.accepted
    finally:
        probe.close()


def forget_session(b: RenderedBroker, user: str, client_id: str) -> None:
    """Drop a persistent session: an offline member of the shared group would keep its turn
    of the messages of later tests."""
    connect(b, user, client_id, clean=True).close()


def drain(probe: Probe, want: set[bytes], timeout: float = 5.0) -> set[bytes]:
    """The payloads of `want` that arrived within `timeout`."""
    got: set[bytes] = set()
    deadline = time.monotonic() + timeout
    while not want <= got and time.monotonic() < deadline:
        try:
            got.add(probe.messages.get(timeout=max(0.01, deadline - time.monotonic()))[1])
        except Exception:  # queue.Empty
            break
    return got & want


def test_depot_cannot_take_over_another_depots_connection(broker: RenderedBroker) -> None:
    a, b = broker.depots
    victim = connect(broker, b, clean=False)
    drops = []
    victim.client.on_disconnect = lambda *args: drops.append(args)
    try:
        assert victim.accepted and victim.subscribe(f"grainlink/v1/{b}/cmd")
        for _ in range(3):
            assert refused(connect(broker, a, edge_client_id(b), clean=False))
        time.sleep(0.3)
        assert drops == [] and victim.client.is_connected()
        # The victim's connection is the live one: it still gets its commands.
        central = connect(broker, broker.central_user)
        try:
            central.publish(f"grainlink/v1/{b}/cmd", b"still-here")
            victim.receive_until(f"grainlink/v1/{b}/cmd", b"still-here")
        finally:
            central.close()
    finally:
        victim.close()


def test_depot_cannot_resume_another_depots_session_and_take_its_commands(broker: RenderedBroker) -> None:
    a, b = broker.depots
    victim = connect(broker, b, clean=False)
    assert victim.subscribe(f"grainlink/v1/{b}/cmd")
    victim.close()
    commands = [f"cmd-{i}-{uuid.uuid4().hex[:6]}".encode() for i in range(6)]
    central = connect(broker, broker.central_user)
    try:
        for c in commands:
            central.publish(f"grainlink/v1/{b}/cmd", c)
    finally:
        central.close()
    attacker = connect(broker, a, edge_client_id(b), clean=False)
    assert not attacker.accepted
    assert drain(attacker, set(commands), timeout=1.0) == set()
    attacker.close()
    victim = connect(broker, b, clean=False)
    try:
        assert drain(victim, set(commands)) == set(commands)  # 6 of 6 reach B
    finally:
        victim.close()
        forget_session(broker, b, edge_client_id(b))


def test_depot_cannot_resume_an_ingest_workers_session(broker: RenderedBroker) -> None:
    a, b = broker.depots
    worker_id = f"grainlink-ingest-host-{uuid.uuid4().hex[:4]}"
    worker = connect(broker, broker.central_user, worker_id, clean=False)
    assert worker.subscribe(f"$share/{INGEST_GROUP}/grainlink/v1/+/telemetry")
    worker.close()
    readings = [f"reading-{i}-{uuid.uuid4().hex[:6]}".encode() for i in range(20)]
    depot = connect(broker, b)
    try:
        for r in readings:
            depot.publish(f"grainlink/v1/{b}/telemetry", r)
    finally:
        depot.close()
    for client_id in (worker_id, f"grainlink-ingest-{a}", ""):
        attacker = connect(broker, a, client_id or None, clean=False) if client_id else None
        if attacker is not None:
            assert not attacker.accepted, client_id
            assert drain(attacker, set(readings), timeout=0.5) == set()
            attacker.close()
    worker = connect(broker, broker.central_user, worker_id, clean=False)
    try:
        assert drain(worker, set(readings)) == set(readings)  # 20 of 20 reach ingest
    finally:
        worker.close()
        forget_session(broker, broker.central_user, worker_id)


def test_depot_connects_only_as_its_own_client_id(broker: RenderedBroker) -> None:
    a, b = broker.depots
    for client_id in (edge_client_id(b), f"{edge_client_id(a)}-2", f"probe-{uuid.uuid4().hex[:6]}",
                      edge_client_id(a).upper(), "grainlink-ingest"):
        assert refused(connect(broker, a, client_id)), client_id
    assert refused(connect(broker, a, password="wrong"))
    own = connect(broker, a)
    try:
        assert own.accepted
    finally:
        own.close()


def forbidden_filters(own: str, other: str) -> list[str]:
    """Every subscription a depot might try for other clients' messages: the ingest group's
    shared subscription and its variants, other depots' topics, its own telemetry,
    wildcards, the broker's own topics."""
    bodies = ["#", "+/#", "grainlink/#", "grainlink/v1/#", "grainlink/v1/+/telemetry",
              "grainlink/v1/+/+", "grainlink/v1/+/cmd", f"grainlink/v1/{other}/telemetry",
              f"grainlink/v1/{other}/cmd", f"grainlink/v1/{other}/#", f"grainlink/v1/{own}/#",
              f"grainlink/v1/{own}/+", f"grainlink/v1/{own}/telemetry", f"grainlink/v1/{own}/layout",
              f"grainlink/v1/{own}/cmd/#", f"grainlink/v1/{own}/cmd/result",
              "grainlink/v1/alarms/#", "$SYS/#", "$CONTROL/dynamic-security/#"]
    groups = [INGEST_GROUP, "other-group", own]
    shared = [f"$share/{g}/{body}" for g, body in itertools.product(groups, bodies)]
    return bodies + shared + [f"$share/{INGEST_GROUP}/grainlink/v1/{own}/cmd"]


def test_depot_subscriptions_outside_its_cmd_are_refused_by_the_broker(broker: RenderedBroker) -> None:
    a, b = broker.depots
    probe = connect(broker, a)
    try:
        filters = forbidden_filters(a, b)
        granted = [f for f in filters if probe.subscribe(f)]
        assert granted == [], f"the broker granted {len(granted)} of {len(filters)}: {granted}"
        assert probe.subscribe(f"grainlink/v1/{a}/cmd")
    finally:
        probe.close()


def test_shared_subscription_hijack_diverts_no_telemetry(broker: RenderedBroker) -> None:
    a, b = broker.depots
    worker = connect(broker, broker.central_user, f"grainlink-ingest-{uuid.uuid4().hex[:6]}")
    attacker = connect(broker, a)
    try:
        assert worker.subscribe(f"$share/{INGEST_GROUP}/grainlink/v1/+/telemetry")
        assert not attacker.subscribe(f"$share/{INGEST_GROUP}/grainlink/v1/+/telemetry")
        readings = [f"r{i}-{uuid.uuid4().hex[:6]}".encode() for i in range(20)]
        depot = connect(broker, b)
        try:
            for r in readings:
                depot.publish(f"grainlink/v1/{b}/telemetry", r)
        finally:
            depot.close()
        assert drain(worker, set(readings)) == set(readings)  # 20 of 20, not 10
        assert drain(attacker, set(readings), timeout=0.5) == set()
    finally:
        attacker.close()
        worker.close()


def test_depot_cannot_publish_commands_or_under_another_prefix(broker: RenderedBroker) -> None:
    a, b = broker.depots
    own = connect(broker, a)
    central = connect(broker, broker.central_user)
    try:
        assert own.subscribe(f"grainlink/v1/{a}/cmd")
        assert central.subscribe("grainlink/v1/+/telemetry")
        forged = b"forged-" + uuid.uuid4().hex.encode()
        for topic in (f"grainlink/v1/{a}/cmd", f"grainlink/v1/{b}/cmd", f"grainlink/v1/{b}/telemetry",
                      "grainlink/v1/alarms/x", "$CONTROL/dynamic-security/v1"):
            own.publish(topic, forged)
        real_cmd, real_data = b"real-cmd", b"real-data-" + uuid.uuid4().hex.encode()
        central.publish(f"grainlink/v1/{a}/cmd", real_cmd)
        got = own.receive_until(f"grainlink/v1/{a}/cmd", real_cmd)
        assert forged not in [p for _, p in got]
        own.publish(f"grainlink/v1/{a}/telemetry", real_data)
        got = central.receive_until(f"grainlink/v1/{a}/telemetry", real_data)
        assert forged not in [p for _, p in got]
    finally:
        central.close()
        own.close()


def test_dynamic_security_cannot_be_administered_over_mqtt(broker: RenderedBroker) -> None:
    """No user may change the plugin's users at run time (the inventory owns them)."""
    a, _ = broker.depots
    for user in (a, broker.central_user):
        probe = connect(broker, user)
        try:
            assert not probe.subscribe("$CONTROL/dynamic-security/#")
            answered = threading.Event()
            probe.client.on_message = lambda *_, flag=answered: flag.set()
            probe.publish("$CONTROL/dynamic-security/v1",
                          b'{"commands":[{"command":"createClient","username":"x","password":"x"}]}')
            assert not answered.wait(0.5)
        finally:
            probe.close()
    with pytest.raises((ProbeError, AssertionError)):
        intruder = connect(broker, "x", f"x-{uuid.uuid4().hex[:4]}", password="x")
        assert intruder.accepted
        intruder.close()
