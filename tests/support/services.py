"""Real servers for tests: the machine's PostgreSQL and Mosquitto when they answer, private
instances otherwise, and private instances on demand for tests that stop or break a server
(the machine's services are never stopped: CI runs against them afterwards)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

# one way to pick free ports, the demo's (all held at once while picked)
from grainlink.demo.services import free_port, free_ports  # noqa: F401  (used by the tests)

DEFAULT_DATABASE_URL = "postgresql://127.0.0.1:5432/test"
DEFAULT_MQTT_URL = "mqtt://127.0.0.1:1883"


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for_port(host: str, port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(host, port):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s")


# --- MQTT -------------------------------------------------------------------------------

@dataclass
class Broker:
    url: str
    host: str
    port: int
    process: subprocess.Popen | None = None
    config_path: Path | None = None

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def start(self) -> None:
        """(Re)start a private broker with its configuration (its persistence survives)."""
        assert self.config_path is not None, "only private brokers can be restarted"
        self.process = subprocess.Popen(
            [mosquitto_binary(), "-c", str(self.config_path)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.host, self.port)


def mosquitto_binary() -> str:
    found = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if os.path.exists("/usr/sbin/mosquitto") else None)
    if not found:
        raise RuntimeError("mosquitto is not installed: apt-get install mosquitto")
    return found


def start_private_mosquitto(workdir: Path, extra_conf: str = "", *, persistence: bool = True,
                            max_inflight: int = 100) -> Broker:
    """A mosquitto of our own on a free loopback port, persistence on, large queues (the
    ingest session's backlog must never be dropped by max_queued_messages)."""
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    conf = workdir / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\n"
        "allow_anonymous true\n"
        + (f"persistence true\npersistence_location {workdir}/\n" if persistence else "persistence false\n")
        + "max_queued_messages 0\n"
        f"max_inflight_messages {max_inflight}\n"
        "log_dest none\n"
        # as root, mosquitto would switch to its own user, fail to write the persistence
        # file in our temp folder, and forget sessions across a restart
        + ("user root\n" if os.geteuid() == 0 else "")
        + extra_conf
    )
    broker = Broker(url=f"mqtt://127.0.0.1:{port}", host="127.0.0.1", port=port, config_path=conf)
    broker.start()
    return broker


def shared_mqtt_url() -> str:
    return os.environ.get("GRAINLINK_TEST_MQTT_URL", DEFAULT_MQTT_URL)


def mqtt_available(url: str) -> bool:
    u = urlparse(url)
    return port_open(u.hostname or "127.0.0.1", u.port or 1883)


# --- PostgreSQL -------------------------------------------------------------------------

def shared_database_server_url() -> str:
    return os.environ.get("GRAINLINK_TEST_DATABASE_URL", DEFAULT_DATABASE_URL)


def database_available(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def with_dbname(url: str, dbname: str) -> str:
    u = urlparse(url)
    return u._replace(path="/" + dbname).geturl()


@contextlib.contextmanager
def scratch_database(server_url: str, prefix: str = "grainlink_t") -> Iterator[str]:
    """A fresh database on the server for one test session, dropped afterwards, so
    concurrent test runs never see each other's rows."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_dbname(server_url, name)
    finally:
        with contextlib.suppress(Exception), psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _pg_bindir() -> Path:
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) are not installed")


@dataclass
class PrivatePostgres:
    datadir: Path
    port: int
    bindir: Path

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.datadir), "-w", "-t", "30",
                  "-o", f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.datadir}",
                  "-l", str(self.datadir / "log"), "start")

    def stop(self, mode: str = "fast") -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run("pg_ctl", "-D", str(self.datadir), "-w", "-m", mode, "stop")


def start_private_postgres() -> PrivatePostgres:
    """initdb + pg_ctl in a temporary directory as the postgres user, on a free port."""
    bindir = _pg_bindir()
    root = Path(tempfile.mkdtemp(prefix="grainlink-pg-"))
    datadir = root / "data"
    os.chmod(root, 0o777)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    pg = PrivatePostgres(datadir=datadir, port=free_port(), bindir=bindir)
    pg._run("initdb", "-D", str(datadir), "-U", "postgres", "-A", "trust", "--no-sync")
    pg.start()
    return pg
