"""The depot file's `broker:` section resolved against the environment (URL override,
password, file paths), and the paho client built from it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlparse

import paho.mqtt.client as mqtt

from common.mqtt_client import make_client, parse_broker_url
from common.secrets import resolve_secret
from protocols.depot.model import Broker

URL_ENV = "GRAINLINK_MQTT_URL"


@dataclass(frozen=True)
class BrokerSettings:
    """Where and how the uplink connects. `broker` holds the depot file's settings
    (keepalive, in-flight window, reconnect delays, username); the other fields are what
    the environment and the file's folder turn it into."""

    broker: Broker = field(default_factory=Broker)
    host: str = "127.0.0.1"
    port: int = 1883
    tls: bool = False
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    password: str | None = None
    protocol: str = "3.1.1"  # the demo's fallback broker (amqtt) speaks only 3.1.1

    @classmethod
    def from_url(cls, url: str, *, password: str | None = None, ca_file: str | None = None,
                 cert_file: str | None = None, key_file: str | None = None,
                 protocol: str = "3.1.1", **broker: object) -> BrokerSettings:
        """`mqtt://host:port` or `mqtts://host:port` (TLS, default port 8883); a CA or client
        certificate also means TLS. `broker` are `Broker` fields (keepalive_s, ...)."""
        try:
            parsed = parse_broker_url(url)
        except ValueError as exc:
            raise ValueError(f"broker.url: {exc}") from None
        tls = parsed.tls or bool(ca_file or cert_file)
        return cls(broker=Broker(url=url, **broker), host=parsed.host,
                   port=urlparse(url).port or (8883 if tls else 1883), tls=tls, ca_file=ca_file,
                   cert_file=cert_file, key_file=key_file, password=password, protocol=protocol)

    @classmethod
    def from_config(cls, broker: Broker, config_dir: str | Path = ".",
                    environ: Mapping[str, str] | None = None) -> BrokerSettings:
        """GRAINLINK_MQTT_URL overrides the URL; the password comes from `password_env` or
        `password_file`, never from the YAML itself. Relative files resolve against the
        depot file's folder."""
        env = os.environ if environ is None else environ
        url = env.get(URL_ENV) or broker.url
        password = resolve_secret(broker.password_env, broker.password_file,
                                  base_dir=config_dir, environ=env, what="broker.password")

        def resolve(p: str | None) -> str | None:
            return None if p is None else str(Path(config_dir, p))

        settings = cls.from_url(url, password=password, ca_file=resolve(broker.tls.ca_file),
                                cert_file=resolve(broker.tls.cert_file),
                                key_file=resolve(broker.tls.key_file))
        return replace(settings, broker=broker)


def client_id_for(settings: BrokerSettings, depot: str) -> str:
    """The configured id, else one stable across restarts: the broker keeps the persistent
    session under it."""
    return settings.broker.client_id or f"grainlink-edge-{depot}"


def build_client(settings: BrokerSettings, client_id: str) -> mqtt.Client:
    """A paho client with a persistent session (clean_session=False), auth and TLS applied."""
    b = settings.broker
    return make_client(
        client_id, protocol=settings.protocol, clean_session=False, manual_ack=True,
        username=b.username, password=settings.password, tls=settings.tls,
        ca_file=settings.ca_file, cert_file=settings.cert_file, key_file=settings.key_file,
        max_inflight=b.max_inflight,
    )
