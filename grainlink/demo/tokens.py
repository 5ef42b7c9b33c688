"""The demo's admin login: one `demo-admin` user, its token kept (0600) in the state
directory so every run prints the same token; re-issued when the database no longer knows it
(a new database, a revoked token)."""

from __future__ import annotations

from pathlib import Path

from grainlink.demo.stored_secrets import read_json, write_private

ADMIN_USER = "demo-admin"


def ensure_admin_token(database_url: str, token_file: Path) -> str:
    """A valid admin token for this database (users table must exist: migrate first)."""
    import json

    import psycopg

    from central.users import ADMIN_SCOPE, add_user, revoke_user, user_for_token

    stored = read_json(token_file).get(database_url)
    with psycopg.connect(database_url, autocommit=True) as conn:
        if stored:
            user = user_for_token(conn, stored)
            if user is not None and user.name == ADMIN_USER:
                return stored
        exists = conn.execute(
            "SELECT 1 FROM users WHERE name = %s AND revoked_at IS NULL", (ADMIN_USER,)
        ).fetchone()
        if exists:
            revoke_user(conn, ADMIN_USER)
        token = add_user(conn, ADMIN_USER, "admin", ADMIN_SCOPE, can_write=True)
    tokens = read_json(token_file)
    tokens[database_url] = token
    write_private(token_file, json.dumps(tokens, indent=2))
    return token
