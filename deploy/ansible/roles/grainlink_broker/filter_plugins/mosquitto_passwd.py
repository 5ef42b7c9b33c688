"""Filter `mosquitto_passwd_file`: the text of a Mosquitto password file.

Mosquitto 2.x stores `user:$7$<iterations>$<base64 salt>$<base64 PBKDF2-SHA512>`. Hashes use a
random salt, so hashing again on every run would rewrite the file (and reload the broker) each
time: an existing line is kept as long as it still verifies the wanted password. Users that are
no longer wanted are dropped.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

ITERATIONS = 101  # what mosquitto_passwd 2.0 uses
SALT_BYTES = 12


def hash_password(password: str, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """A `$7$` PBKDF2-SHA512 hash as mosquitto_passwd writes it."""
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether `stored` (`$6$` or `$7$` form) is a hash of `password`."""
    parts = stored.split("$")
    try:
        if len(parts) == 5 and parts[1] == "7":
            salt, want = base64.b64decode(parts[3]), base64.b64decode(parts[4])
            got = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, int(parts[2]))
        elif len(parts) == 4 and parts[1] == "6":
            salt, want = base64.b64decode(parts[2]), base64.b64decode(parts[3])
            got = hashlib.sha512(password.encode("utf-8") + salt).digest()
        else:
            return False
    except ValueError:
        return False
    return hmac.compare_digest(got, want)


def parse_password_file(text: str) -> dict[str, str]:
    """user -> stored hash, from a password file's text (blank lines and comments skipped)."""
    out = {}
    for line in (text or "").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and ":" in line:
            user, stored = line.split(":", 1)
            out[user] = stored
    return out


def mosquitto_passwd_file(users: dict, existing: str = "") -> str:
    """The password file for `users` (name -> clear password), reusing `existing` lines that
    still verify."""
    if not isinstance(users, dict):
        raise TypeError("mosquitto_passwd_file expects a mapping of user name to password")
    old = parse_password_file(existing)
    lines = []
    for name in sorted(users):
        password = users[name]
        if not password:
            raise ValueError(f"broker user {name!r} has an empty password")
        if ":" in name:
            raise ValueError(f"broker user {name!r}: a user name cannot contain ':'")
        stored = old.get(name)
        if stored is None or not verify_password(str(password), stored):
            stored = hash_password(str(password))
        lines.append(f"{name}:{stored}")
    return "\n".join(lines) + "\n"


class FilterModule:
    """Ansible entry point."""

    def filters(self):
        return {"mosquitto_passwd_file": mosquitto_passwd_file}
