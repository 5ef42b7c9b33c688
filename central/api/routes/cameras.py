"""Cameras of a depot: health list and the latest still (scoped like every depot route)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from central.api.auth import User, current_user, get_depot_or_404
from central.api.db import db_conn
from central.api.encoding import json_answer
from central.cameras.store import camera_health, latest_still, stills_dir

router = APIRouter(tags=["cameras"])


@router.get("/depots/{depot}/cameras", summary="the depot's cameras: online or not, last still")
def cameras(depot: str, user: User = Depends(current_user), conn=Depends(db_conn)):
    get_depot_or_404(conn, user, depot)
    return json_answer({"depot": depot, "cameras": camera_health(conn, depot)})


@router.get("/depots/{depot}/cameras/{camera}/still", summary="the camera's latest still (JPEG)",
            response_class=Response)
def still(depot: str, camera: str, request: Request, user: User = Depends(current_user),
          conn=Depends(db_conn)):
    get_depot_or_404(conn, user, depot)
    meta = latest_still(conn, depot, camera)
    if meta is None:
        raise HTTPException(404, f"no still from camera {camera!r} of depot {depot!r}")
    settings = getattr(request.app.state, "settings", None)
    path = stills_dir(settings) / meta["path"]
    try:
        data = path.read_bytes()
    except OSError:
        raise HTTPException(404, f"the still file of camera {camera!r} is missing (removed by retention?)") from None
    ts = meta["ts"].strftime("%Y-%m-%dT%H:%M:%SZ")
    return Response(data, media_type="image/jpeg", headers={
        "X-Grainlink-Taken-At": ts, "Cache-Control": "private, max-age=60",
        "X-Grainlink-Overlay": quote(meta["overlay"]),  # percent-encoded UTF-8
    })
