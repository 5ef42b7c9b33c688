"""API users: roles, region scopes and bearer tokens (stored only as SHA-256 hashes).

A token is 32 random bytes (256 bits) from `secrets`: nobody can guess or brute-force it, so a
fast unsalted SHA-256 is enough to keep a stolen table useless, and it lets every request find
its user with one indexed lookup instead of a slow password KDF per call.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from protocols.mqtt.topics import valid_code

ROLES = ("admin", "province", "city", "county", "depot")
ADMIN_SCOPE = "000000"
TOKEN_PREFIX = "glk_"
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
_REGION = re.compile(r"^\d{6}$")


class UserError(ValueError):
    """A user could not be created or changed; the message names the problem."""


@dataclass(frozen=True)
class User:
    name: str
    role: str
    scope: str
    can_write: bool


@dataclass(frozen=True)
class UserRow:
    name: str
    role: str
    scope: str
    can_write: bool
    created_at: datetime
    revoked_at: datetime | None


def validate_user(name: str, role: str, scope: str) -> None:
    """Raise UserError unless name, role and scope fit together (GB/T 2260 region codes)."""
    if not _NAME.match(name or ""):
        raise UserError(f"name {name!r}: use 1-64 letters, digits, '_', '.', '@' or '-'")
    if role not in ROLES:
        raise UserError(f"role {role!r}: must be one of {', '.join(ROLES)}")
    if role == "depot":
        if not valid_code(scope):
            raise UserError(f"scope {scope!r}: a depot scope is a depot code ([A-Za-z0-9_-]{{1,64}})")
        return
    if not _REGION.match(scope or ""):
        raise UserError(f"scope {scope!r}: role {role} needs a 6-digit region code")
    if role == "admin" and scope != ADMIN_SCOPE:
        raise UserError(f"scope {scope!r}: role admin takes scope {ADMIN_SCOPE}")
    if role == "province" and (scope[2:] != "0000" or scope[:2] == "00"):
        raise UserError(f"scope {scope!r}: a province code ends in 0000 (e.g. 430000)")
    if role == "city" and (scope[4:] != "00" or scope[2:4] == "00"):
        raise UserError(f"scope {scope!r}: a city code ends in 00 but not 0000 (e.g. 430100)")
    if role == "county" and scope[4:] == "00":
        raise UserError(f"scope {scope!r}: a county code does not end in 00 (e.g. 430102)")


def region_prefix(role: str, scope: str) -> str | None:
    """The region-code prefix a regional role covers (None for admin and depot roles)."""
    return {"province": scope[:2], "city": scope[:4], "county": scope}.get(role)


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def add_user(conn, name: str, role: str, scope: str, can_write: bool = True) -> str:
    """Create the user (or re-create a revoked one) and return its new token, shown only once."""
    validate_user(name, role, scope)
    token = new_token()
    row = conn.execute(
        """INSERT INTO users (name, role, scope, can_write, token_sha256)
           VALUES (%s, %s, %s, %s, %s)
           ON CONFLICT (name) DO UPDATE
             SET role = EXCLUDED.role, scope = EXCLUDED.scope, can_write = EXCLUDED.can_write,
                 token_sha256 = EXCLUDED.token_sha256, created_at = now(), revoked_at = NULL
             WHERE users.revoked_at IS NOT NULL
           RETURNING name""",
        (name, role, scope, can_write, hash_token(token)),
    ).fetchone()
    if row is None:
        raise UserError(f"user {name!r} already exists (revoke it first to issue a new token)")
    return token


def revoke_user(conn, name: str) -> None:
    row = conn.execute(
        "UPDATE users SET revoked_at = now() WHERE name = %s AND revoked_at IS NULL RETURNING name",
        (name,),
    ).fetchone()
    if row is None:
        raise UserError(f"user {name!r}: no such active user")


def list_users(conn) -> list[UserRow]:
    rows = conn.execute(
        "SELECT name, role, scope, can_write, created_at, revoked_at FROM users ORDER BY name"
    ).fetchall()
    return [UserRow(*r) for r in rows]


def user_for_token(conn, token: str) -> User | None:
    """The active user holding this token, or None."""
    if not token:
        return None
    row = conn.execute(
        "SELECT name, role, scope, can_write FROM users"
        " WHERE token_sha256 = %s AND revoked_at IS NULL",
        (hash_token(token),),
    ).fetchone()
    return User(*row) if row else None
