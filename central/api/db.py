"""The database connection a request works with (from the app's psycopg pool).

Commit convention, one for every route: the request's connection is in autocommit mode, so
a read sees committed data and holds no transaction open; a route that writes does all of
its writing inside one `with conn.transaction():` block, which commits when the block ends
(before the answer is built and sent) and rolls back when it raises. No route calls
`conn.commit()`. The jobs work the same way on their own autocommit connections.
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request


def db_conn(request: Request) -> Iterator:
    """One pooled connection per request, shared by every dependency of that request."""
    with request.app.state.pool.connection() as conn:
        if not conn.autocommit:
            conn.autocommit = True
        yield conn
