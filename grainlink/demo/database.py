"""The demo's database: GRAINLINK_DATABASE_URL when set, else an embedded PostgreSQL 16
(`pgserver`: its own binaries, a Unix socket, no system install) kept in the state
directory and reused by the next run."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Database:
    url: str
    kind: str                 # "external" or "embedded"
    where: str
    _server: object | None = None

    def stop(self) -> None:
        """Stop the embedded server (an external database is left alone)."""
        if self._server is not None:
            with contextlib.suppress(Exception):
                self._server.cleanup()
            self._server = None


def open_database(state_dir: Path, env_url: str | None) -> Database:
    if env_url:
        return Database(url=env_url, kind="external", where=_redacted(env_url))
    try:
        import pgserver
    except ImportError:
        raise RuntimeError(
            "no database: set GRAINLINK_DATABASE_URL, or install the demo extra "
            "(pip install -e '.[demo]') for the embedded PostgreSQL (pgserver)") from None
    # pgserver logs every command it runs at INFO; the demo prints its own progress.
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    pgdata = state_dir / "pgdata"
    state_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    return Database(url=server.get_uri(), kind="embedded", where=str(pgdata), _server=server)


def _redacted(url: str) -> str:
    from urllib.parse import urlparse

    u = urlparse(url)
    if u.password:
        netloc = u.netloc.replace(f":{u.password}@", ":***@")
        return u._replace(netloc=netloc).geturl()
    return url
