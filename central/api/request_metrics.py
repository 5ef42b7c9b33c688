"""Counting the API's answers into the central metrics registry (served at /metrics)."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Receive, Scope, Send

from central.metrics import REGISTRY

API_REQUESTS = REGISTRY.counter(
    "grainlink_api_requests_total", "API requests answered, by method and status.")
API_SECONDS = REGISTRY.counter(
    "grainlink_api_request_seconds_total", "Time spent answering API requests, by method.")


class RequestMetrics:
    """ASGI middleware: one count and the elapsed time per answered HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def send_and_note(message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            API_REQUESTS.inc(method=scope["method"], status=str(status["code"]))
            API_SECONDS.inc(time.perf_counter() - started, method=scope["method"])
