"""Commands to the edge kept in the database (issue 15): issued and answered in either order,
recorded by the ingest hook for `cmd/result` (as wired), and the same list for every API
process (a second app over the same database shows what the first issued)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from central import jobs
from central.commands import log as command_log
from central.db.pool import connect
from central.wiring import build_app, ingest_hooks
from protocols.mqtt import topics
from protocols.mqtt.models import Command, CommandResult
from tests.central.api_support import bearer, insert_depot, migrated_settings, new_user, tag

REGION = {"province": "430000", "city": "430100", "county": "430102"}
NOW = datetime.now(UTC).replace(microsecond=0)


def _command(depot, action="scan_now", at=NOW):
    return Command(depot=depot, id=str(uuid.uuid4()), action=action, granary=None, issued_at=at)


def _result(depot, command_id, ok=True, detail="已完成巡检"):
    return CommandResult(depot=depot, id=command_id, ok=ok, detail=detail, done_at=NOW)


@pytest.fixture(scope="module")
def world(database_url):
    settings = migrated_settings(database_url)
    depot, other = f"CMD{tag()}", f"CMO{tag()}"
    with connect(database_url, autocommit=True) as conn:
        insert_depot(conn, depot, REGION, {"P01": []})
        insert_depot(conn, other, REGION, {"P01": []})
    return settings, depot, other


def test_issued_then_answered_by_the_ingest_hook(world, database_url):
    settings, depot, _ = world
    [hook] = ingest_hooks(settings).for_kind(topics.CMD_RESULT)  # what wiring hands ingest
    command = _command(depot)
    with connect(database_url, autocommit=True) as conn:
        command_log.record_issued(conn, command, "zhang")
        assert command_log.get(conn, str(command.id))["state"] == "sent"
        hook(conn, depot, _result(depot, command.id, ok=False, detail="总线 1 无应答"))
        got = command_log.get(conn, str(command.id))
    assert got["state"] == "failed" and got["issued_by"] == "zhang"
    assert got["action_name"] == "立即巡检" and got["result"]["detail"] == "总线 1 无应答"


def test_a_result_that_overtakes_its_command_keeps_both_halves(world, database_url):
    _settings, depot, _ = world
    command = _command(depot, "snapshot")
    with connect(database_url, autocommit=True) as conn:
        command_log.record_result(conn, depot, _result(depot, command.id))
        assert command_log.get(conn, str(command.id))["action_name"] == "其他指令"
        command_log.record_issued(conn, command, "li")
        got = command_log.get(conn, str(command.id))
    assert (got["state"], got["issued_by"], got["action"]) == ("done", "li", "snapshot")


def test_a_result_naming_another_depots_command_changes_nothing(world, database_url):
    _settings, depot, other = world
    command = _command(depot)
    with connect(database_url, autocommit=True) as conn:
        command_log.record_issued(conn, command, "zhang")
        command_log.record_result(conn, other, _result(other, command.id))
        assert command_log.get(conn, str(command.id))["state"] == "sent"


def test_every_api_process_lists_the_same_commands_newest_first(world, database_url):
    settings, depot, _ = world
    older, newer = _command(depot, at=NOW - timedelta(hours=1)), _command(depot, "snapshot")
    with connect(database_url, autocommit=True) as conn:
        for c in (older, newer):
            command_log.record_issued(conn, c, "wang")
        command_log.record_result(conn, depot, _result(depot, older.id))
    token = new_user(database_url, "province", "430000")
    answers = []
    for _ in range(2):  # two apps: two API processes, or one before and after a restart
        with TestClient(build_app(settings)) as client:
            r = client.get(f"/api/v1/depots/{depot}/commands", headers=bearer(token))
            assert r.status_code == 200, r.text
            answers.append(r.json())
    assert answers[0] == answers[1]
    ids = [c["id"] for c in answers[0]]
    assert ids.index(str(newer.id)) < ids.index(str(older.id))
    done = next(c for c in answers[0] if c["id"] == str(older.id))
    assert done["state"] == "done" and done["issued_by"] == "wang" and done["issued_at"].endswith("Z")


def test_a_faulty_edge_cannot_grow_the_log_without_limit(world, database_url, monkeypatch):
    """Results for ids central never issued: kept up to the cap per depot, then dropped; a
    result for an issued command is still recorded past the cap."""
    _settings, _depot, _ = world
    flood = f"CMF{tag()}"
    monkeypatch.setattr(command_log, "RESULT_ONLY_CAP", 3)
    with connect(database_url, autocommit=True) as conn:
        insert_depot(conn, flood, REGION, {"P01": []})
        issued = _command(flood)
        command_log.record_issued(conn, issued, "zhang")
        for _ in range(10):
            command_log.record_result(conn, flood, _result(flood, str(uuid.uuid4())))
        command_log.record_result(conn, flood, _result(flood, issued.id))
        stray = conn.execute("SELECT count(*) FROM depot_commands WHERE depot = %s AND action IS NULL",
                             (flood,)).fetchone()[0]
        assert command_log.get(conn, str(issued.id))["state"] == "done"
    assert stray == 3


def test_retention_prunes_old_commands(world, database_url):
    settings, depot, _ = world
    old, fresh = _command(depot, at=NOW - timedelta(days=91)), _command(depot, at=NOW - timedelta(days=89))
    stray_old = _result(depot, str(uuid.uuid4()))
    with connect(database_url, autocommit=True) as conn:
        for c in (old, fresh):
            command_log.record_issued(conn, c, "wang")
        command_log.record_result(conn, depot, stray_old, received_at=NOW - timedelta(days=100))
        out = jobs.apply_retention(conn, settings)
        kept = {str(c.id): command_log.get(conn, str(c.id)) is not None for c in (old, fresh)}
        stray_kept = command_log.get(conn, str(stray_old.id)) is not None
    assert settings.commands_retention_days == 90
    assert out["depot_commands"] >= 2
    assert kept == {str(old.id): False, str(fresh.id): True} and not stray_kept
