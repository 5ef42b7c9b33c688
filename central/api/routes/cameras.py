"""Cameras of a depot (scoped like every depot route): each camera with its health and latest
still, granary or not (gates, aisles, oil tanks); a still history per camera (the time line);
one still by id; the stills kept with an alarm; live view on demand.

Live view: POST …/cameras/{camera}/live sends `live_start` to the depot's edge, which relays
the camera's RTSP with FFmpeg to the media server (deploy/media/); the command carries a
one-time publish key the media server checks with central (central/cameras/live_keys.py,
routes/live_hooks.py); the answer carries the HLS playlist the page plays with hls.js. The
stream ends by itself after the edge's `live.duration` (5 min by default) or when its key
ends (the command's `live_until`, GRAINLINK_LIVE_KEY_TTL_S), whichever comes first; posting
again renews both (same key). DELETE ends it and its key. Both are recorded in the depot's command
log with who issued them (central/commands/log.py). The HLS address is
GRAINLINK_LIVE_HLS_BASE (central/cameras/hls_base.py: default /hls, the media server in front
of the same host; an absolute URL when it is another host)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from central.api.app import API_PREFIX
from central.api.auth import User, current_user, get_depot_or_404, require_write
from central.api.db import db_conn
from central.api.encoding import json_answer
from central.api.params import ServiceTime
from central.api.routes.commands import publish_and_wait
from central.cameras import live_keys
from central.cameras.alarm_stills import stills_of_alarm
from central.cameras.hls_base import playlist_url
from central.cameras.store import (
    camera_health,
    latest_still,
    still_by_id,
    still_history,
    stills_dir,
)
from protocols.mqtt.models import Command

router = APIRouter(tags=["cameras"])

HISTORY_MAX_DAYS = 31


def _still_url(depot: str, camera: str, still_id: int) -> str:
    return f"{API_PREFIX}/depots/{quote(depot)}/cameras/{quote(camera)}/stills/{still_id}"


def _jpeg(request: Request, meta: dict, what: str) -> Response:
    path = stills_dir(getattr(request.app.state, "settings", None)) / meta["path"]
    try:
        data = path.read_bytes()
    except OSError:
        raise HTTPException(404, f"{what}的图片文件已不存在（可能已按保存期限删除）") from None
    return Response(data, media_type="image/jpeg", headers={
        "X-Grainlink-Taken-At": meta["ts"].strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Cache-Control": "private, max-age=60",
        "X-Grainlink-Overlay": quote(meta["overlay"]),  # percent-encoded UTF-8
    })


@router.get("/depots/{depot}/cameras", summary="粮库的摄像机：运行状态和最新抓拍图")
def cameras(depot: str, granary: str | None = Query(None, description="只列此仓房的摄像机"),
            user: User = Depends(current_user), conn=Depends(db_conn)):
    get_depot_or_404(conn, user, depot)
    listed = camera_health(conn, depot, granary)
    for cam in listed:
        if cam["latest_still"]:
            cam["latest_still"]["url"] = _still_url(depot, cam["camera"], cam["latest_still"]["id"])
    return json_answer({"depot": depot, "granary": granary, "cameras": listed})


@router.get("/depots/{depot}/cameras/{camera}/still", summary="摄像机最新抓拍图（JPEG）",
            response_class=Response)
def still(depot: str, camera: str, request: Request, user: User = Depends(current_user),
          conn=Depends(db_conn)):
    get_depot_or_404(conn, user, depot)
    meta = latest_still(conn, depot, camera)
    if meta is None:
        raise HTTPException(404, f"粮库 {depot} 的摄像机 {camera} 还没有抓拍图片")
    return _jpeg(request, meta, f"摄像机 {camera} 最新抓拍")


@router.get("/depots/{depot}/cameras/{camera}/stills", summary="摄像机历次抓拍图（最新的在前）")
def stills(depot: str, camera: str, start: Annotated[ServiceTime | None, Query(alias="from")] = None,
           end: Annotated[ServiceTime | None, Query(alias="to")] = None,
           limit: int = Query(200, ge=1, le=1000),
           user: User = Depends(current_user), conn=Depends(db_conn)):
    get_depot_or_404(conn, user, depot)
    end = end or datetime.now(UTC)
    start = start or end - timedelta(days=1)
    if start >= end:
        raise HTTPException(422, "查询参数 from 须早于 to")
    if end - start > timedelta(days=HISTORY_MAX_DAYS):
        raise HTTPException(422, f"查询时段最长 {HISTORY_MAX_DAYS} 天")
    items = still_history(conn, depot, camera, start, end, limit)
    for item in items:
        item["url"] = _still_url(depot, camera, item["id"])
    return json_answer({"depot": depot, "camera": camera, "from": start, "to": end, "stills": items})


@router.get("/depots/{depot}/cameras/{camera}/stills/{still_id}", summary="按编号取单张抓拍图（JPEG）",
            response_class=Response)
def still_file(depot: str, camera: str, still_id: int, request: Request, user: User = Depends(current_user),
               conn=Depends(db_conn)):
    get_depot_or_404(conn, user, depot)
    meta = still_by_id(conn, depot, still_id)
    if meta is None or meta["camera"] != camera:
        raise HTTPException(404, f"粮库 {depot} 没有编号为 {still_id} 的抓拍图片")
    return _jpeg(request, meta, f"抓拍图片 {still_id} ")


class AlarmStill(BaseModel):
    id: int
    camera: str
    granary: str | None
    ts: datetime
    overlay: str
    bytes: int
    url: str


class AlarmStills(BaseModel):
    alarm: int
    depot: str
    stills: list[AlarmStill]


@router.get("/alarms/{alarm_id}/stills", response_model=AlarmStills,
            summary="报警发生时的抓拍图")
def alarm_stills(alarm_id: int, user: User = Depends(current_user), conn=Depends(db_conn)):
    row = conn.execute("SELECT depot FROM alarms WHERE id = %s", (alarm_id,)).fetchone()
    missing = HTTPException(404, f"没有编号为 {alarm_id} 的报警")
    if row is None:
        raise missing
    try:
        get_depot_or_404(conn, user, row[0])
    except HTTPException:
        raise missing from None
    items = stills_of_alarm(conn, alarm_id)
    for item in items:
        item["url"] = _still_url(row[0], item["camera"], item["id"])
    return json_answer({"alarm": alarm_id, "depot": row[0], "stills": items})


def _live(depot: str, camera: str, action: str, request: Request, user: User, conn, wait_s: float) -> Response:
    get_depot_or_404(conn, user, depot)
    if camera not in {c["camera"] for c in camera_health(conn, depot)}:
        raise HTTPException(404, f"粮库 {depot} 没有摄像机 {camera}")
    if not 0 <= wait_s <= 30:
        raise HTTPException(422, "查询参数 wait_s：须在 0 到 30 秒之间")
    now = datetime.now(UTC)
    if action == "live_start":  # the key's end travels along: the edge stops then at the latest
        key, until = live_keys.issue(conn, depot, camera, now,
                                     timedelta(seconds=request.app.state.settings.live_key_ttl_s))
        until = until.replace(microsecond=0)
    else:
        live_keys.end_stream(conn, depot, camera, now, "stopped")
        key = until = None
    command = Command(depot=depot, id=str(uuid.uuid4()), action=action, granary=None, camera=camera,
                      live_key=key, live_until=until, issued_at=now.replace(microsecond=0))
    entry = publish_and_wait(request.app.state.settings, command, wait_s, conn=conn,
                             pool=request.app.state.pool, issued_by=user.name)
    hls = playlist_url(request.app.state.settings.live_hls_base, depot, camera) if action == "live_start" else None
    return json_answer({**entry, "camera": camera, "hls_url": hls, "issued_by": user.name})


@router.post("/depots/{depot}/cameras/{camera}/live", summary="开启（或续期）摄像机实时视频")
def live_start(depot: str, camera: str, request: Request, wait_s: float = 10.0,
               user: User = Depends(require_write), conn=Depends(db_conn)):
    return _live(depot, camera, "live_start", request, user, conn, wait_s)


@router.delete("/depots/{depot}/cameras/{camera}/live", summary="结束摄像机实时视频")
def live_stop(depot: str, camera: str, request: Request, wait_s: float = 5.0,
              user: User = Depends(require_write), conn=Depends(db_conn)):
    return _live(depot, camera, "live_stop", request, user, conn, wait_s)
