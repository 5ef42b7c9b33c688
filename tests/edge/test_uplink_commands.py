"""The command processor without a broker: validation, once per id, crash recovery."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from edge.outbox.outbox import Outbox
from edge.uplink.commands import CommandProcessor, dispatch
from protocols.mqtt.codec import encode_message
from protocols.mqtt.models import Command

DEPOT = "T-CMD"
TOPIC = f"grainlink/v1/{DEPOT}/cmd"


def cmd(action="scan_now", granary="P01", cid=None) -> bytes:
    return encode_message(Command(depot=DEPOT, id=cid or str(uuid.uuid4()), action=action,
                                  granary=granary, issued_at=datetime.now(UTC)))


def results(outbox: Outbox) -> list[dict]:
    return [json.loads(m.payload) for m in outbox.next_pending(100) if m.kind == "cmd/result"]


def test_once_per_id_across_restart_and_interrupted_commands(tmp_path):
    db = tmp_path / "e.sqlite"
    calls = []
    outbox = Outbox(db, DEPOT)
    proc = CommandProcessor(outbox, DEPOT, dispatch({"scan_now": lambda c: calls.append(c.id)}))
    first = cmd()
    job = proc.receive(TOPIC, first)
    assert job is not None
    assert proc.receive(TOPIC, first) is None  # still running: not run twice
    assert proc.execute(job).ok and len(calls) == 1
    assert proc.receive(TOPIC, first) is None
    answers = results(outbox)
    assert len(answers) == 2 and answers[0] == answers[1] and answers[0]["ok"]

    # A command received, then the agent died before finishing it.
    pending = cmd(cid=str(uuid.uuid4()))
    assert proc.receive(TOPIC, pending) is not None
    outbox.close()
    outbox = Outbox(db, DEPOT)
    proc = CommandProcessor(outbox, DEPOT, dispatch({"scan_now": lambda c: calls.append(c.id)}))
    assert proc.recover_interrupted() == 1
    assert proc.receive(TOPIC, first) is None and proc.receive(TOPIC, pending) is None
    answers = results(outbox)
    interrupted = [a for a in answers if a["id"] == json.loads(pending)["id"]]
    assert interrupted and not interrupted[0]["ok"] and "未完成" in interrupted[0]["detail"]
    assert len(calls) == 1


def test_invalid_commands_are_answered_with_the_reason(tmp_path):
    outbox = Outbox(tmp_path / "e.sqlite", DEPOT)
    proc = CommandProcessor(outbox, DEPOT, dispatch({}))
    cid = str(uuid.uuid4())
    other_depot = cmd(cid=cid).replace(DEPOT.encode(), b"OTHER")
    assert proc.receive(TOPIC, other_depot) is None
    assert proc.receive(TOPIC, b"not json") is None  # no id: nothing to answer, no crash
    job = proc.receive(TOPIC, cmd(action="snapshot"))
    assert not proc.execute(job).ok  # the agent has no snapshot action
    answers = results(outbox)
    assert len(answers) == 2
    assert answers[0]["id"] == cid and not answers[0]["ok"] and "depot" in answers[0]["detail"]
    assert "snapshot" in answers[1]["detail"] and not answers[1]["ok"]
