"""The edge and broker roles applied for real (connection local, throwaway root): what they
leave on disk, and that a second run changes nothing."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess

import pytest
import yaml

from tests.deploy import ansible_run
from tests.deploy.conftest import Deployment


def test_first_run_changed_and_second_run_changes_nothing(deployment: Deployment) -> None:
    assert deployment.first.changed()["test-depot-a"] > 0
    assert deployment.first.changed()["test-broker"] > 0
    assert {"test-depot-a", "test-broker"} <= set(deployment.second.recap)
    assert set(deployment.second.changed().values()) == {0}, \
        deployment.second.output[-4000:]
    assert all(c["failed"] == 0 for c in deployment.second.recap.values())


def test_rendered_depot_yaml_passes_edge_check(deployment: Deployment) -> None:
    env = {"GRAINLINK_MQTT_PASSWORD": deployment.passwords[deployment.depot_a], "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([*deployment.check_argv, str(deployment.depot_yaml)],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_rendered_depot_yaml_holds_inventory_values_and_no_secret(deployment: Deployment) -> None:
    text = deployment.depot_yaml.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    assert data["depot"]["code"] == deployment.depot_a
    assert data["depot"]["name"] == "长沙第一粮库"  # unicode kept as text, not escaped
    assert "simulation" not in data
    assert data["state_dir"] == str(deployment.edge_root / "var" / "lib" / "grainlink")
    assert data["broker"]["username"] == deployment.depot_a
    assert data["broker"]["password_env"] == "GRAINLINK_MQTT_PASSWORD"
    assert data["broker"]["tls"]["ca_file"] == str(deployment.edge_root / "etc/grainlink/broker-ca.crt")
    assert [g["code"] for g in data["granaries"]] == ["P01", "P02", "P03"]
    assert deployment.passwords[deployment.depot_a] not in text


def test_password_is_in_a_root_only_file(deployment: Deployment) -> None:
    env_file = deployment.edge_root / "etc" / "grainlink" / "edge.env"
    mode = stat.S_IMODE(env_file.stat().st_mode)
    assert mode == 0o600
    assert env_file.stat().st_uid == 0
    # systemd's double-quoted form: backslash and quote escaped.
    escaped = deployment.passwords[deployment.depot_a].replace("\\", "\\\\").replace('"', '\\"')
    assert env_file.read_text() == f'GRAINLINK_MQTT_PASSWORD="{escaped}"\n'


def test_edge_venv_runs_the_installed_package(deployment: Deployment) -> None:
    venv = deployment.edge_root / "opt" / "grainlink" / "venv"
    proc = subprocess.run(
        [str(venv / "bin" / "python"), "-c",
         "import importlib.metadata as m, protocols, sys; "
         "print(m.version('grainlink')); print(protocols.__file__)"],
        capture_output=True, text=True, timeout=60, cwd=deployment.root,
    )
    assert proc.returncode == 0, proc.stderr
    version, location = proc.stdout.split()
    assert version == "0.1.0"
    assert location.startswith(str(venv))  # the wheel's copy, not the checkout


def test_systemd_unit_restarts_and_is_hardened(deployment: Deployment) -> None:
    unit = (deployment.edge_root / "etc/systemd/system/grainlink-edge.service").read_text()
    lines = set(unit.splitlines())
    state_dir = deployment.edge_root / "var/lib/grainlink"
    for expected in ("Restart=always", "NoNewPrivileges=yes", "ProtectSystem=strict",
                     f"ReadWritePaths={state_dir}", "SupplementaryGroups=dialout",
                     f"EnvironmentFile={deployment.edge_root}/etc/grainlink/edge.env"):
        assert expected in lines, expected
    assert [ln for ln in lines if ln.startswith("ReadWritePaths=")] == [f"ReadWritePaths={state_dir}"]
    config = deployment.depot_yaml
    assert any(ln.startswith("ExecStart=") and ln.endswith(f"edge run {config}") for ln in lines)
    journald = (deployment.edge_root / "etc/systemd/journald.conf.d/grainlink.conf").read_text()
    assert "SystemMaxUse=200M" in journald


def test_broker_users_hold_pbkdf2_hashes_and_bound_client_ids(deployment: Deployment) -> None:
    text = (deployment.broker_root / "etc/mosquitto/dynamic-security.json").read_text()
    clients = {c["username"]: c for c in json.loads(text)["clients"]}
    assert set(clients) == {deployment.depot_a, deployment.depot_b, deployment.central_user}
    assert all(c["iterations"] == 101 and len(c["salt"]) == 16 for c in clients.values())
    assert not any(pw in text for pw in deployment.passwords.values())
    for depot in (deployment.depot_a, deployment.depot_b):
        assert clients[depot]["clientid"] == f"grainlink-edge-{depot}"
    assert not (deployment.broker_root / "etc/mosquitto/passwd").exists()


def test_broker_config_keeps_the_backlog(deployment: Deployment) -> None:
    conf = deployment.mosquitto_conf.read_text().splitlines()
    assert "persistence true" in conf
    assert "autosave_on_changes true" in conf and "autosave_interval 1" in conf
    assert "allow_anonymous false" in conf
    queued = [int(ln.split()[1]) for ln in conf if ln.startswith("max_queued_messages ")]
    assert queued and queued[0] >= 1_000_000
    listeners = [ln for ln in conf if ln.startswith("listener ")]
    assert f"listener {deployment.plain_port} 127.0.0.1" in listeners


def test_bad_depot_configuration_is_refused_before_it_goes_live(deployment: Deployment, tmp_path) -> None:
    inventory = json.loads(deployment.inventory.read_text(encoding="utf-8"))
    depot = inventory["all"]["children"]["depots"]["hosts"]["test-depot-a"]
    depot["grainlink_edge_depot"]["buses"][1]["units"][0]["profile"] = "lst1821"
    depot["grainlink_edge_depot"]["depot"]["name"] = "changed, must not reach the live file"
    bad = tmp_path / "bad-inventory.yml"
    bad.write_text(json.dumps(inventory, ensure_ascii=False), encoding="utf-8")
    live_before = deployment.depot_yaml.read_bytes()
    run = ansible_run.run_playbook(bad, tmp_path / "home", "--limit", "depots")
    assert run.returncode != 0
    assert run.recap["test-depot-a"]["failed"] == 1
    assert "未知的寄存器配置 'lst1821'" in run.output
    assert "buses[1].units[0].profile" in run.output
    assert deployment.depot_yaml.read_bytes() == live_before


def test_units_pass_systemd_analyze_verify(deployment: Deployment) -> None:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed")
    units = [deployment.edge_root / "etc/systemd/system/grainlink-edge.service"]
    if deployment.central is not None:
        systemd = deployment.central.root / "etc/systemd/system"
        units += [systemd / "grainlink-central.service", systemd / "grainlink-ingest@.service"]
    for unit in units:
        proc = subprocess.run([tool, "verify", str(unit)], capture_output=True, text=True, timeout=30)
        problems = [ln for ln in proc.stderr.splitlines() if unit.name in ln or "Unknown" in ln]
        assert not problems, proc.stderr


def test_changed_wheelhouse_reinstalls_the_package(deployment: Deployment, tmp_path) -> None:
    """A wheel rebuilt under the same version reaches the box (pip alone would skip it)."""
    inventory = json.loads(deployment.inventory.read_text(encoding="utf-8"))
    depot = inventory["all"]["children"]["depots"]["hosts"]["test-depot-a"]
    archive = tmp_path / "wheelhouse.tar"
    shutil.copy(depot["grainlink_edge_wheelhouse_archive"], archive)
    (tmp_path / "NOTE.txt").write_text("rebuilt\n")
    subprocess.run(["tar", "-rf", str(archive), "-C", str(tmp_path), "NOTE.txt"], check=True)
    depot["grainlink_edge_wheelhouse_archive"] = str(archive)
    changed = tmp_path / "inventory.yml"
    changed.write_text(json.dumps(inventory, ensure_ascii=False), encoding="utf-8")
    run = ansible_run.run_playbook(changed, tmp_path / "home", "--limit", "depots", "-v")
    assert run.returncode == 0, run.output[-4000:]
    reinstall = run.output.split("TASK [grainlink_edge : Reinstall grainlink from a changed wheelhouse]")[1]
    assert reinstall.lstrip(" *\n").startswith("changed: [test-depot-a]"), reinstall[:600]
    assert run.recap["test-depot-a"]["changed"] == 2  # the unpack and the reinstall, nothing else
