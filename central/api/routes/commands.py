"""Commands to a depot's edge agent ("scan now", "take a still", "send the layout again") and
the device page's facts: the agent's last status (buffer, buses, cameras), clock skew,
telemetry batch gaps, the last layout.

A command is recorded in `depot_commands` (central/commands/log.py) and published as
`grainlink.cmd/1` on the depot's `cmd` topic (QoS 1); the route waits a few seconds on
`cmd/result` for the edge's answer with the same id, so the person who pressed the button
sees it. A result that comes later (the edge was busy or offline) is recorded by the ingest
hook for `cmd/result` and by the listener that stays subscribed here for a while afterwards,
so the list is the same behind every API process and after a restart."""

from __future__ import annotations

import json
import logging
import threading
import uuid
from datetime import UTC, datetime
from typing import Literal

import paho.mqtt.client as mqtt
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from central.api.auth import User, current_user, get_depot_or_404, require_write
from central.api.db import db_conn
from central.api.encoding import json_answer
from central.api.queries import depot_state
from central.broker import broker_client
from central.commands import log as command_log
from protocols.mqtt import topics
from protocols.mqtt.codec import decode_message, encode_message
from protocols.mqtt.models import Command, CommandResult
from protocols.mqtt.topics import CODE_PATTERN

router = APIRouter(tags=["commands"])
log = logging.getLogger("central.api.commands")


class CommandBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Literal["scan_now", "snapshot", "republish_layout"]
    granary: str | None = Field(None, pattern=CODE_PATTERN)
    wait_s: float = Field(5.0, ge=0, le=30, description="等待库端边缘代理应答的秒数")


def _client(settings, suffix: str) -> mqtt.Client:
    return broker_client(settings, f"grainlink-cmd-{suffix}")


def _record_late(pool, depot: str, result: CommandResult) -> None:
    """A result that came after the request answered, written on a pooled connection."""
    try:
        with pool.connection() as conn, conn.transaction():
            command_log.record_result(conn, depot, result)
    except Exception:  # the service is stopping, or the database is away: ingest records it too
        log.warning("could not record the late result of command %s", result.id, exc_info=True)


def _entry(command: Command) -> dict:
    return {"id": str(command.id), "depot": command.depot, "action": command.action,
            "action_name": command_log.ACTION_NAMES[command.action], "granary": command.granary,
            "issued_at": command.issued_at.strftime("%Y-%m-%dT%H:%M:%SZ"), "state": "sent",
            "result": None}


def publish_and_wait(settings, command: Command, wait_s: float, linger_s: float = 60.0, *,
                     conn=None, pool=None, issued_by: str | None = None) -> dict:
    """Publish the command; its entry, with the edge's result if it arrived within `wait_s`
    (the client stays subscribed `linger_s` longer). With `conn` (and `pool` for a late
    answer) the command and its result are recorded in `depot_commands`."""
    entry = _entry(command)
    answered = threading.Event()
    subscribed = threading.Event()
    got: list[CommandResult] = []
    waiting = threading.Event()  # set while the request itself waits (it then records)
    waiting.set()

    def on_connect(client, _userdata, _flags, reason, _props=None):
        if not reason.is_failure:
            client.subscribe(topics.topic_for(command.depot, topics.CMD_RESULT), qos=1)

    def on_message(_client, _userdata, msg):
        try:
            result = decode_message(msg.topic, msg.payload)
        except Exception:  # not ours to judge: ingest's dead-letter store keeps bad payloads
            return
        if isinstance(result, CommandResult) and str(result.id) == str(command.id):
            entry["result"] = {"ok": result.ok, "detail": result.detail,
                               "done_at": result.done_at.strftime("%Y-%m-%dT%H:%M:%SZ")}
            entry["state"] = "done" if result.ok else "failed"
            got.append(result)
            answered.set()
            if pool is not None and not waiting.is_set():
                _record_late(pool, command.depot, result)

    client = _client(settings, uuid.uuid4().hex[:12])
    client.on_connect = on_connect
    client.on_subscribe = lambda *_: subscribed.set()
    client.on_message = on_message
    try:
        client.connect(settings.mqtt_host, settings.mqtt_port, keepalive=30)
    except OSError as exc:
        raise HTTPException(503, f"无法连接消息服务器，指令未下发（{type(exc).__name__}）") from None
    client.loop_start()
    if not subscribed.wait(5):
        client.loop_stop()
        client.disconnect()
        raise HTTPException(503, "消息服务器未响应，指令未下发")
    if conn is not None:
        # Recorded before it is published, so an answer that overtakes the request finds it.
        with conn.transaction():
            command_log.record_issued(conn, command, issued_by)
    info = client.publish(topics.topic_for(command.depot, topics.CMD), encode_message(command), qos=1)
    info.wait_for_publish(5)
    if not info.is_published():
        client.loop_stop()
        client.disconnect()
        if conn is not None:
            with conn.transaction():
                command_log.forget(conn, str(command.id))
        raise HTTPException(503, "消息服务器未确认，指令未下发")
    answered.wait(wait_s)
    waiting.clear()
    if conn is not None and got:
        with conn.transaction():
            command_log.record_result(conn, command.depot, got[0])

    def linger():
        answered.wait(linger_s)
        client.disconnect()
        client.loop_stop()

    threading.Thread(target=linger, daemon=True, name="grainlink-cmd-linger").start()
    return {**entry, "issued_by": issued_by} if conn is not None else entry


