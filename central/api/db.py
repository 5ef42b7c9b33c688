"""The database connection a request works with (from the app's psycopg pool)."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request


def db_conn(request: Request) -> Iterator:
    """One pooled connection per request, shared by every dependency of that request."""
    with request.app.state.pool.connection() as conn:
        yield conn
