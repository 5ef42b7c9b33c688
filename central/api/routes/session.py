"""`/me`: who the token belongs to, so the web system can show the user and fit its menu and
buttons to the role (the API still decides every call)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from central.api.auth import User, current_user

router = APIRouter(tags=["users"])


@router.get("/me", summary="当前用户：姓名、岗位、管辖范围、写权限")
def me(user: User = Depends(current_user)) -> dict:
    roles = getattr(user, "roles", None)
    return {"name": user.name, "role": user.role, "scope": user.scope, "can_write": user.can_write,
            "roles": sorted(roles) if roles else [user.role]}
