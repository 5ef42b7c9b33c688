"""A camera URL as people may read it: never with a password.

A camera's error names the address it called, and that text travels far (status, events,
central's pages, logs). Some devices hand back snapshot or stream URIs with the credentials
inside ("http://admin:pw@…", "…?usr=admin&pwd=…"), and a configured URL may carry them too.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

HIDDEN = "…"
# Query keys that carry a secret in vendors' URLs (Foscam's pwd, tokens, signed links).
_SECRET_KEY = re.compile(r"(?i)^(pass|passwd|password|pwd|pw|key|token|auth|secret|sig|signature)$")


def _hide_query(query: str) -> str:
    out = []
    for part in query.split("&"):
        key, eq, _value = part.partition("=")
        out.append(f"{key}={HIDDEN}" if eq and _SECRET_KEY.match(key) else part)
    return "&".join(out)


def shown_url(url: str) -> str:
    """`url` with the password of its user part and any secret query value replaced by …"""
    try:
        parts = urlsplit(url)
    except ValueError:  # not a URL at all: keep nothing that may be a secret
        return re.sub(r"//[^/@]*@", f"//{HIDDEN}@", url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user, colon, _password = userinfo.partition(":")
        netloc = f"{user}:{HIDDEN}@{host}" if colon else netloc
    return urlunsplit(parts._replace(netloc=netloc, query=_hide_query(parts.query)))
