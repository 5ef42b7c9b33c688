"""A small synchronous MQTT client over paho, to probe what the deployed broker allows."""

from __future__ import annotations

import queue
import ssl
import threading
import uuid

import paho.mqtt.client as mqtt


class ProbeError(RuntimeError):
    pass


class Probe:
    """Connects as one user; collects every message it receives in `messages`."""

    def __init__(self, port: int, username: str, password: str, *, clean: bool = True,
                 client_id: str | None = None, ca_file: str | None = None) -> None:
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id or f"probe-{uuid.uuid4().hex[:10]}",
            clean_session=clean, protocol=mqtt.MQTTv311,
        )
        self.client.username_pw_set(username, password)
        if ca_file:
            self.client.tls_set(ca_certs=ca_file, cert_reqs=ssl.CERT_REQUIRED)
        self.messages: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self._connected = threading.Event()
        self._subacks: dict[int, list] = {}
        self._acked = threading.Condition()
        self.connect_reason = None
        self.client.on_connect = self._on_connect
        self.client.on_message = lambda _c, _u, msg: self.messages.put((msg.topic, msg.payload))
        self.client.on_subscribe = self._on_subscribe
        self.port = port

    def _on_connect(self, _c, _u, _flags, reason, _props) -> None:
        self.connect_reason = reason
        self._connected.set()

    def _on_subscribe(self, _c, _u, mid, reasons, _props) -> None:
        with self._acked:
            self._subacks[mid] = reasons
            self._acked.notify_all()

    def connect(self, timeout: float = 5.0) -> Probe:
        self.client.connect("127.0.0.1", self.port, keepalive=30)
        self.client.loop_start()
        if not self._connected.wait(timeout):
            self.close()
            raise ProbeError("no CONNACK")
        return self

    @property
    def accepted(self) -> bool:
        return self.connect_reason is not None and not self.connect_reason.is_failure

    def subscribe(self, topic: str, qos: int = 1, timeout: float = 5.0) -> bool:
        """Subscribe and wait for the SUBACK; True when the broker granted it."""
        _, mid = self.client.subscribe(topic, qos)
        with self._acked:
            if not self._acked.wait_for(lambda: mid in self._subacks, timeout):
                raise ProbeError(f"no SUBACK for {topic}")
            return not any(r.is_failure for r in self._subacks[mid])

    def publish(self, topic: str, payload: bytes, qos: int = 1) -> None:
        info = self.client.publish(topic, payload, qos=qos)
        info.wait_for_publish(5.0)

    def receive_until(self, topic: str, payload: bytes, timeout: float = 5.0) -> list[tuple[str, bytes]]:
        """Everything received up to and including (topic, payload); raises when it never comes."""
        got = []
        while True:
            try:
                item = self.messages.get(timeout=timeout)
            except queue.Empty:
                raise ProbeError(f"{topic} {payload!r} never arrived; got {got}") from None
            got.append(item)
            if item == (topic, payload):
                return got

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
