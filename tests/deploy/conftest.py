"""One real deployment per test session: the broker and edge roles applied to this machine
(connection local) into a throwaway root, twice; the broker it configured, started by hand."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

from tests.deploy import ansible_run
from tests.support import services

SKIP_REASON = ansible_run.missing_ansible()

@dataclass
class CentralTarget:
    """The central role's target: a database and role of its own on the test PostgreSQL."""

    root: Path
    admin_url: str
    db_name: str
    db_user: str
    db_password: str
    admin_name: str
    host_vars: dict

    @property
    def url(self) -> str:
        return services.with_dbname(self.admin_url, self.db_name)

    def drop(self) -> None:
        import psycopg

        with contextlib.suppress(psycopg.Error), \
                psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
            conn.execute(f'DROP ROLE IF EXISTS "{self.db_user}"')


def central_settings(root: Path, tag: str, mqtt_port: int, mqtt_user: str,
                     passwords: dict[str, str], wheelhouse: Path) -> CentralTarget | None:
    """Host variables for the central role against the test PostgreSQL; None without one."""
    admin_url = services.shared_database_server_url()
    if not services.database_available(admin_url):
        return None
    u = urlparse(admin_url)
    admin_env = {"PGHOST": u.hostname or "127.0.0.1", "PGPORT": str(u.port or 5432)}
    if u.username:
        admin_env["PGUSER"] = u.username
    if u.password:
        admin_env["PGPASSWORD"] = u.password
    name = f"grainlink_ans_{tag.lower()}"
    target = CentralTarget(root=root, admin_url=admin_url, db_name=name, db_user=name,
                           db_password=f"pw-db-{uuid.uuid4().hex}", admin_name=f"t-admin-{tag}",
                           host_vars={})
    target.host_vars = {
        "grainlink_central_root": str(root),
        "grainlink_central_service_manager": "none",
        "grainlink_central_install_packages": False,
        "grainlink_central_manage_user": False,
        "grainlink_central_user": "root",
        "grainlink_central_group": "root",
        "grainlink_central_python": ansible_run.base_python(),
        "grainlink_central_wheelhouse_archive": str(wheelhouse),
        "grainlink_central_postgresql_admin_become": False,
        "grainlink_central_postgresql_admin_env": admin_env,
        "grainlink_central_db_host": admin_env["PGHOST"],
        "grainlink_central_db_port": int(admin_env["PGPORT"]),
        "grainlink_central_db_name": name,
        "grainlink_central_db_user": name,
        "grainlink_central_db_password": target.db_password,
        "grainlink_central_mqtt_url": f"mqtt://127.0.0.1:{mqtt_port}",
        "grainlink_central_mqtt_username": mqtt_user,
        "grainlink_central_mqtt_password": passwords["central"],
        "grainlink_central_ingest_workers": 3,
        "grainlink_central_admin_name": target.admin_name,
    }
    return target


@dataclass
class Deployment:
    root: Path
    depot_a: str
    depot_b: str
    passwords: dict[str, str]
    central_user: str
    plain_port: int
    tls_port: int
    ca_file: Path
    first: ansible_run.PlaybookRun
    second: ansible_run.PlaybookRun
    edge_root: Path
    broker_root: Path
    inventory: Path
    check_argv: list[str]
    central: CentralTarget | None

    @property
    def depot_yaml(self) -> Path:
        return self.edge_root / "etc" / "grainlink" / "depot.yaml"

    @property
    def mosquitto_conf(self) -> Path:
        return self.broker_root / "etc" / "mosquitto" / "mosquitto.conf"


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (its own CA) and its key."""
    cert, key = folder / "server.crt", folder / "server.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    return cert, key


def depot_settings(code: str) -> dict:
    """The example depot's configuration under another code, as inventory variables hold it."""
    data = yaml.safe_load((ansible_run.ROOT / "examples" / "depot.yaml").read_text(encoding="utf-8"))
    data["depot"]["code"] = code
    for key in ("broker", "state_dir", "simulation"):
        data.pop(key, None)
    return data


def write_inventory(path: Path, hosts: dict) -> None:
    # JSON is YAML: no quoting surprises with PEM text or passwords.
    path.write_text(json.dumps(hosts, indent=1, ensure_ascii=False), encoding="utf-8")


