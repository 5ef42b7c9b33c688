"""Advice shown beside a granary's latest readings, given by other parts (the alarm rules'
ventilation advice) without the API knowing their rules: central/wiring.py passes the
advisors to `create_app`, and the `/latest` route takes them as the `Advice` dependency.

An advisor is `fn(latest: dict, conn) -> list[dict]`; `latest` is the `latest` answer being
built (with `depot` and `granary` added), `conn` an open database connection.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Annotated

from fastapi import Depends, Request

log = logging.getLogger(__name__)

Advisor = Callable[[dict, object], list]


class AdviceSource:
    """The app's advisors, asked in order."""

    def __init__(self, advisors: Sequence[Advisor] = ()) -> None:
        self.advisors = tuple(advisors)

    def __call__(self, latest: dict, conn) -> list:
        """Every advisor's items; a failing advisor is logged and skipped, never fails the call."""
        items: list = []
        for fn in self.advisors:
            try:
                items.extend(fn(latest, conn) or [])
            except Exception:
                log.exception("advisor %s failed for %s/%s", getattr(fn, "__name__", fn),
                              latest.get("depot"), latest.get("granary"))
        return items


def advice_source(request: Request) -> AdviceSource:
    return request.app.state.advice


Advice = Annotated[AdviceSource, Depends(advice_source)]
