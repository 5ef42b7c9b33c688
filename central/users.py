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
# Job roles (domain.md §10, api.md v1.1), held within the user's scope; several allowed.
JOB_ROLES = ("keeper", "inspector", "manager", "supervisor", "admin")
# What the old role names mean as job roles (a read-only user holds none).
LEGACY_JOB_ROLES = {"admin": ("admin",), "depot": ("keeper", "manager"),
                    "province": ("supervisor",), "city": ("supervisor",), "county": ("supervisor",)}
ADMIN_SCOPE = "000000"
TOKEN_PREFIX = "glk_"
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
_REGION = re.compile(r"^\d{6}$")


class UserError(ValueError):
    """A user could not be created or changed; the message names the problem."""


@dataclass(frozen=True)
class User:
    name: str
    role: str          # the kind of scope: admin, province, city, county or depot
    scope: str
    can_write: bool
    roles: frozenset[str] = frozenset()   # job roles

    def holds(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))


@dataclass(frozen=True)
class UserRow:
    name: str
    role: str
    scope: str
    can_write: bool
    created_at: datetime
    revoked_at: datetime | None
    roles: tuple[str, ...] = ()


def scope_kind(scope: str) -> str:
    """The kind of scope a code names: 000000 admin, a 6-digit region code by its zeros, else
    a depot code."""
    if scope == ADMIN_SCOPE:
        return "admin"
    if _REGION.match(scope or ""):
        if scope.endswith("0000"):
            return "province"
        return "city" if scope.endswith("00") else "county"
    return "depot"


def parse_roles(text: str, scope: str) -> tuple[str, tuple[str, ...]]:
    """`--role` as given: an old role name (kept as the scope kind, mapped to job roles) or a
    comma list of job roles (the scope kind then comes from the scope code)."""
    names = [r.strip() for r in (text or "").split(",") if r.strip()]
    if len(names) == 1 and names[0] in ROLES and names[0] != "admin":
        return names[0], LEGACY_JOB_ROLES[names[0]]
    if names == ["admin"]:
        return "admin", ("admin",)
    unknown = [r for r in names if r not in JOB_ROLES]
    if not names or unknown:
        raise UserError(f"角色 {text!r}：可用 {', '.join(ROLES)} 之一，或岗位角色 "
                        f"{', '.join(JOB_ROLES)}（多个用逗号分隔）")
    kind = scope_kind(scope)
    if "admin" in names and kind != "admin":
        raise UserError(f"范围 {scope!r}：岗位角色 admin 的范围须为 {ADMIN_SCOPE}")
    return kind, tuple(dict.fromkeys(names))


def validate_user(name: str, role: str, scope: str) -> None:
    """Raise UserError unless name, role and scope fit together (GB/T 2260 region codes)."""
    if not _NAME.match(name or ""):
        raise UserError(f"用户名 {name!r}：须为 1–64 个字母、数字或 '_'、'.'、'@'、'-'")
    if role not in ROLES:
        raise UserError(f"角色 {role!r}：须为 {', '.join(ROLES)} 之一")
    if role == "depot":
        if not valid_code(scope):
            raise UserError(f"范围 {scope!r}：库点用户的范围是库点编码（[A-Za-z0-9_-]{{1,64}}）")
        return
    if not _REGION.match(scope or ""):
        raise UserError(f"范围 {scope!r}：角色 {role} 需要 6 位行政区划代码")
    if role == "admin" and scope != ADMIN_SCOPE:
        raise UserError(f"范围 {scope!r}：角色 admin 的范围须为 {ADMIN_SCOPE}")
    if role == "province" and (scope[2:] != "0000" or scope[:2] == "00"):
        raise UserError(f"范围 {scope!r}：省级代码以 0000 结尾（如 430000）")
    if role == "city" and (scope[4:] != "00" or scope[2:4] == "00"):
        raise UserError(f"范围 {scope!r}：市级代码以 00 结尾、不以 0000 结尾（如 430100）")
    if role == "county" and scope[4:] == "00":
        raise UserError(f"范围 {scope!r}：县级代码不以 00 结尾（如 430102）")


