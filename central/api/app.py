"""The central HTTP API: `create_app(settings, routes, advisors=...)` builds the FastAPI
application from the routers and advisors it is given (central/wiring.py lists them)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from central.api import system
from central.api.advice_hook import AdviceSource, Advisor
from central.api.errors import install_error_handlers
from central.api.input_guard import InputGuard
from central.api.openapi_zh import install as install_chinese_openapi
from central.api.request_metrics import RequestMetrics
from central.api.security_headers import SecurityHeaders
from central.cameras.live_keys import media_clients

API_PREFIX = "/api/v1"


def create_app(settings, routes: Sequence[tuple[str, APIRouter]], *,
               advisors: Sequence[Advisor] = (), pool=None) -> FastAPI:
    """The app for these settings with these (prefix, router) pairs, in order, and the
    advisors of `/latest`. Without a `pool` (psycopg_pool.ConnectionPool) the app
    opens its own with `central.db.pool.get_pool(settings)` when it starts and closes it when
    it stops."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if pool is not None:
            yield
            return
        from central.db.pool import get_pool

        app.state.pool = get_pool(settings, name="grainlink-api")
        try:
            yield
        finally:
            app.state.pool.close()

    app = FastAPI(
        title="grainlink 中心服务 API",
        version="1",
        description="储备粮库粮情与业务：粮库、粮情数据、报警、货位、批次、账实核对、审批、整改、储备计划。",
        lifespan=lifespan,
        # Swagger UI and ReDoc would load their scripts from a CDN, which the pages' CSP
        # forbids and a depot network may not reach: /openapi.json describes the API.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    # the media server's addresses, parsed once (routes/live_hooks.py asks on every publish check)
    app.state.live_hook_clients = media_clients(settings.live_hook_clients)
    app.state.pool = pool
    app.state.advice = AdviceSource(advisors)
    install_error_handlers(app)
    app.add_middleware(InputGuard)
    app.add_middleware(SecurityHeaders, hls_base=settings.live_hls_base)
    app.add_middleware(RequestMetrics)
    app.include_router(system.router)
    for prefix, router in routes:
        app.include_router(router, prefix=prefix)
    install_chinese_openapi(app)
    return app
