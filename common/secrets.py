"""Passwords come from an environment variable or a file, never from a configuration file
itself (the depot file and the settings file are copied around and checked in)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


class SecretError(ValueError):
    """The named variable is unset or the named file cannot be read. `source` is "env" or
    "file" (which of the two settings is at fault), `reason` the problem without the name."""

    def __init__(self, what: str, source: str, reason: str):
        super().__init__(f"{what}_{source}: {reason}")
        self.source, self.reason = source, reason


def resolve_secret(env_name: str | None, file: str | os.PathLike | None, *,
                   base_dir: str | os.PathLike = ".", environ: Mapping[str, str] | None = None,
                   what: str = "password") -> str | None:
    """The secret from `$env_name`, else the stripped contents of `file` (relative paths
    against `base_dir`, the folder of the file that named it); None when neither is given.

    `what` prefixes the error (e.g. "broker.password") so the message names the setting."""
    env = os.environ if environ is None else environ
    if env_name:
        value = env.get(env_name)
        if value is None:
            raise SecretError(what, "env", f"环境变量 {env_name} 未设置")
        return value
    if file:
        path = Path(base_dir, file)
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SecretError(what, "file", f"读不了 {path}：{exc.strerror or exc}") from None
    return None


def mask_url(url: str) -> str:
    """`url` as a log may show it: a password in it becomes `***` (the user name stays, it
    tells which account connected)."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "<unparsable URL>"
    if password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))
