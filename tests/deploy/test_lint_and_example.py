"""Static checks of deploy/ansible: ansible-lint (production profile, offline), the playbook's
syntax, the example inventory's vault and depots."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from tests.deploy import ansible_run

pytestmark = pytest.mark.skipif(ansible_run.missing_ansible() is not None,
                                reason=str(ansible_run.missing_ansible()))

EXAMPLE = ansible_run.ANSIBLE_DIR / "inventory" / "example"


def run(tmp_path, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), cwd=ansible_run.ANSIBLE_DIR, env=ansible_run.ansible_env(tmp_path),
                          capture_output=True, text=True, timeout=timeout)


def test_ansible_lint_production_profile_is_clean(tmp_path) -> None:
    lint = ansible_run.tool("ansible-lint")
    if lint is None:
        pytest.skip("ansible-lint is not installed (pip install -e '.[test]')")
    proc = run(tmp_path, lint, "--offline", "--profile", "production", "--nocolor")
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-6000:]
    assert "Profile 'production' was required, and it passed" in proc.stdout + proc.stderr


def test_site_playbook_syntax(tmp_path) -> None:
    proc = run(tmp_path, ansible_run.tool("ansible-playbook"), "--syntax-check", "site.yml")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def example_secrets(tmp_path) -> dict:
    proc = run(tmp_path, ansible_run.tool("ansible-vault"), "view",
               str(EXAMPLE / "group_vars" / "all" / "vault.yml"))
    assert proc.returncode == 0, proc.stderr
    return yaml.safe_load(proc.stdout)


def test_example_vault_opens_with_the_example_password_and_holds_every_secret(tmp_path) -> None:
    raw = (EXAMPLE / "group_vars" / "all" / "vault.yml").read_text()
    assert raw.startswith("$ANSIBLE_VAULT;1.1;AES256")
    secrets = example_secrets(tmp_path)
    hosts = yaml.safe_load((EXAMPLE / "hosts.yml").read_text())
    depots = hosts["all"]["children"]["depots"]["hosts"]
    codes = {yaml.safe_load((EXAMPLE / "host_vars" / f"{h}.yml").read_text())
             ["grainlink_edge_depot"]["depot"]["code"] for h in depots}
    assert len(codes) == 2
    assert set(secrets["vault_grainlink_mqtt_passwords"]) == codes
    for key in ("vault_grainlink_mqtt_central_password", "vault_grainlink_db_password"):
        assert secrets[key]
    assert "PRIVATE KEY" in secrets["vault_grainlink_broker_tls_key"]


def test_example_inventory_resolves(tmp_path) -> None:
    proc = run(tmp_path, ansible_run.tool("ansible-inventory"), "--graph")
    assert proc.returncode == 0, proc.stderr
    for name in ("@brokers", "@central", "@depots", "hn-0731-001", "hn-0731-002"):
        assert name in proc.stdout


@pytest.mark.parametrize("host", ["hn-0731-001", "hn-0731-002"])
def test_example_depots_pass_edge_check(tmp_path, host) -> None:
    """What the edge role would render for the example's depots is a valid depot file."""
    depot = yaml.safe_load((EXAMPLE / "host_vars" / f"{host}.yml").read_text())["grainlink_edge_depot"]
    code = depot["depot"]["code"]
    depot.update(
        broker={"url": "mqtts://mqtt.hn-grain.example:8883", "username": code,
                "password_env": "GRAINLINK_MQTT_PASSWORD", "tls": {"ca_file": str(EXAMPLE / "files/ca.crt")}},
        state_dir=str(tmp_path / "state"),
    )
    path = tmp_path / "depot.yaml"
    path.write_text(yaml.safe_dump(depot, allow_unicode=True, sort_keys=False), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "grainlink", "edge", "check", str(path)],
                          capture_output=True, text=True, timeout=60, cwd=ansible_run.ROOT,
                          env={"GRAINLINK_MQTT_PASSWORD": "example", "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stdout + proc.stderr

