"""The web system: the Vue app built from `central/web/` into `central/dashboard/static/`
(shipped in the package, no CDN), served at `/` with a fallback to `index.html` for the app's
own paths so a reload or a bookmarked page works."""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.routing import APIRoute
from starlette.routing import Match

STATIC = files("central.dashboard") / "static"
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png",
         ".woff2": "font/woff2", ".woff": "font/woff", ".ttf": "font/ttf", ".json": "application/json",
         ".ico": "image/x-icon"}
# Paths the app never claims: a request there that no API route matched stays a JSON 404.
RESERVED = ("/api/", "/openapi.json", "/metrics", "/healthz", "/assets/")

NOT_BUILT = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>grainlink</title>
</head><body><h1>grainlink 粮情监测</h1><p>网页前端尚未构建：请运行 <code>bash scripts/demo.sh</code>，
或在 <code>central/web</code> 中执行 <code>npm ci &amp;&amp; npm run build</code>。接口说明见
<a href="/openapi.json">/openapi.json</a>。</p></body></html>"""


class _AppRoute(APIRoute):
    """The catch-all page route: it steps aside for reserved paths, so routers included after
    the dashboard's (the API's) still answer them."""

    def matches(self, scope):
        path = scope.get("path", "")
        if any(path == r.rstrip("/") or path.startswith(r) for r in RESERVED):
            return Match.NONE, {}
        return super().matches(scope)


router = APIRouter(include_in_schema=False)
pages = APIRouter(include_in_schema=False, route_class=_AppRoute)


def _index() -> Response:
    index = STATIC / "index.html"
    if not index.is_file():
        return HTMLResponse(NOT_BUILT, status_code=503)
    # never cached: it names the current hashed asset files
    return HTMLResponse(index.read_text(encoding="utf-8"), headers={"Cache-Control": "no-cache"})


@router.get("/assets/{name}")
def asset(name: str, request: Request) -> Response:
    suffix = name[name.rfind("."):] if "." in name else ""
    path = STATIC / "assets" / name
    if "/" in name or name.startswith(".") or suffix not in TYPES or not path.is_file():
        raise HTTPException(404, f"没有该前端文件：{name}")
    headers = {"Cache-Control": "public, max-age=31536000, immutable", "Vary": "Accept-Encoding"}
    packed = STATIC / "assets" / f"{name}.gz"
    if "gzip" in request.headers.get("accept-encoding", "") and packed.is_file():
        return Response(packed.read_bytes(), media_type=TYPES[suffix],
                        headers={**headers, "Content-Encoding": "gzip"})
    return Response(path.read_bytes(), media_type=TYPES[suffix], headers=headers)


@router.get("/", response_class=HTMLResponse)
def index() -> Response:
    return _index()


@pages.get("/{path:path}", response_class=HTMLResponse)
def app_page(path: str) -> Response:
    # a file-like name outside /assets (favicon.ico, robots.txt) is not a page of the app
    if "." in path.rsplit("/", 1)[-1]:
        raise HTTPException(404, f"没有该文件：/{path}")
    return _index()


router.include_router(pages)
