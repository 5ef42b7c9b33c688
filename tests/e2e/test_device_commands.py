"""The device page's buttons reach the edge: `POST /depots/{depot}/commands` publishes
`grainlink.cmd/1` on the depot's `cmd` topic of a real (private) mosquitto, a stand-in edge
answers on `cmd/result`, and the page shows the answer; the device facts (status, clock skew,
batch gaps) come from the database."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
import pytest

from protocols.mqtt import topics
from protocols.mqtt.codec import decode_message, encode_message
from protocols.mqtt.models import Command, CommandResult
from tests.central.api_support import insert_depot, new_user, tag
from tests.e2e.web_support import login, serve_site, shot

playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


class StandInEdge:
    """Answers every command of its depot once, as the edge agent does; keeps what it got."""

    def __init__(self, url: str, depot: str) -> None:
        self.depot, self.received = depot, []
        host, port = url.split("//", 1)[1].rsplit(":", 1)
        ready = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"edge-{uuid.uuid4().hex[:8]}")
        self.client.on_connect = lambda c, *_: c.subscribe(topics.topic_for(depot, topics.CMD), qos=1)
        self.client.on_subscribe = lambda *_: ready.set()
        self.client.on_message = self._answer
        self.client.connect(host, int(port))
        self.client.loop_start()
        assert ready.wait(10)

    def _answer(self, client, _userdata, msg) -> None:
        command = decode_message(msg.topic, msg.payload)
        assert isinstance(command, Command)
        self.received.append(command)
        result = CommandResult(depot=self.depot, id=command.id, ok=True,
                               detail=f"已完成 {command.granary or '全部仓房'} 巡检",
                               done_at=datetime.now(UTC).replace(microsecond=0))
        client.publish(topics.topic_for(self.depot, topics.CMD_RESULT), encode_message(result), qos=1)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture(scope="module")
def site(database_url, tmp_path_factory):
    from tests.support import services

    broker = services.start_private_mosquitto(tmp_path_factory.mktemp("mosquitto"))
    depot = f"DEV{tag()}"

    def seed(conn):
        insert_depot(conn, depot, {"province": "430000", "city": "430100", "county": "430102"},
                     {"P01": [(1, 1, 1, 4)]})
        conn.execute("UPDATE depots SET clock_skew_s = 412, clock_flagged = true WHERE code = %s", (depot,))
        for batch in (17, 21):  # batches 18-20 never arrived
            conn.execute("INSERT INTO batches (depot, batch, sent_at) VALUES (%s, %s, now())", (depot, batch))
        conn.execute(
            "INSERT INTO depot_status (depot, ts, state, agent_version, payload, received_at)"
            " VALUES (%s, now(), 'online', '0.3.0', %s, now())",
            (depot, json.dumps({"buffer": {"pending": 42, "oldest": None, "dropped_total": 0},
                                "buses": [{"bus": "rs485-1", "ok": True, "errors_total": 2}]})))
        return {}

    try:
        with serve_site(database_url, seed, mqtt_url=broker.url) as s:
            edge = StandInEdge(broker.url, depot)
            s.update(depot=depot, edge=edge, admin=new_user(database_url, "admin", "000000"),
                     viewer=new_user(database_url, "province", "430000", can_write=False))
            yield s
            edge.close()
    finally:
        broker.stop()


def test_scan_now_reaches_the_edge_and_the_page_shows_its_answer(site):
    page = login(site, site["admin"], f"/devices?depot={site['depot']}")
    page.wait_for_selector("#device-facts")
    facts = page.inner_text("#device-facts")
    assert "时钟偏差 412 秒" in facts and "42 条" in facts and "3 批" in facts and "0.3.0" in facts
    page.click("#scan-now")
    page.wait_for_selector("#commands .el-table__row:has-text('已完成')")
    row = page.inner_text("#commands .el-table__row")
    assert "立即巡检" in row and "已完成 全部仓房 巡检" in row
    assert "t-admin-" in row  # who issued it
    [command] = site["edge"].received
    assert command.action == "scan_now" and command.depot == site["depot"] and command.granary is None
    shot(page, "devices-command")
    page.close()


def test_commands_are_kept_by_central_not_by_one_api_process(site):
    from fastapi.testclient import TestClient

    from central.wiring import build_app

    if not site["edge"].received:  # run alone: issue one first
        test_scan_now_reaches_the_edge_and_the_page_shows_its_answer(site)
    issued = str(site["edge"].received[0].id)
    # another API process over the same database (or this one after a restart) lists it
    with TestClient(build_app(site["settings"])) as client:
        r = client.get(f"/api/v1/depots/{site['depot']}/commands",
                       headers={"Authorization": f"Bearer {site['admin']}"})
    assert r.status_code == 200
    mine = next(c for c in r.json() if c["id"] == issued)
    assert mine["state"] == "done" and mine["issued_by"].startswith("t-admin-")
    assert mine["result"]["detail"] == "已完成 全部仓房 巡检"


def test_a_command_names_its_problems_and_needs_write_permission(site):
    page = login(site, site["viewer"], "/")
    call = """async ([path, body]) => { const r = await fetch('/api/v1' + path, {method: 'POST',
        headers: {'Content-Type': 'application/json', Authorization: 'Bearer ' + localStorage.getItem('grainlink-token')},
        body: JSON.stringify(body)}); return [r.status, await r.json()]; }"""
    status, _ = page.evaluate(call, [f"/depots/{site['depot']}/commands", {"action": "scan_now"}])
    assert status == 403
    page.evaluate(f"localStorage.setItem('grainlink-token', {json.dumps(site['admin'])})")
    status, body = page.evaluate(call, [f"/depots/{site['depot']}/commands", {"action": "scan_now", "granary": "P99"}])
    assert status == 422 and "P99" in body["detail"]
    status, _ = page.evaluate(call, [f"/depots/{site['depot']}/commands", {"action": "reboot"}])
    assert status == 422
    status, _ = page.evaluate(call, ["/depots/NO-SUCH-DEPOT/commands", {"action": "scan_now"}])
    assert status == 404
    page.close()


def test_a_broker_that_does_not_answer_is_a_503_naming_it(site):
    from fastapi.testclient import TestClient

    from central.wiring import build_app
    from tests.support import services

    settings = site["settings"].model_copy(update={"mqtt_url": f"mqtt://127.0.0.1:{services.free_port()}"})
    with TestClient(build_app(settings)) as client:
        r = client.post(f"/api/v1/depots/{site['depot']}/commands", json={"action": "scan_now"},
                        headers={"Authorization": f"Bearer {site['admin']}"})
    assert r.status_code == 503 and "消息服务器" in r.json()["detail"]
