"""The media server's questions about publishers (nginx RTMP's on_publish, on_update,
on_publish_done; deploy/media/nginx-live.conf.template): may this publisher send this stream?

Not part of the API: no token opens it. It answers only the media server's own address
(GRAINLINK_LIVE_HOOK_CLIENTS, addresses or networks separated by commas; default loopback,
where the media server runs beside central) and never a request that came through a proxy
(one with a forwarding header), so a depot's credentials, or a depot's network, cannot reach
it. nginx sends a form (call, name, addr, … and the publish URL's own arguments, `key`
among them); 2xx lets the publisher on, anything else turns it away (central/cameras/live_keys.py).
"""

from __future__ import annotations

import ipaddress
import logging
import os
from datetime import UTC, datetime
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool

from central.cameras import live_keys

log = logging.getLogger("central.live")

HOOK_PATH = "/internal/media/hook"
CLIENTS_ENV = "GRAINLINK_LIVE_HOOK_CLIENTS"
DEFAULT_CLIENTS = "127.0.0.1/32,::1/128"
PROXY_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")

router = APIRouter(tags=["internal"], include_in_schema=False)


def allowed_clients(environ: dict[str, str] | None = None) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    raw = (os.environ if environ is None else environ).get(CLIENTS_ENV) or DEFAULT_CLIENTS
    return [ipaddress.ip_network(part.strip(), strict=False) for part in raw.split(",") if part.strip()]


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


@router.post(HOOK_PATH)
async def media_hook(request: Request):
    refusal = client_refusal(request.client.host if request.client else None, request.headers,
                             allowed_clients())
    if refusal:
        log.warning("live hook refused a caller: %s", refusal)
        return PlainTextResponse(refusal, status_code=403)
    form = form_fields(await request.body())
    call, stream, key = form.get("call", ""), form.get("name", ""), form.get("key")
    pool = request.app.state.pool
    now = datetime.now(UTC)

    def ask() -> str | None:
        with pool.connection() as conn:
            conn.autocommit = True
            return live_keys.check(conn, call, stream, key, now)

    refusal = await run_in_threadpool(ask)
    if refusal:
        log.warning("live stream %s from %s: %s refused: %s", stream, form.get("addr"), call, refusal)
        return PlainTextResponse(refusal, status_code=403)
    log.info("live stream %s from %s: %s", stream, form.get("addr"), call)
    return PlainTextResponse("ok")
