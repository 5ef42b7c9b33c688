"""Every error leaves the API as JSON `{"detail": ...}`; never a stack trace."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

log = logging.getLogger("central.api")


class BadRequest(ValueError):
    """A request the API understood but cannot serve (answered 400 with this message)."""


async def _bad_request(_request: Request, exc: BadRequest) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=400)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"detail": "internal server error"}, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    # HTTPException and validation errors already answer {"detail": ...} in FastAPI.
    app.add_exception_handler(BadRequest, _bad_request)
    app.add_exception_handler(Exception, _unexpected)
