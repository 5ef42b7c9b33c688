"""The broker role's dynamic-security filter: hashes mosquitto's own tool agrees with, a second
run that rewrites nothing, the contract's ACLs, and the demo broker set up the same way."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess

import pytest

from grainlink.demo import broker_acl
from tests.deploy import ansible_run

PLUGIN = ansible_run.ANSIBLE_DIR / "roles/grainlink_broker/filter_plugins/mosquitto_dynsec.py"
spec = importlib.util.spec_from_file_location("mosquitto_dynsec", PLUGIN)
plugin = importlib.util.module_from_spec(spec)
spec.loader.exec_module(plugin)


def config(depots: dict, existing: str = "", extra=None) -> dict:
    return json.loads(plugin.mosquitto_dynsec_config(depots, "grainlink-ingest", "pw-c", extra, existing))


def test_hash_verifies_against_mosquitto_ctrl(tmp_path) -> None:
    tool = shutil.which("mosquitto_ctrl")
    if tool is None:
        pytest.skip("mosquitto_ctrl is not installed")
    path = tmp_path / "dynsec.json"
    subprocess.run([tool, "dynsec", "init", str(path), "admin"], input="s3cret: x\ns3cret: x\n",
                   text=True, check=True, capture_output=True)
    stored = json.loads(path.read_text())["clients"][0]
    assert plugin.verify_password("s3cret: x", stored)
    assert not plugin.verify_password("s3cret", stored)


def test_second_run_keeps_hashes_and_a_changed_password_gets_a_new_one() -> None:
    first = plugin.mosquitto_dynsec_config({"B": "pw-b", "A": "pw-a"}, "grainlink-ingest", "pw-c")
    again = plugin.mosquitto_dynsec_config({"A": "pw-a", "B": "pw-b"}, "grainlink-ingest", "pw-c",
                                           None, first)
    assert again == first
    changed = config({"A": "pw-a", "B": "new"}, first)
    old = {c["username"]: c for c in json.loads(first)["clients"]}
    new = {c["username"]: c for c in changed["clients"]}
    assert new["A"]["password"] == old["A"]["password"]
    assert new["B"]["password"] != old["B"]["password"]
    assert plugin.verify_password("new", new["B"])


def test_depots_are_bound_to_their_client_id_and_may_not_publish_commands() -> None:
    cfg = config({"HN-1": "pw"})
    clients = {c["username"]: c for c in cfg["clients"]}
    assert clients["HN-1"]["clientid"] == "grainlink-edge-HN-1"
    assert "clientid" not in clients["grainlink-ingest"]  # several workers, one user
    roles = {r["rolename"]: r["acls"] for r in cfg["roles"]}
    sends = {a["topic"] for a in roles["depot-HN-1"] if a["acltype"] == "publishClientSend"}
    assert "grainlink/v1/HN-1/cmd" not in sends and "grainlink/v1/HN-1/cmd/result" in sends
    subs = [a for a in roles["depot-HN-1"] if a["acltype"].startswith("subscribe")]
    assert subs == [{"acltype": "subscribeLiteral", "topic": "grainlink/v1/HN-1/cmd", "allow": True}]
    assert cfg["defaultACLAccess"] == {"publishClientSend": False, "publishClientReceive": False,
                                       "subscribe": False, "unsubscribe": True}


def test_extra_users_acl_lines_and_binding() -> None:
    cfg = config({}, extra=[{"name": "monitor", "password": "pw", "acl": ["topic read $SYS/#"]}])
    monitor = next(c for c in cfg["clients"] if c["username"] == "monitor")
    assert monitor["clientid"] == "monitor"
    acls = next(r["acls"] for r in cfg["roles"] if r["rolename"] == "extra-monitor")
    assert {a["acltype"] for a in acls} == {"subscribePattern", "publishClientReceive"}
    with pytest.raises(ValueError, match="expected 'topic read"):
        config({}, extra=[{"name": "x", "password": "pw", "acl": ["pattern read %u/#"]}])


@pytest.mark.parametrize("depots", [{"A": ""}, {"a/b": "pw"}, {"a+": "pw"}, {"x" * 65: "pw"},
                                    {"grainlink-ingest": "pw"}])
def test_bad_users_are_refused_with_the_name(depots) -> None:
    with pytest.raises(ValueError, match="broker user|depot code"):
        config(depots)


def test_demo_broker_grants_what_the_role_grants() -> None:
    role = config({"HN-DEMO-001": "pw"})
    demo = json.loads(broker_acl.dynsec_config(["HN-DEMO-001"], "grainlink-demo", "pw"))
    role_acls = {r["rolename"]: r["acls"] for r in role["roles"]}
    demo_acls = {r["rolename"]: r["acls"] for r in demo["roles"]}
    assert demo_acls == role_acls
    assert demo["defaultACLAccess"] == role["defaultACLAccess"]
    demo_client = next(c for c in demo["clients"] if c["username"] == "HN-DEMO-001")
    assert demo_client["clientid"] == "grainlink-edge-HN-DEMO-001"
