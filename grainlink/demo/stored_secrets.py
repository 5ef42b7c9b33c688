"""Secrets the demo keeps between runs (broker passwords, the admin token): small JSON
files readable by the owner only."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` created with mode 0600 (never world-readable, not even briefly)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def load_or_create_passwords(path: Path, users: list[str]) -> dict[str, str]:
    """A random password per user, the same on every run (new users get one added)."""
    stored = {k: v for k, v in read_json(path).items() if isinstance(v, str)}
    wanted = {u: stored.get(u) or secrets.token_urlsafe(18) for u in users}
    if wanted != stored:
        write_private(path, json.dumps(wanted, indent=2))
    return wanted
