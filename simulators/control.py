"""A control socket for a running simulated depot: inject or clear scenarios, ask what the
model holds. JSON lines over a Unix socket (`simulation.control_socket`), one reply per line.

    {"cmd": "inject", "scenario": {...}}        → {"ok": true, "id": 4}
    {"cmd": "clear", "id": 4} / {"cmd": "clear", "kind": "hotspot"} / {"cmd": "clear"}
    {"cmd": "expected_grain", "granary": "P01"} → {"ok": true, "grain": {"1": [...], ...}}
    {"cmd": "scan_all"}, {"cmd": "status"}
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
from pathlib import Path
from typing import Any

from simulators.grainpile.scenarios import ScenarioError

MAX_LINE = 64 * 1024


def handle(depot: Any, request: Any) -> dict[str, Any]:
    """One control request → its reply (errors are replies too, never exceptions)."""
    if not isinstance(request, dict) or not isinstance(request.get("cmd"), str):
        return {"ok": False, "error": '请求须为带 "cmd" 的 JSON 对象'}
    cmd = request["cmd"]
    try:
        if cmd == "inject":
            return {"ok": True, "id": depot.inject(request.get("scenario"))}
        if cmd == "clear":
            return {"ok": True, "cleared": depot.clear(request.get("id"), request.get("kind"))}
        if cmd == "expected_grain":
            granary = request.get("granary")
            if granary not in depot.world.piles:
                return {"ok": False, "error": f"granary：没有仓房 {granary!r}"}
            grain = depot.expected_grain(granary)
            return {"ok": True, "grain": {str(c): v for c, v in grain.items()}}
        if cmd == "scan_all":
            depot.scan_all()
            return {"ok": True}
        if cmd == "status":
            return {"ok": True, "sim_time": depot.clock.now().isoformat(),
                    "scenarios": [{"id": a.id, **a.scenario.model_dump()}
                                  for a in depot.world.scenarios.all()]}
    except ScenarioError as exc:
        return {"ok": False, "error": str(exc)}
    return {"ok": False, "error": f"cmd：未知命令 {cmd!r}（可用：inject、clear、"
            "expected_grain、scan_all、status）"}


class ControlServer:
    def __init__(self, depot: Any, path: str | Path):
        self.depot = depot
        self.path = Path(path)
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> ControlServer:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.is_socket():
            self.path.unlink()
        self._server = await asyncio.start_unix_server(self._client, path=str(self.path),
                                                       limit=MAX_LINE)
        return self

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        try:
            while line := await reader.readline():
                try:
                    reply = handle(self.depot, json.loads(line))
                except json.JSONDecodeError as exc:
                    reply = {"ok": False, "error": f"不是 JSON：第 {exc.colno} 列，{exc.msg}"}
                writer.write(json.dumps(reply, ensure_ascii=False).encode() + b"\n")
                await writer.drain()
        except (ConnectionError, ValueError):
            pass        # a client that vanished or sent an over-long line
        finally:
            writer.close()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
        with contextlib.suppress(OSError):
            os.unlink(self.path)


def send(path: str | Path, request: dict[str, Any], timeout: float = 5.0) -> dict[str, Any]:
    """One request to a running simulator's control socket (the CLI's client side)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(path))
        sock.sendall(json.dumps(request).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    return json.loads(data)
