"""The paho client as every grainlink process builds it: protocol, session, credentials,
TLS and paho's own reconnect delays in one place."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from urllib.parse import unquote, urlparse

import paho.mqtt.client as mqtt

TLS_SCHEMES = ("mqtts", "ssl")


@dataclass(frozen=True)
class BrokerUrl:
    host: str
    port: int
    tls: bool
    username: str | None = None
    password: str | None = None


def parse_broker_url(url: str, *, schemes: tuple[str, ...] = ("mqtt", "mqtts"),
                     default_host: str | None = None) -> BrokerUrl:
    """`mqtt://[user:pass@]host[:port]`; a TLS scheme (`mqtts`, `ssl`) defaults to port 8883.

    Raises ValueError when the scheme is not one of `schemes` or the host is missing (unless
    `default_host` fills it)."""
    u = urlparse(url)
    host = u.hostname or default_host
    if u.scheme not in schemes or not host:
        shown = " 或 ".join(f"{s}://主机:端口" for s in schemes)
        raise ValueError(f"{url!r} 不是 {shown} 的形式")
    tls = u.scheme in TLS_SCHEMES
    return BrokerUrl(host=host, port=u.port or (8883 if tls else 1883), tls=tls,
                     username=unquote(u.username) if u.username else None,
                     password=unquote(u.password) if u.password else None)


def make_client(client_id: str, *, protocol: str = "3.1.1", clean_session: bool = True,
                manual_ack: bool = False, username: str | None = None,
                password: str | None = None, tls: bool = False, ca_file: str | None = None,
                cert_file: str | None = None, key_file: str | None = None,
                max_inflight: int | None = None,
                reconnect_delay: tuple[int, int] | None = None) -> mqtt.Client:
    """A paho (callback API v2) client, not yet connected.

    `protocol` is "3.1.1" or "5"; MQTT 5 has no clean_session flag (its session expiry is
    a connect property), so the flag is passed only for 3.1.1. A username is set only when
    given. TLS verifies the server against `ca_file` (the system store when None).
    `reconnect_delay` is paho's (min, max) for its own loop reconnects."""
    v5 = protocol == "5"
    kwargs = {} if v5 else {"clean_session": clean_session}
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                         protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
                         manual_ack=manual_ack, **kwargs)
    if max_inflight is not None:
        client.max_inflight_messages_set(max_inflight)
    if username:
        client.username_pw_set(username, password)
    if tls:
        client.tls_set(ca_certs=ca_file, certfile=cert_file, keyfile=key_file,
                       cert_reqs=ssl.CERT_REQUIRED, tls_version=ssl.PROTOCOL_TLS_CLIENT)
    if reconnect_delay is not None:
        client.reconnect_delay_set(*reconnect_delay)
    return client
