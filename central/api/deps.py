"""Typed dependencies of the API routes: take them as annotated parameters.

    def route(granary: GranaryRef, user: WriteUser, conn: DbConn): ...

- `DbConn`: the request's pooled connection (`central.api.db`, which states the commit rule:
  autocommit, and every write is one `with conn.transaction():` block; no `conn.commit()`).
- `CurrentUser`: the token's user (401 otherwise); `WriteUser`: the same, 403 when read-only.
- `DepotRef`: the `{depot}` path segment's depot row (a dict), 404 when it does not exist, is
  outside the caller's scope or is not even a valid code, with one answer for all three.
- `GranaryRef`: `{depot}` + `{granary}` as a `Granary`; 404 likewise. Every granary route
  takes it, so `/latest`, `/history`, `/thresholds`, `/inspections` and `/report` agree on
  whether a granary exists (`queries.granary_exists`: registered by a layout or seen in the
  readings).
- `LotRef`: the `{lot}` path segment's lot row, 404 for a missing lot and for one outside the
  caller's scope alike; `lot_in_scope()` is the same test for a code found in a body.

A route that writes declares `WriteUser` before `DepotRef`/`GranaryRef`, so a read-only
caller gets 403 without learning whether the depot exists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

import psycopg
from fastapi import Depends, HTTPException, Path

from central.api import queries
from central.api.auth import (
    User,
    current_user,
    depot_in_scope,
    depot_not_found,
    get_depot_or_404,
    require_write,
)
from central.api.db import db_conn
from central.lots import store
from protocols.mqtt.topics import valid_code

__all__ = [
    "DbConn", "CurrentUser", "WriteUser", "DepotRef", "GranaryRef", "Granary", "LotRef",
    "depot_not_found", "granary_not_found", "lot_not_found", "lot_in_scope", "depot_or_404",
]

# A lot code as the lots table allows it (migration 0004's CHECK).
LOT_CODE = re.compile(r"[A-Za-z0-9_.-]{1,64}")

DbConn = Annotated[psycopg.Connection, Depends(db_conn)]
CurrentUser = Annotated[User, Depends(current_user)]
WriteUser = Annotated[User, Depends(require_write)]

# No pattern on the path segments: a malformed code is answered like a missing one (404),
# never echoed in a 422, and never reaches SQL (a NUL there is a psycopg DataError).
DepotCode = Annotated[str, Path(description="depot code (粮库编码)")]
GranaryCode = Annotated[str, Path(description="granary code (仓号)")]
LotCode = Annotated[str, Path(description="lot code (货位号)")]


def granary_not_found(depot: str, granary: str) -> HTTPException:
    return HTTPException(404, f"粮库 {depot} 中没有仓 {_printable(granary)}")


def lot_not_found(lot: str) -> HTTPException:
    return HTTPException(404, f"货位 {_printable(lot)} 不存在")


def _printable(code: str) -> str:
    # The code goes back in the 404 text: only as much as a valid code may hold.
    return code if valid_code(code) or LOT_CODE.fullmatch(code or "") else "（无效编码）"


depot_or_404 = get_depot_or_404


def depot_ref(depot: DepotCode, user: CurrentUser, conn: DbConn) -> dict:
    return depot_or_404(conn, user, depot)


DepotRef = Annotated[dict, Depends(depot_ref)]


@dataclass(frozen=True)
class Granary:
    depot: str
    granary: str
    depot_row: dict


def granary_ref(depot_row: DepotRef, granary: GranaryCode, conn: DbConn) -> Granary:
    depot = depot_row["code"]
    if not valid_code(granary) or not queries.granary_exists(conn, depot, granary):
        raise granary_not_found(depot, granary)
    return Granary(depot, granary, depot_row)


GranaryRef = Annotated[Granary, Depends(granary_ref)]


def lot_in_scope(conn, user: User, lot: str) -> dict | None:
    """The lot row when it exists and its depot is in the user's scope, else None. A caller
    that would answer 409 for an existing code must first ask this and answer 404 (as for a
    missing lot) when the code is taken outside the caller's scope."""
    if not LOT_CODE.fullmatch(lot or ""):
        return None
    row = store.get_lot(conn, lot)
    if row is None:
        return None
    depot = queries.depot_row(conn, row["depot"])
    if depot is None or not depot_in_scope(user, depot.get("region_code"), row["depot"]):
        return None
    return row


def lot_ref(lot: LotCode, user: CurrentUser, conn: DbConn) -> dict:
    row = lot_in_scope(conn, user, lot)
    if row is None:
        raise lot_not_found(lot)
    return row


LotRef = Annotated[dict, Depends(lot_ref)]