def region_prefix(role: str, scope: str) -> str | None:
    """The region-code prefix a regional role covers (None for admin and depot roles)."""
    return {"province": scope[:2], "city": scope[:4], "county": scope}.get(role)


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def add_user(conn, name: str, role: str, scope: str, can_write: bool = True) -> str:
    """Create the user (or re-create a revoked one) and return its new token, shown only once.
    `role` is an old role name or a comma list of job roles, recorded as grant records."""
    kind, job_roles = parse_roles(role, scope)
    validate_user(name, kind, scope)
    job_roles = job_roles if can_write else ()
    token = new_token()
    row = conn.execute(
        # write access is holding a job role (none for a read-only user), not a column: the
        # old users.can_write is dropped by migration 0085
        """INSERT INTO users (name, role, scope, token_sha256)
           VALUES (%s, %s, %s, %s)
           ON CONFLICT (name) DO UPDATE
             SET role = EXCLUDED.role, scope = EXCLUDED.scope,
                 token_sha256 = EXCLUDED.token_sha256, created_at = now(), revoked_at = NULL
             WHERE users.revoked_at IS NOT NULL
           RETURNING name""",
        (name, kind, scope, hash_token(token)),
    ).fetchone()
    if row is None:
        raise UserError(f"用户 {name!r} 已存在（先吊销，才能重新签发令牌）")
    # a re-created user may find roles of its earlier life in the same scope: the records
    # bring them to exactly the roles asked for now
    held = current_roles(conn, name, scope)
    for r in held:
        if r not in job_roles:
            _record(conn, name, scope, r, grant=False)
    for r in job_roles:
        if r not in held:
            _record(conn, name, scope, r, grant=True)
    return token


def current_roles(conn, name: str, scope: str) -> tuple[str, ...]:
    """The job roles held now: newest record per (user, role, scope) is a grant, in the
    order they were (last) granted."""
    return tuple(r[0] for r in conn.execute(
        "SELECT role FROM user_roles_current WHERE name = %s AND scope = %s ORDER BY id",
        (name, scope)))


def role_history(conn, name: str) -> list[tuple[str, str, str, datetime]]:
    """Every grant and revoke of the user, oldest first: (change, role, scope, at)."""
    return [tuple(r) for r in conn.execute(
        "SELECT change, role, scope, at FROM user_role_changes WHERE name = %s ORDER BY id", (name,))]


def _record(conn, name: str, scope: str, role: str, *, grant: bool) -> None:
    conn.execute("INSERT INTO user_role_changes (name, scope, change, role) VALUES (%s, %s, %s, %s)",
                 (name, scope, "grant" if grant else "revoke", role))


def revoke_user(conn, name: str) -> None:
    row = conn.execute(
        "UPDATE users SET revoked_at = now() WHERE name = %s AND revoked_at IS NULL RETURNING name",
        (name,),
    ).fetchone()
    if row is None:
        raise UserError(f"用户 {name!r}：没有这个在用的用户")


def change_role(conn, name: str, role: str, grant: bool) -> tuple[str, ...]:
    """Grant or revoke one job role in the user's scope by appending a record (the user row
    is not touched). Returns the roles held after it."""
    if role not in JOB_ROLES:
        raise UserError(f"岗位角色 {role!r}：须为 {', '.join(JOB_ROLES)} 之一")
    # the lock orders concurrent changes of one user, so each reads the roles the other left
    row = conn.execute("SELECT scope FROM users WHERE name = %s AND revoked_at IS NULL FOR UPDATE",
                       (name,)).fetchone()
    if row is None:
        raise UserError(f"用户 {name!r}：没有这个在用的用户")
    scope = row[0]
    if grant and role == "admin" and scope != ADMIN_SCOPE:
        raise UserError(f"用户 {name!r}：岗位角色 admin 的范围须为 {ADMIN_SCOPE}，而不是 {scope}")
    held = current_roles(conn, name, scope)
    # a grant of a role held re-grants it (moves it last), as before; a revoke of a role not
    # held changes nothing and records nothing
    if grant or role in held:
        _record(conn, name, scope, role, grant=grant)
    return current_roles(conn, name, scope)


# The roles of user row `u` now, as an array (one indexed look-up in the records).
_ROLES_SQL = ("ARRAY(SELECT c.role FROM user_roles_current c WHERE c.name = u.name AND c.scope = u.scope"
              " ORDER BY c.id) AS roles")


def list_users(conn) -> list[UserRow]:
    rows = conn.execute(
        f"SELECT name, role, scope, created_at, revoked_at, {_ROLES_SQL} FROM users u ORDER BY name").fetchall()
    # writing is holding a job role: a read-only user holds none (add_user), and one whose
    # last role was revoked reads only
    return [UserRow(r[0], r[1], r[2], bool(r[5]), r[3], r[4], tuple(r[5])) for r in rows]


def user_for_token(conn, token: str) -> User | None:
    """The active user holding this token, or None."""
    if not token:
        return None
    row = conn.execute(
        f"SELECT name, role, scope, {_ROLES_SQL} FROM users u"
        " WHERE token_sha256 = %s AND revoked_at IS NULL",
        (hash_token(token),),
    ).fetchone()
    return User(row[0], row[1], row[2], bool(row[3]), frozenset(row[3])) if row else None
