"""The media server's questions (deploy/media/nginx-live.conf.template): may this publisher
send this stream (nginx RTMP's on_publish, on_update, on_publish_done), and may this viewer
watch it (nginx's auth_request before every /hls/ file)?

Not part of the API: they answer only the media server's own address (the `live_hook_clients`
setting, GRAINLINK_LIVE_HOOK_CLIENTS: addresses or networks separated by commas; default
loopback, where the media server runs beside central; parsed once when the app is built) and
never a request that came through a proxy (one with a forwarding header), so a depot's
credentials, or a depot's network, cannot reach them.

Publish: nginx sends a form (call, name, addr, … and the publish URL's own arguments, `key`
among them); 2xx lets the publisher on, anything else turns it away (central/cameras/live_keys.py).
View: nginx passes the viewer's own request headers (the page's `Authorization: Bearer`, sent
by hls.js) and the file asked for in X-Original-URI; 200 only for a user who may see that
depot (the API's region scope, central/api/auth.py) and a stream that is on (an open,
unexpired session), 401 without a valid token, 403 otherwise. So the media host serves no
video to whoever merely guesses a stream's name.
"""

from __future__ import annotations

import ipaddress
import logging
from datetime import UTC, datetime
from urllib.parse import parse_qs, unquote, urlsplit

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool

from central.api.auth import get_depot_or_404
from central.api.deps import DbConn
from central.cameras import live_keys
from central.users import user_for_token

log = logging.getLogger("central.live")

HOOK_PATH = "/internal/media/hook"
VIEW_PATH = "/internal/media/view"
PROXY_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")

router = APIRouter(tags=["internal"], include_in_schema=False)


def client_refusal(host: str | None, headers, allowed) -> str | None:
    """Why this caller may not ask (None: it is the media server)."""
    if any(h in headers for h in PROXY_HEADERS):
        return "经代理转发的请求不受理"
    try:
        address = ipaddress.ip_address(host or "")
    except ValueError:
        return f"来源地址 {host!r} 无法识别"
    if not any(address in net for net in allowed):
        return f"来源地址 {address} 不是媒体服务器"
    return None


def form_fields(body: bytes) -> dict[str, str]:
    """nginx's form, first value of each field."""
    return {k: v[0] for k, v in parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True).items()}


def viewed_stream(original_uri: str) -> tuple[str, str] | None:
    """(depot, camera) of an HLS file's address, `/hls/<depot>.<camera>/<file>`; None when it
    is no such address (a listing, a path with `..`)."""
    parts = unquote(urlsplit(original_uri).path).split("/")
    if len(parts) != 4 or parts[0] or not parts[3] or ".." in parts:
        return None
    return live_keys.stream_parts(parts[2])


def bearer_token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _caller_refusal(request: Request) -> PlainTextResponse | None:
    refusal = client_refusal(request.client.host if request.client else None, request.headers,
                             request.app.state.live_hook_clients)
    if refusal:
        log.warning("live hook refused a caller: %s", refusal)
        return PlainTextResponse(refusal, status_code=403)
    return None


@router.post(HOOK_PATH)
async def media_hook(request: Request, conn: DbConn):
    if (refused := _caller_refusal(request)) is not None:
        return refused
    form = form_fields(await request.body())
    call, stream, key = form.get("call", ""), form.get("name", ""), form.get("key")
    refusal = await run_in_threadpool(live_keys.check, conn, call, stream, key, datetime.now(UTC))
    if refusal:
        log.warning("live stream %s from %s: %s refused: %s", stream, form.get("addr"), call, refusal)
        return PlainTextResponse(refusal, status_code=403)
    log.info("live stream %s from %s: %s", stream, form.get("addr"), call)
    return PlainTextResponse("ok")


@router.get(VIEW_PATH)
def media_view(request: Request, conn: DbConn):
    if (refused := _caller_refusal(request)) is not None:
        return refused
    stream = viewed_stream(request.headers.get("x-original-uri", ""))
    if stream is None:
        return PlainTextResponse("不是实时视频的地址", status_code=403)
    user = user_for_token(conn, bearer_token(request.headers.get("authorization")))
    if user is None:
        return PlainTextResponse("缺少令牌或令牌无效", status_code=401)
    depot, camera = stream
    try:
        get_depot_or_404(conn, user, depot)  # the API's region scope
    except HTTPException:
        return PlainTextResponse(f"用户 {user.name} 无权查看粮库 {depot}", status_code=403)
    if not live_keys.viewable(conn, depot, camera, datetime.now(UTC)):
        return PlainTextResponse(f"摄像机 {camera} 当前没有实时视频", status_code=403)
    return PlainTextResponse("ok")