@pytest.fixture(scope="session")
def deployment(tmp_path_factory) -> Iterator[Deployment]:
    if SKIP_REASON:
        pytest.skip(SKIP_REASON)
    root = tmp_path_factory.mktemp("ansible-deploy")
    tag = uuid.uuid4().hex[:6].upper()
    depot_a, depot_b = f"T-ANS-{tag}-A", f"T-ANS-{tag}-B"
    # Depot A's password has a space, a quote and a backslash: they must survive every file.
    passwords = {depot_a: f'pw a"\\{uuid.uuid4().hex}', depot_b: f"pw-b-{uuid.uuid4().hex}",
                 "central": f"pw-c-{uuid.uuid4().hex}"}
    central_user = f"t-central-{tag}"
    plain_port, tls_port = services.free_port(), services.free_port()
    cert, key = make_certificate(root)
    wheelhouse = ansible_run.build_wheelhouse(root / "wheelhouse.tar")
    edge_root, broker_root = root / "depot-a", root / "broker"
    venv = edge_root / "opt" / "grainlink" / "venv"
    check_argv = [str(venv / "bin" / "grainlink"), "edge", "check"]
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    inventory = {
        "all": {
            "vars": local,
            "children": {
                "brokers": {"hosts": {"test-broker": {
                    "grainlink_broker_root": str(broker_root),
                    "grainlink_broker_service_manager": "none",
                    "grainlink_broker_install_packages": False,
                    "grainlink_broker_run_user": "root",
                    "grainlink_broker_file_group": "root",
                    "grainlink_broker_pid_file": "",
                    "grainlink_broker_plain_port": plain_port,
                    "grainlink_broker_tls_port": tls_port,
                    "grainlink_broker_tls_bind": "127.0.0.1",
                    "grainlink_broker_tls_ca_cert": cert.read_text(),
                    "grainlink_broker_tls_cert": cert.read_text(),
                    "grainlink_broker_tls_key": key.read_text(),
                    "grainlink_broker_depots": {depot_a: passwords[depot_a],
                                                depot_b: passwords[depot_b]},
                    "grainlink_broker_central_username": central_user,
                    "grainlink_broker_central_password": passwords["central"],
                }}},
                "depots": {"hosts": {"test-depot-a": {
                    "grainlink_edge_root": str(edge_root),
                    "grainlink_edge_service_manager": "none",
                    "grainlink_edge_install_packages": False,
                    "grainlink_edge_manage_user": False,
                    "grainlink_edge_user": "root",
                    "grainlink_edge_group": "root",
                    "grainlink_edge_python": ansible_run.base_python(),
                    "grainlink_edge_wheelhouse_archive": str(wheelhouse),
                    "grainlink_edge_depot": depot_settings(depot_a),
                    # TLS through the CA file. (mqtts:// with a CA file trips a bug in
                    # edge/uplink/broker.py from_url; test_example_depots_pass_edge_check
                    # covers that form.)
                    "grainlink_edge_broker_url": f"mqtt://127.0.0.1:{tls_port}",
                    "grainlink_edge_broker_password": passwords[depot_a],
                    "grainlink_edge_broker_ca_cert": cert.read_text(),
                }}},
                "central": {"hosts": {}},
            },
        }
    }
    central = central_settings(root / "central", tag, plain_port, central_user, passwords, wheelhouse)
    if central is not None:
        # Depot A is provisioned from the inventory (its identity, not its layout's).
        central.host_vars["grainlink_central_depots"] = [
            {"code": depot_a, "name": "长沙第一粮库", "region": {"county": "430102"}}]
        inventory["all"]["children"]["central"]["hosts"]["test-central"] = central.host_vars
    inventory_path = root / "inventory.yml"
    write_inventory(inventory_path, inventory)
    home = root / "home"
    try:
        limits = ["brokers,central", "depots"]
        first = ansible_run.run_playbook_split(inventory_path, home, limits)
        assert first.returncode == 0, first.output[-8000:]
        second = ansible_run.run_playbook_split(inventory_path, home, limits)
        assert second.returncode == 0, second.output[-8000:]
        yield Deployment(
        root=root, depot_a=depot_a, depot_b=depot_b, passwords=passwords,
        central_user=central_user, plain_port=plain_port, tls_port=tls_port, ca_file=cert,
        first=first, second=second, edge_root=edge_root, broker_root=broker_root,
            inventory=inventory_path, check_argv=check_argv, central=central,
        )
    finally:
        if central is not None:
            central.drop()


@pytest.fixture(scope="session")
def deployed_broker(deployment):
    """The deployed mosquitto configuration, started as the service would start it."""
    log_file = deployment.root / "mosquitto.log"
    with open(log_file, "ab") as log:  # not a pipe nobody reads: a full pipe stalls the broker
        proc = subprocess.Popen([services.mosquitto_binary(), "-c", str(deployment.mosquitto_conf)],
                                stdout=log, stderr=subprocess.STDOUT)
    try:
        services.wait_for_port("127.0.0.1", deployment.plain_port, timeout=10)
        services.wait_for_port("127.0.0.1", deployment.tls_port, timeout=10)
    except TimeoutError:
        proc.kill()
        proc.wait()
        raise AssertionError("mosquitto did not start with the deployed configuration:\n"
                             + log_file.read_text(errors="replace")[-4000:]) from None
    yield deployment
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
