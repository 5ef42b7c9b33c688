"""Broker connection settings for the uplink, the paho client built from them, and the
reconnect backoff."""

from __future__ import annotations

import os
import random
import ssl
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import paho.mqtt.client as mqtt


@dataclass(frozen=True)
class BrokerSettings:
    """Everything the uplink needs to reach the broker (password already resolved)."""

    host: str = "127.0.0.1"
    port: int = 1883
    tls: bool = False
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    username: str | None = None
    password: str | None = None
    client_id: str | None = None
    keepalive_s: int = 60
    max_inflight: int = 20
    reconnect_min_s: float = 1.0
    reconnect_max_s: float = 120.0
    protocol: str = "3.1.1"  # the demo's fallback broker (amqtt) speaks only 3.1.1

    @classmethod
    def from_url(cls, url: str, **kw) -> BrokerSettings:
        """`mqtt://host:port` or `mqtts://host:port` (TLS, default port 8883)."""
        u = urlparse(url)
        if u.scheme not in ("mqtt", "mqtts") or not u.hostname:
            raise ValueError(f"broker.url: {url!r} is not mqtt://host:port or mqtts://host:port")
        tls = kw.pop("tls", False) or u.scheme == "mqtts"
        return cls(host=u.hostname, port=u.port or (8883 if tls else 1883), tls=tls, **kw)

    @classmethod
    def from_config(cls, broker, config_dir: str | Path = ".", environ=None) -> BrokerSettings:
        """From the depot file's `broker:` section (protocols.depot.model.Broker).

        GRAINLINK_MQTT_URL overrides the URL; the password comes from `password_env` or
        `password_file`, never from the YAML itself. Relative files resolve against the
        depot file's folder.
        """
        env = os.environ if environ is None else environ
        url = env.get("GRAINLINK_MQTT_URL") or broker.url
        password = None
        if broker.password_env:
            password = env.get(broker.password_env)
            if password is None:
                raise ValueError(
                    f"broker.password_env: environment variable {broker.password_env} is not set"
                )
        elif broker.password_file:
            path = Path(config_dir, broker.password_file)
            try:
                password = path.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ValueError(f"broker.password_file: cannot read {path}: {exc}") from None

        def resolve(p: str | None) -> str | None:
            return None if p is None else str(Path(config_dir, p))

        tls = broker.tls
        return cls.from_url(
            url,
            tls=bool(tls.ca_file or tls.cert_file),
            ca_file=resolve(tls.ca_file), cert_file=resolve(tls.cert_file),
            key_file=resolve(tls.key_file),
            username=broker.username, password=password, client_id=broker.client_id,
            keepalive_s=broker.keepalive_s, max_inflight=broker.max_inflight,
            reconnect_min_s=broker.reconnect_min_s, reconnect_max_s=broker.reconnect_max_s,
        )


def default_client_id(depot: str) -> str:
    """Stable across restarts: the broker keeps the persistent session under this id."""
    return f"grainlink-edge-{depot}"


def backoff_delay(attempt: int, low: float, high: float, rng: random.Random | None = None) -> float:
    """Capped exponential backoff with full jitter for reconnect attempt `attempt` (1-based):
    uniform in [low, min(high, low·2^(attempt-1))]. Jitter spreads the reconnects of a
    province's depots after a broker outage."""
    cap = min(high, low * (2 ** max(0, min(attempt - 1, 30))))
    return (rng or random).uniform(low, max(low, cap))


def build_client(settings: BrokerSettings, client_id: str) -> mqtt.Client:
    """A paho client with a persistent session (clean_session=False), auth and TLS applied."""
    protocol = mqtt.MQTTv5 if settings.protocol == "5" else mqtt.MQTTv311
    kwargs = {"clean_session": False} if protocol != mqtt.MQTTv5 else {}
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=protocol,
        manual_ack=True, **kwargs,
    )
    client.max_inflight_messages_set(settings.max_inflight)
    if settings.username is not None:
        client.username_pw_set(settings.username, settings.password)
    if settings.tls:
        client.tls_set(
            ca_certs=settings.ca_file, certfile=settings.cert_file, keyfile=settings.key_file,
            cert_reqs=ssl.CERT_REQUIRED, tls_version=ssl.PROTOCOL_TLS_CLIENT,
        )
    return client