@router.post("/depots/{depot}/commands", summary="向粮库的边缘代理发送命令")
def send_command(depot: str, body: CommandBody, request: Request,
                 user: User = Depends(require_write), conn=Depends(db_conn)):
    get_depot_or_404(conn, user, depot)
    if body.granary is not None and conn.execute(
            "SELECT 1 FROM granaries WHERE depot = %s AND granary = %s",
            (depot, body.granary)).fetchone() is None:
        raise HTTPException(422, f"granary：粮库 {depot} 没有仓房 {body.granary}")
    command = Command(depot=depot, id=str(uuid.uuid4()), action=body.action, granary=body.granary,
                      issued_at=datetime.now(UTC).replace(microsecond=0))
    return json_answer(publish_and_wait(request.app.state.settings, command, body.wait_s,
                                        conn=conn, pool=request.app.state.pool,
                                        issued_by=user.name))


@router.get("/depots/{depot}/commands",
            summary="粮库最近的命令（发令人、时间）及边缘代理的应答")
def recent_commands(depot: str, user: User = Depends(current_user), conn=Depends(db_conn),
                    limit: int = Query(command_log.RECENT, ge=1, le=200)):
    get_depot_or_404(conn, user, depot)
    return json_answer(command_log.recent(conn, depot, limit))


@router.get("/depots/{depot}/device", summary="边缘代理：最近状态、时钟、数据缺口、仓房布局")
def device(depot: str, request: Request, user: User = Depends(current_user), conn=Depends(db_conn)):
    row = get_depot_or_404(conn, user, depot)
    state = depot_state(row.get("state"), row.get("last_seen"), datetime.now(UTC),
                        request.app.state.settings.offline_after_s)
    status = conn.execute(
        "SELECT ts, state, agent_version, payload, received_at FROM depot_status_latest"
        " WHERE depot = %s", (depot,)).fetchone()
    gaps = conn.execute(
        "SELECT first_missing, last_missing, missing FROM batch_gaps WHERE depot = %s"
        " ORDER BY first_missing DESC LIMIT 50", (depot,)).fetchall()
    layout = row.get("layout") or {}
    payload = status[3] if status else {}
    if isinstance(payload, str):
        payload = json.loads(payload)
    return json_answer({
        "depot": depot, "state": state, "last_seen": row.get("last_seen"),
        "timezone": row.get("timezone") or "Asia/Shanghai",
        "clock_skew_s": row.get("clock_skew_s"), "clock_flagged": row.get("clock_flagged"),
        "status": None if status is None else {
            "ts": status[0], "state": status[1], "agent_version": status[2], "received_at": status[4],
            "buffer": payload.get("buffer"), "buses": payload.get("buses", []),
            "cameras": payload.get("cameras", [])},
        "gaps": [{"first_missing": a, "last_missing": b, "missing": n} for a, b, n in gaps],
        "missing_total": sum(n for _, _, n in gaps),
        "layout": {"generated_at": layout.get("generated_at"),
                   "granaries": len(layout.get("granaries", [])),
                   "cables": sum(len(g.get("cables", [])) for g in layout.get("granaries", [])),
                   "cameras": len(layout.get("cameras", []))},
    })
