"""Headers every answer carries, pages and API alike: the browser runs only the service's
own scripts, shows its pages in no frame of another site, and never guesses a type.

Styles may be inline (the printable reports and the component library set them); scripts
may not. Images, video and workers may come from `blob:`/`data:` URLs the pages make
themselves (camera stills, HLS video, chart exports). Live view's playlists and fragments come
from the page's own origin, or from the media server's when the `live_hls_base` setting names
another host (central/cameras/hls_base.py): only then is that one origin added to connect-src
(hls.js and the player fetch them) and media-src (a browser's own HLS, Safari's)."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from central.cameras.hls_base import hls_origin


def content_security_policy(video_origin: str | None = None) -> str:
    """The policy; `video_origin` (an origin checked by hls_origin) may serve live video."""
    video = f" {video_origin}" if video_origin else ""
    return "; ".join((
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        f"media-src 'self' blob:{video}",
        "worker-src 'self' blob:",
        f"connect-src 'self'{video}",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ))


def security_headers(video_origin: str | None = None) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(video_origin),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


CONTENT_SECURITY_POLICY = content_security_policy()
HEADERS = security_headers()  # with live video on the pages' own origin (the default)


class SecurityHeaders:
    """ASGI middleware adding the security headers to every HTTP answer that does not set them
    itself; `hls_base` is the `live_hls_base` setting (checked when the settings load)."""

    def __init__(self, app: ASGIApp, hls_base: str | None = None) -> None:
        self.app = app
        self.headers = security_headers(hls_origin(hls_base) if hls_base else None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
