"""The central HTTP API: `create_app(settings)` builds the FastAPI application."""

from __future__ import annotations

import importlib
from contextlib import asynccontextmanager

from fastapi import FastAPI

from central.api import system
from central.api.errors import install_error_handlers
from central.api.request_metrics import RequestMetrics
from central.api.routes import ROUTERS

API_PREFIX = "/api/v1"


def create_app(settings, pool=None) -> FastAPI:
    """The app for these settings. Without a `pool` (psycopg_pool.ConnectionPool) the app
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
        title="grainlink central API",
        version="1",
        description="Grain conditions of reserve depots: depots, readings, alarms, lots.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.pool = pool
    install_error_handlers(app)
    app.add_middleware(RequestMetrics)
    app.include_router(system.router)
    for module_name in ROUTERS:
        module = importlib.import_module(module_name)
        # A router may set PREFIX (the dashboard takes "" to own "/"); the default is /api/v1.
        app.include_router(module.router, prefix=getattr(module, "PREFIX", API_PREFIX))
    # Last, so a dashboard router's "/" wins over the placeholder.
    app.include_router(system.placeholder_router)
    return app
