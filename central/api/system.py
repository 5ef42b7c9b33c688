"""Endpoints outside /api/v1: liveness, Prometheus metrics."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from central.api.schemas import ErrorDetail, Health
from central.metrics import render

router = APIRouter()
log = logging.getLogger("central.api")


@router.get("/healthz", tags=["system"], response_model=Health,
            responses={503: {"model": ErrorDetail, "description": "数据库不可用"}},
            summary="存活与数据库检查（无需认证）")
def healthz(request: Request):
    try:
        with request.app.state.pool.connection(timeout=3) as conn:
            conn.execute("SELECT 1").fetchone()
    except Exception as exc:  # any failure means "not healthy", never a stack trace
        log.warning("healthz: database check failed: %s", exc)
        return JSONResponse({"detail": f"数据库不可用：{type(exc).__name__}"},
                            status_code=503)
    return {"status": "ok", "database": "ok"}


@router.get("/metrics", tags=["system"], summary="Prometheus 指标（文本格式）",
            response_class=PlainTextResponse,
            responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}})
def metrics():
    return PlainTextResponse(render(), media_type="text/plain; version=0.0.4")
