"""Commands from central (`cmd` topic): validated, executed once per id (ids remembered in
the edge database), answered on `cmd/result` through the outbox."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from edge.outbox.outbox import Outbox
from protocols.mqtt import topics
from protocols.mqtt.codec import decode_message, encode_message
from protocols.mqtt.errors import MessageError
from protocols.mqtt.fields import MAX_DETAIL
from protocols.mqtt.models import Command, CommandResult
from protocols.timefmt import utc_now

log = logging.getLogger(__name__)

# The agent's action for a command: returns a short detail for the answer; raising any
# exception answers ok=false with the exception's text (e.g. "unknown granary P99").
CommandAction = Callable[[Command], str | None]


@dataclass(frozen=True)
class CommandJob:
    """A new command, recorded as running, to execute once."""

    command: Command


def _raw_id(payload: bytes) -> str | None:
    try:
        data = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return None
    value = data.get("id") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


class CommandProcessor:
    """Receives command payloads, remembers ids, runs the agent's action, queues answers."""

    def __init__(
        self, outbox: Outbox, depot: str, on_command: CommandAction,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.outbox = outbox
        self.depot = depot
        self.on_command = on_command
        self.clock = clock
        self.topic = topics.topic_for(depot, topics.CMD)

    def _result(self, command_id: str, ok: bool, detail: str) -> CommandResult:
        return CommandResult(
            depot=self.depot, id=command_id, ok=ok, detail=detail[:MAX_DETAIL],
            done_at=self.clock(),
        )

    def _answer_invalid(self, command_id: str | None, reason: str) -> None:
        log.warning("invalid command %s: %s", command_id, reason)
        try:
            result = self._result(command_id or "", False, f"命令无效：{reason}")
        except ValueError:
            # No usable id: nothing central could match an answer to.
            log.warning("invalid command without a usable id dropped: %s", reason)
            return
        self.outbox.add_message(topics.CMD_RESULT, result)

    def receive(self, topic: str, payload: bytes) -> CommandJob | None:
        """Record a received command; returns a job when it is new and valid.

        Invalid commands are answered ok=false with the reason; a repeated id is answered
        again with the stored result (or nothing yet if it is still running). Returns only
        after the id is committed, so the caller may PUBACK the command afterwards.
        """
        try:
            command = decode_message(topic, payload)
            if not isinstance(command, Command):
                raise MessageError(f"须为 grainlink.cmd/1，实际为 {command.SCHEMA_ID}", "schema")
        except MessageError as exc:
            self._answer_invalid(_raw_id(payload), str(exc))
            return None
        with self.outbox.transaction() as db:
            row = db.execute(
                "SELECT state, result FROM commands WHERE id = ?", [command.id]
            ).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO commands (id, state, received_at) VALUES (?, 'running', ?)",
                    [command.id, self.clock().timestamp()],
                )
                return CommandJob(command)
            state, result = row
            if state == "done" and result is not None:
                log.info("command %s repeated: answering again without acting", command.id)
                self.outbox.add_encoded(topics.CMD_RESULT, bytes(result))
            return None

    def execute(self, job: CommandJob) -> CommandResult:
        """Run the agent's action for a new command and queue the answer (committed with the
        command's 'done' state in one transaction)."""
        command = job.command
        try:
            detail = self.on_command(command) or "已完成"
            result = self._result(command.id, True, str(detail))
        except Exception as exc:  # the action's failure is the answer, never a crash
            log.warning("command %s (%s) failed: %s", command.id, command.action, exc)
            result = self._result(command.id, False, str(exc) or type(exc).__name__)
        self._finish(command.id, result)
        return result

    def _finish(self, command_id: str, result: CommandResult) -> None:
        payload = encode_message(result)
        with self.outbox.transaction() as db:
            db.execute(
                "UPDATE commands SET state = 'done', result = ? WHERE id = ?",
                [payload, command_id],
            )
            self.outbox.add_encoded(topics.CMD_RESULT, payload)

    def recover_interrupted(self) -> int:
        """At start: commands that were running when the agent died are answered ok=false
        (never re-run: they may have acted already)."""
        with self.outbox.transaction() as db:
            ids = [r[0] for r in db.execute("SELECT id FROM commands WHERE state = 'running'")]
        for command_id in ids:
            self._finish(command_id, self._result(
                command_id, False, "未完成：命令执行期间边缘代理重启（不会重做）"
            ))
        return len(ids)


def dispatch(actions: dict[str, CommandAction]) -> CommandAction:
    """One on_command from per-action callbacks, e.g. {"scan_now": fn, "snapshot": fn}."""

    def on_command(command: Command) -> str | None:
        action = actions.get(command.action)
        if action is None:
            raise ValueError(f"本代理不支持操作 {command.action}")
        return action(command)

    return on_command
