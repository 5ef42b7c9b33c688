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


# In free text (FFmpeg's stderr names the URLs it opened, `rtsp://user:pass@…` and the publish
# key): a URL's password, and the value of a secret query key.
_URL_PASSWORD = re.compile(r"(?i)([a-z][a-z0-9+.-]*://[^\s/:@]*):[^\s/@]*@")
_SECRET_PARAM = re.compile(r"(?i)([?&](?:pass|passwd|password|pwd|pw|key|token|auth|secret|sig|signature)=)[^\s&'\"]+")


def shown_text(text: str) -> str:
    """Any text (a tool's error output) with every URL password and secret query value
    replaced by …, wherever in the text they stand."""
    return _SECRET_PARAM.sub(rf"\1{HIDDEN}", _URL_PASSWORD.sub(rf"\1:{HIDDEN}@", text))
