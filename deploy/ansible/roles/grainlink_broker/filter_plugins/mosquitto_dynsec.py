"""Filter `mosquitto_dynsec_config`: the JSON of mosquitto's dynamic-security plugin.

Why the plugin and not `password_file` + `acl_file`: an ACL file only filters delivery, so
mosquitto grants every SUBSCRIBE, including a depot's `$share/grainlink-ingest/...` that takes
its turn of everyone's telemetry; and nothing ties a client id to a user, so one depot's
password could take over any other client's session. The plugin refuses the SUBSCRIBE itself
(SUBACK failure) and refuses a CONNECT whose client id is not the one bound to the user.

Hashes use a random salt, so hashing again on every run would rewrite the file (and restart
the broker) each time: an existing client's hash is kept while it still verifies.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re

ITERATIONS = 101      # what mosquitto_ctrl 2.0 writes
SALT_BYTES = 12       # the plugin refuses a salt of any other length
DEPOT_PUBLISH = ("telemetry", "layout", "status", "events", "snapshot", "cmd/result")
CENTRAL_KINDS = ("telemetry", "layout", "status", "events", "snapshot", "cmd/result")
CENTRAL_ROLE = "grainlink-central"
DEPOT_CODE = re.compile(r"[A-Za-z0-9_-]{1,64}")  # contracts/mqtt.md, "Identity and topics"
DEFAULT_ACCESS = {"publishClientSend": False, "publishClientReceive": False,
                  "subscribe": False, "unsubscribe": True}


def _acl(kind: str, topic: str) -> dict:
    return {"acltype": kind, "topic": topic, "allow": True}


def depot_acls(code: str) -> list[dict]:
    """contracts/mqtt.md: publish under its own prefix (never its own `cmd`), subscribe to and
    receive its own `cmd` only."""
    acls = [_acl("publishClientSend", f"grainlink/v1/{code}/{kind}") for kind in DEPOT_PUBLISH]
    acls += [_acl("subscribeLiteral", f"grainlink/v1/{code}/cmd"),
             _acl("publishClientReceive", f"grainlink/v1/{code}/cmd")]
    return acls


def central_acls(group: str) -> list[dict]:
    """Ingest reads every depot's kinds, plainly or through its own shared group only; central
    publishes commands and alarm notices."""
    acls = [_acl("subscribePattern", "grainlink/v1/#")]
    for kind in CENTRAL_KINDS:
        acls.append(_acl("subscribePattern", f"$share/{group}/grainlink/v1/+/{kind}"))
    acls += [_acl("publishClientReceive", "grainlink/v1/#"),
             _acl("publishClientSend", "grainlink/v1/+/cmd"),
             _acl("publishClientSend", "grainlink/v1/alarms/#")]
    return acls


def acl_lines_to_dynsec(lines: list[str]) -> list[dict]:
    """The ACL-file lines extra users are described with (`topic read|write|readwrite T`)."""
    out = []
    for line in lines or []:
        words = line.split()
        if len(words) == 2 and words[0] == "topic":
            words = ["topic", "readwrite", words[1]]
        if len(words) != 3 or words[0] != "topic" or words[1] not in ("read", "write", "readwrite"):
            raise ValueError(f"extra user ACL line {line!r}: expected 'topic read|write|readwrite TOPIC'")
        access, topic = words[1], words[2]
        if access in ("read", "readwrite"):
            out += [_acl("subscribePattern", topic), _acl("publishClientReceive", topic)]
        if access in ("write", "readwrite"):
            out.append(_acl("publishClientSend", topic))
    return out


def hash_password(password: str, salt: bytes | None = None, iterations: int = ITERATIONS) -> dict:
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations)
    return {"password": base64.b64encode(digest).decode(), "salt": base64.b64encode(salt).decode(),
            "iterations": iterations}


def verify_password(password: str, stored: dict) -> bool:
    try:
        salt = base64.b64decode(stored["salt"], validate=True)
        want = base64.b64decode(stored["password"], validate=True)
        iterations = int(stored["iterations"])
    except (KeyError, TypeError, ValueError):
        return False
    if len(salt) != SALT_BYTES or iterations < 1:
        return False
    got = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations)
    return hmac.compare_digest(got, want)


def _existing_clients(existing: str) -> dict[str, dict]:
    try:
        data = json.loads(existing) if existing and existing.strip() else {}
    except ValueError:
        return {}
    clients = data.get("clients") if isinstance(data, dict) else None
    return {c["username"]: c for c in clients or [] if isinstance(c, dict) and "username" in c}


def _check_name(kind: str, name: str) -> None:
    if not name or not isinstance(name, str):
        raise ValueError(f"{kind}: a user name must be a non-empty string")
    if any(ch in name for ch in "+#/") or not name.isprintable():
        raise ValueError(f"{kind} {name!r}: a broker user name cannot contain + # / or control characters")


def mosquitto_dynsec_config(depots: dict, central_username: str, central_password: str,
                            extra_users: list | None = None, existing: str = "",
                            depot_client_id_prefix: str = "grainlink-edge-",
                            shared_group: str = "grainlink-ingest") -> str:
    """The plugin's JSON for `depots` ({code: password}), the central user and extra users
    ([{name, password, clientid?, acl: [ACL-file lines]}]), reusing `existing` hashes."""
    if not isinstance(depots, dict):
        raise TypeError("mosquitto_dynsec_config expects a mapping of depot code to password")
    old = _existing_clients(existing)
    clients, roles, seen = [], [], set()

    def add(name: str, password, clientid: str | None, role: str, acls: list[dict]) -> None:
        _check_name("broker user", name)
        if name in seen:
            raise ValueError(f"broker user {name!r} is defined twice")
        seen.add(name)
        if not password:
            raise ValueError(f"broker user {name!r} has an empty password")
        stored = old.get(name)
        pw = ({k: stored[k] for k in ("password", "salt", "iterations")}
              if stored and verify_password(str(password), stored) else hash_password(str(password)))
        client = {"username": name, **({"clientid": clientid} if clientid else {}), **pw,
                  "roles": [{"rolename": role}]}
        clients.append(client)
        roles.append({"rolename": role, "acls": acls})

    for code in sorted(depots):
        if not isinstance(code, str) or not DEPOT_CODE.fullmatch(code):
            raise ValueError(f"depot code {code!r}: expected 1-64 of A-Z a-z 0-9 _ -")
        add(code, depots[code], f"{depot_client_id_prefix}{code}", f"depot-{code}", depot_acls(code))
    # Central runs several ingest workers under one user, each with its own client id, so
    # its id is not bound; every other user is, so none can take over a worker's session.
    add(central_username, central_password, None, CENTRAL_ROLE, central_acls(shared_group))
    for extra in extra_users or []:
        name = extra.get("name")
        add(name, extra.get("password"), extra.get("clientid", name), f"extra-{name}",
            acl_lines_to_dynsec(extra.get("acl", [])))
    config = {"clients": clients, "groups": [], "roles": roles, "defaultACLAccess": DEFAULT_ACCESS}
    return json.dumps(config, indent=2, ensure_ascii=False) + "\n"


class FilterModule:
    """Ansible entry point."""

    def filters(self):
        return {"mosquitto_dynsec_config": mosquitto_dynsec_config}


def main(argv: list[str] | None = None) -> int:
    """Without Ansible: `python3 mosquitto_dynsec.py USERS.json [EXISTING.json]` prints the
    plugin's file for {"depots": {code: password}, "central_username": …, "central_password": …,
    "extra_users": […]}."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if not args:
        print(main.__doc__, file=sys.stderr)
        return 2
    with open(args[0], encoding="utf-8") as f:
        users = json.load(f)
    existing = ""
    if len(args) > 1 and os.path.exists(args[1]):
        with open(args[1], encoding="utf-8") as f:
            existing = f.read()
    sys.stdout.write(mosquitto_dynsec_config(
        users.get("depots", {}), users.get("central_username", "grainlink-ingest"),
        users.get("central_password", ""), users.get("extra_users"), existing))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
