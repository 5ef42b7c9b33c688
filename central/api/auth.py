"""Bearer-token authentication, write permission and region scope for the API.

`current_user` answers 401 for a missing or unknown token; `require_write` answers 403 for a
read-only user; `get_depot_or_404` hides depots outside the caller's scope behind a 404 so
the answer does not reveal that they exist.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from central.api.db import db_conn
from central.api.queries import depot_row
from central.users import ADMIN_SCOPE, User, region_prefix, user_for_token
from protocols.mqtt.topics import valid_code

__all__ = [
    "User", "current_user", "require_write", "depot_in_scope", "scope_sql", "get_depot_or_404",
    "depot_not_found",
]

_bearer = HTTPBearer(auto_error=False, description="由 `grainlink central user add` 生成的令牌")


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


def current_user(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
    conn=Depends(db_conn),
) -> User:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorized("缺少令牌（请求头 Authorization: Bearer <令牌>）")
    user = user_for_token(conn, credentials.credentials)
    if user is None:
        raise _unauthorized("令牌无效或已吊销")
    request.state.user = user
    return user


def require_write(user: User = Depends(current_user)) -> User:
    if not user.can_write:
        raise HTTPException(403, f"用户 {user.name} 只有查看权限，不能修改")
    return user


def _depot_region_code(region) -> str | None:
    """The most specific region code of a depot: a layout region mapping or a plain code."""
    if isinstance(region, Mapping):
        return region.get("county") or region.get("city") or region.get("province")
    return region


def depot_in_scope(user: User, depot_region, depot_code: str) -> bool:
    """Whether the user may see this depot (region: the layout's region mapping or a code)."""
    if user.role == "admin":
        return user.scope == ADMIN_SCOPE
    if user.role == "depot":
        return depot_code == user.scope
    prefix = region_prefix(user.role, user.scope)
    code = _depot_region_code(depot_region)
    if not prefix or not code:
        return False
    return code == prefix if user.role == "county" else code.startswith(prefix)


def scope_sql(user: User, depot_col: str = "d.code",
              region_col: str = "coalesce(d.county, d.city, d.province)"):
    """A SQL condition and its parameters selecting the depots in the user's scope."""
    if user.role == "admin":
        return ("TRUE", []) if user.scope == ADMIN_SCOPE else ("FALSE", [])
    if user.role == "depot":
        return f"{depot_col} = %s", [user.scope]
    prefix = region_prefix(user.role, user.scope)
    if user.role == "county":
        return f"{region_col} = %s", [prefix]
    return f"left({region_col}, %s) = %s", [len(prefix), prefix]


def depot_not_found(depot: str) -> HTTPException:
    # Only a valid code goes back in the text (never a NUL or a lone surrogate).
    return HTTPException(404, f"粮库 {depot if valid_code(depot) else '（无效编码）'} 不存在")


def get_depot_or_404(conn, user: User, depot: str) -> dict:
    """The depot row (as a dict) when `depot` is a valid code, exists and is in the user's
    scope; else 404, one answer for all three so that it reveals nothing."""
    row = depot_row(conn, depot) if valid_code(depot) else None
    if row is None or not depot_in_scope(user, row.get("region_code"), depot):
        raise depot_not_found(depot)
    return row
