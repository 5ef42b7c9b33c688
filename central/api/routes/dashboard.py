"""The dashboard: static assets shipped in the package (no CDN, no build step), served at `/`."""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse, Response

PREFIX = ""
router = APIRouter(include_in_schema=False)
STATIC = files("central.dashboard") / "static"
TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}


@router.get("/", response_class=HTMLResponse)
def index() -> HTMLResponse:
    return HTMLResponse((STATIC / "index.html").read_text(encoding="utf-8"))


@router.get("/dashboard/{name}")
def asset(name: str) -> Response:
    suffix = name[name.rfind("."):] if "." in name else ""
    if "/" in name or suffix not in TYPES or not (STATIC / name).is_file():
        raise HTTPException(404, f"no dashboard file {name!r}")
    return Response((STATIC / name).read_bytes(), media_type=f"{TYPES[suffix]}; charset=utf-8",
                    headers={"Cache-Control": "no-cache"})
