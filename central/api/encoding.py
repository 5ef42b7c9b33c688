"""Answers carry times as RFC 3339 UTC with a `Z`, like every message of the project, and
are serialised once, straight to JSON (a history answer holds thousands of points, and
FastAPI's generic encoder would walk them all a second time)."""

from __future__ import annotations

import json
from datetime import datetime

from fastapi.responses import Response

from protocols.timefmt import format_ts


def _default(obj):
    if isinstance(obj, datetime):
        return format_ts(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def json_answer(content, status_code: int = 200) -> Response:
    """A JSON response of plain data in which every datetime is written `…Z`."""
    body = json.dumps(content, default=_default, ensure_ascii=False, allow_nan=False,
                      separators=(",", ":"))
    return Response(body.encode("utf-8"), status_code=status_code,
                    media_type="application/json")
