"""The broker role alone, applied for real into a throwaway root (connection local), and the
mosquitto it configured started on free ports: what the security and durability tests attack."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.deploy import ansible_run
from tests.support import services


@dataclass
class RenderedBroker:
    root: Path
    depots: list[str]
    central_user: str
    passwords: dict[str, str]
    port: int
    run: ansible_run.PlaybookRun
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def conf(self) -> Path:
        return self.root / "etc" / "mosquitto" / "mosquitto.conf"

    @property
    def dynsec(self) -> Path:
        return self.root / "etc" / "mosquitto" / "dynamic-security.json"

    @property
    def log(self) -> Path:
        return self.root / "mosquitto.log"

    @property
    def store(self) -> Path:
        return self.root / "var" / "lib" / "mosquitto" / "mosquitto.db"

    def password(self, user: str) -> str:
        return self.passwords["central"] if user == self.central_user else self.passwords[user]

    def start(self) -> None:
        """mosquitto -c on the rendered configuration, as the service would start it."""
        # A file, not a pipe nobody reads: a full pipe would stall the broker.
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen([services.mosquitto_binary(), "-c", str(self.conf)],
                                            stdout=log, stderr=subprocess.STDOUT)
        try:
            services.wait_for_port("127.0.0.1", self.port, timeout=10)
        except TimeoutError:
            self.process.kill()
            self.process.wait()
            raise AssertionError("mosquitto did not start with the rendered configuration:\n"
                                 + self.log.read_text(errors="replace")[-4000:]) from None

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def render_broker(root: Path, depot_count: int = 2, **role_vars) -> RenderedBroker:
    """Apply roles/grainlink_broker (no TLS, no systemd, plain listener on a free port)."""
    if ansible_run.missing_ansible():
        raise RuntimeError(ansible_run.missing_ansible())
    root.mkdir(parents=True, exist_ok=True)
    tag = uuid.uuid4().hex[:6].upper()
    depots = [f"T-SEC-{tag}-{chr(ord('A') + i)}" for i in range(depot_count)]
    passwords = {d: f"pw-{d.lower()}-{uuid.uuid4().hex}" for d in depots}
    passwords["central"] = f"pw-c-{uuid.uuid4().hex}"
    central_user = f"t-central-{tag.lower()}"
    port = services.free_port()
    host = {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable,
        "grainlink_broker_root": str(root), "grainlink_broker_service_manager": "none",
        "grainlink_broker_install_packages": False, "grainlink_broker_run_user": "root",
        "grainlink_broker_file_group": "root", "grainlink_broker_pid_file": "",
        "grainlink_broker_plain_port": port, "grainlink_broker_tls_enabled": False,
        "grainlink_broker_depots": {d: passwords[d] for d in depots},
        "grainlink_broker_central_username": central_user,
        "grainlink_broker_central_password": passwords["central"],
        **role_vars,
    }
    inventory = root / "inventory.yml"
    inventory.write_text(json.dumps({"all": {"children": {"brokers": {"hosts": {"test-broker": host}}}}}),
                         encoding="utf-8")
    run = ansible_run.run_playbook(inventory, root / "home", "--limit", "brokers")
    if run.returncode != 0:
        raise AssertionError(f"the broker role failed:\n{run.output[-6000:]}")
    return RenderedBroker(root=root, depots=depots, central_user=central_user,
                          passwords=passwords, port=port, run=run)


@contextlib.contextmanager
def running(broker: RenderedBroker) -> Iterator[RenderedBroker]:
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def edge_client_id(depot: str) -> str:
    """The edge agent's default client id, the one the role binds to the depot's user."""
    return f"grainlink-edge-{depot}"


def environment_ok() -> str | None:
    """Why these tests cannot run here, or None."""
    reason = ansible_run.missing_ansible()
    if reason:
        return reason
    try:
        services.mosquitto_binary()
    except RuntimeError as exc:
        return str(exc)
    if not any(Path(p, "mosquitto_dynamic_security.so").exists()
               for p, _, _ in os.walk("/usr/lib") if p.count(os.sep) <= 4):
        return "mosquitto_dynamic_security.so is not installed"
    return None
