"""Endpoints outside /api/v1: liveness, Prometheus metrics, the dashboard's place at `/`."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse

from central.metrics import render

router = APIRouter()
placeholder_router = APIRouter()
log = logging.getLogger("central.api")

_PLACEHOLDER = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>grainlink</title></head><body><h1>grainlink central</h1>
<p>The dashboard is not installed yet. The API is at <a href="/docs">/docs</a>
(<a href="/openapi.json">OpenAPI</a>).</p></body></html>"""


@router.get("/healthz", tags=["system"], summary="liveness and database check (no auth)")
def healthz(request: Request):
    try:
        with request.app.state.pool.connection(timeout=3) as conn:
            conn.execute("SELECT 1").fetchone()
    except Exception as exc:  # any failure means "not healthy", never a stack trace
        log.warning("healthz: database check failed: %s", exc)
        return JSONResponse({"detail": f"database unavailable: {type(exc).__name__}"},
                            status_code=503)
    return {"status": "ok", "database": "ok"}


@router.get("/metrics", tags=["system"], summary="Prometheus metrics (text format)",
            response_class=PlainTextResponse)
def metrics():
    return PlainTextResponse(render(), media_type="text/plain; version=0.0.4")


@placeholder_router.get("/", include_in_schema=False, response_class=HTMLResponse)
def dashboard_placeholder():
    return HTMLResponse(_PLACEHOLDER)
