"""Helpers of the camera tests."""

from __future__ import annotations

import threading
import uuid

import paho.mqtt.client as mqtt


class Subscriber:
    def __init__(self, url: str, topic: str):
        host, port = url.removeprefix("mqtt://").split(":")
        self.messages: list[bytes] = []
        self.got = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"cam-sub-{uuid.uuid4().hex[:8]}")
        self.client.on_message = lambda c, u, m: (self.messages.append(m.payload), self.got.set())
        self.client.on_connect = lambda c, u, f, rc, p=None: c.subscribe(topic, qos=1)
        self.client.connect(host, int(port))
        self.client.loop_start()

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()
