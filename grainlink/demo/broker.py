"""The demo's MQTT broker: mosquitto when installed, else amqtt (pure Python, MQTT 3.1.1).

Both listen on a free loopback port with their state under the demo's state directory.
amqtt 0.12 drops the queued QoS 1 messages of a persistent session unless the client logged
in, so it runs with anonymous access off and a password file (argon2 hashes); every client
gets a user and a random password kept (0600) in the state directory.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from grainlink.demo.processes import ProcessSet, free_port
from grainlink.demo.stored_secrets import load_or_create_passwords

BROKER_KINDS = ("auto", "mosquitto", "amqtt")


@dataclass
class BrokerInfo:
    kind: str
    host: str
    port: int
    passwords: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"


def mosquitto_binary() -> str | None:
    found = shutil.which("mosquitto")
    if found:
        return found
    return "/usr/sbin/mosquitto" if os.access("/usr/sbin/mosquitto", os.X_OK) else None


def choose_kind(wanted: str) -> str:
    """'mosquitto' or 'amqtt' for the --broker choice; raises when mosquitto is wanted but absent."""
    if wanted not in BROKER_KINDS:
        raise ValueError(f"--broker: {wanted!r} is not one of {', '.join(BROKER_KINDS)}")
    if wanted == "mosquitto" and mosquitto_binary() is None:
        raise ValueError("--broker mosquitto: mosquitto is not installed")
    if wanted == "auto":
        return "mosquitto" if mosquitto_binary() else "amqtt"
    return wanted


def mosquitto_conf(port: int, data_dir: Path, as_root: bool) -> str:
    """A loopback-only mosquitto with persistence in `data_dir` and unbounded session queues
    (the ingest session's backlog must never be dropped)."""
    return "".join([
        f"listener {port} 127.0.0.1\n",
        "allow_anonymous true\n",
        "persistence true\n",
        f"persistence_location {data_dir}/\n",
        "max_queued_messages 0\n",
        "max_inflight_messages 100\n",
        "log_dest stdout\n",
        "log_type error\nlog_type warning\nlog_type notice\n",
        # as root mosquitto would drop to its own user and could not write our state dir
        "user root\n" if as_root else "",
    ])


def amqtt_config(port: int, password_file: Path) -> dict:
    return {
        "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{port}",
                                  "max_connections": 200}},
        "plugins": {
            "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": False},
            "amqtt.plugins.authentication.FileAuthPlugin": {"password_file": str(password_file)},
        },
    }


def amqtt_password_lines(passwords: dict[str, str]) -> str:
    from pwdlib.hashers.argon2 import Argon2Hasher

    hasher = Argon2Hasher()
    return "".join(f"{user}:{hasher.hash(pw)}\n" for user, pw in sorted(passwords.items()))


def start_broker(kind: str, state_dir: Path, procs: ProcessSet, users: list[str]) -> BrokerInfo:
    """Start the broker as a child in `procs` and wait until it accepts connections."""
    data_dir = state_dir / "broker"
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    info = BrokerInfo(kind=kind, host="127.0.0.1", port=port)
    if kind == "mosquitto":
        conf = data_dir / "mosquitto.conf"
        conf.write_text(mosquitto_conf(port, data_dir, os.geteuid() == 0), encoding="utf-8")
        child = procs.start("broker", [mosquitto_binary() or "mosquitto", "-c", str(conf)])
    else:
        info.passwords = load_or_create_passwords(data_dir / "passwords.json", users)
        password_file = data_dir / "amqtt.passwd"
        if not _password_file_current(password_file, info.passwords):
            password_file.write_text(amqtt_password_lines(info.passwords), encoding="utf-8")
            os.chmod(password_file, 0o600)
        import json

        conf = data_dir / "amqtt.json"
        conf.write_text(json.dumps(amqtt_config(port, password_file), indent=2), encoding="utf-8")
        child = procs.start("broker", [sys.executable, "-m", "grainlink.demo.amqtt_main",
                                       str(conf)])
    procs.wait_for(child, lambda: _accepts(info.host, port), 20.0, "listening port")
    return info


def _password_file_current(path: Path, passwords: dict[str, str]) -> bool:
    """Hashing is slow (argon2): keep the file when it already lists exactly these users."""
    try:
        names = {line.split(":", 1)[0] for line in path.read_text().splitlines() if line}
    except OSError:
        return False
    return names == set(passwords) and path.stat().st_mtime >= \
        path.with_name("passwords.json").stat().st_mtime


def _accepts(host: str, port: int) -> bool:
    import socket

    try:
        with socket.create_connection((host, port), timeout=0.3):
            return True
    except OSError:
        return False
