"""The demo broker's users and ACLs, as the Ansible broker role sets them up
(deploy/ansible/roles/grainlink_broker/filter_plugins/mosquitto_dynsec.py; a test checks that
both agree): mosquitto's dynamic-security plugin, each depot bound to its own client id,
subscriptions outside a user's ACL refused by the broker."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path

DEPOT_PUBLISH = ("telemetry", "layout", "status", "events", "snapshot", "cmd/result")
PLUGIN_DIRS = ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib/arm-linux-gnueabihf",
               "/usr/lib", "/usr/lib64", "/usr/local/lib")


def find_plugin() -> str | None:
    for folder in PLUGIN_DIRS:
        path = Path(folder, "mosquitto_dynamic_security.so")
        if path.exists():
            return str(path)
    return None


def _acl(kind: str, topic: str) -> dict:
    return {"acltype": kind, "topic": topic, "allow": True}


def depot_acls(code: str) -> list[dict]:
    acls = [_acl("publishClientSend", f"grainlink/v1/{code}/{kind}") for kind in DEPOT_PUBLISH]
    return acls + [_acl("subscribeLiteral", f"grainlink/v1/{code}/cmd"),
                   _acl("publishClientReceive", f"grainlink/v1/{code}/cmd")]


def central_acls(group: str = "grainlink-ingest") -> list[dict]:
    acls = [_acl("subscribePattern", "grainlink/v1/#")]
    for kind in DEPOT_PUBLISH:
        acls.append(_acl("subscribePattern", f"$share/{group}/grainlink/v1/+/{kind}"))
    return acls + [_acl("publishClientReceive", "grainlink/v1/#"),
                   _acl("publishClientSend", "grainlink/v1/+/cmd"),
                   _acl("publishClientSend", "grainlink/v1/alarms/#")]


def _client(name: str, password: str, clientid: str | None, role: str) -> dict:
    salt = os.urandom(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, 101)
    return {"username": name, **({"clientid": clientid} if clientid else {}),
            "password": base64.b64encode(digest).decode(), "salt": base64.b64encode(salt).decode(),
            "iterations": 101, "roles": [{"rolename": role}]}


def dynsec_config(depots: list[str], central_user: str, password: str) -> str:
    clients = [_client(code, password, f"grainlink-edge-{code}", f"depot-{code}") for code in depots]
    roles = [{"rolename": f"depot-{code}", "acls": depot_acls(code)} for code in depots]
    clients.append(_client(central_user, password, None, "grainlink-central"))
    roles.append({"rolename": "grainlink-central", "acls": central_acls()})
    return json.dumps({"clients": clients, "groups": [], "roles": roles,
                       "defaultACLAccess": {"publishClientSend": False, "publishClientReceive": False,
                                            "subscribe": False, "unsubscribe": True}}, indent=1)
