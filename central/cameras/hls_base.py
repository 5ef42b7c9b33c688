"""Where the pages find live view's HLS playlists: the `live_hls_base` setting
(GRAINLINK_LIVE_HLS_BASE).

Unset, it is `/hls` on the page's own origin: the media server's nginx serves /hls/ and passes
every other path to central (deploy/media/nginx-live.conf.template), so pages and video share
one address. When the media server is another host (or port), the base is its absolute URL,
e.g. `https://media.example.cn/hls`; the pages' Content-Security-Policy then has to allow that
origin for the playlist requests and the video (central/api/security_headers.py), which is why
the base is checked here strictly: its origin is written into a security header.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

ENV = "GRAINLINK_LIVE_HLS_BASE"
DEFAULT = "/hls"

# A host name, an IPv4 address or a bracketed IPv6 address, and an optional port: nothing that
# could end a CSP directive (';', ',', spaces, quotes) can get through.
_NETLOC = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$")
_PATH = re.compile(r"^[A-Za-z0-9/._~%-]*$")


def checked_base(value: str | None) -> str:
    """A configured base without its trailing slash (empty: the default); ValueError (Chinese)
    when unusable."""
    raw = (value or DEFAULT).strip()
    hls_origin(raw)  # validates
    return raw.rstrip("/")


def hls_origin(base: str) -> str | None:
    """The origin of an absolute base (`scheme://host[:port]`), None for a path on the page's
    own origin; ValueError naming the setting for anything else."""
    problem = f"{ENV}：须为以 / 开头的路径或 http(s):// 地址，收到 {base!r}"
    if base.startswith("/") and not base.startswith("//"):
        if not _PATH.match(base):
            raise ValueError(problem)
        return None
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not _NETLOC.match(parts.netloc or "") \
            or not _PATH.match(parts.path) or parts.query or parts.fragment:
        raise ValueError(problem)
    try:
        port = parts.port
    except ValueError:
        raise ValueError(problem) from None
    if port is not None and not 0 < port < 65536:
        raise ValueError(problem)
    return f"{parts.scheme}://{parts.netloc.lower()}"


def playlist_url(base: str, depot: str, camera: str) -> str:
    """The playlist of one camera's stream (`<depot>.<camera>`, the edge's live_name())."""
    return f"{base.rstrip('/')}/{quote(depot)}.{quote(camera)}/index.m3u8"
