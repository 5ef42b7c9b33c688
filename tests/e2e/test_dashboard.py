"""The dashboard in headless Chromium (Debian's package, driven by Playwright) against a
running central with data in a real database. Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

import shutil
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from central.alarms.store import raise_or_update
from central.api.app import create_app
from central.db.pool import connect
from central.rules.model import Finding
from tests.central.api_support import (
    insert_air,
    insert_depot,
    insert_scan,
    migrated_settings,
    new_user,
    tag,
)
from tests.support import services

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary (apt-get install chromium)")
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def site(database_url):
    import uvicorn

    settings = migrated_settings(database_url)
    t = tag()
    a, b = f"WEB{t}-A", f"WEB{t}-B"
    now = datetime.now(UTC).replace(microsecond=0)
    grid = [(c, (c - 1) // 3 + 1, (c - 1) % 3 + 1, 2) for c in range(1, 7)]  # 2 rows x 3 cols
    with connect(database_url, autocommit=True) as conn:
        insert_depot(conn, a, {"province": "430000", "city": "430100", "county": "430102"}, {"P01": grid})
        insert_depot(conn, b, {"province": "430000", "city": "430200", "county": "430203"}, {"P01": grid})
        for cable in range(1, 7):
            insert_scan(conn, a, "P01", cable, now, [31.5 if cable == 5 else 14.0 + cable * 0.1, 15.0],
                        faults=(2,) if cable == 6 else ())
        insert_air(conn, a, "P01", "indoor", now, 17.9, 63.5)
        with conn.transaction():
            _, alarm = raise_or_update(conn, a, "P01", Finding(
                "hotspot", "P01/C5/L1", "alarm", 17.4, 5.0, "31.5 °C at cable 5 layer 1", "P01"))
    port = services.free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    services.wait_for_port("127.0.0.1", port)
    SHOTS.mkdir(parents=True, exist_ok=True)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield {"url": f"http://127.0.0.1:{port}", "a": a, "b": b, "alarm": alarm, "browser": browser,
               "admin": new_user(database_url, "admin", "000000"),
               "city_a": new_user(database_url, "city", "430100")}
        browser.close()
    server.should_exit = True
    thread.join(10)


def login(site, token: str, path: str = "/"):
    page = site["browser"].new_page(viewport={"width": 1280, "height": 900})
    page.goto(site["url"] + path)
    page.fill("#token", token)
    page.click("#login-form button")
    return page


def test_overview_lists_the_depots(site):
    page = login(site, site["admin"])
    page.wait_for_selector(f"tr[data-depot='{site['a']}']")
    assert page.locator(f"tr[data-depot='{site['b']}']").count() == 1
    assert "在线" in page.inner_text(f"tr[data-depot='{site['a']}']")
    page.screenshot(path=str(SHOTS / "overview.png"), full_page=True)
    page.close()


def test_hot_spot_cell_is_the_hottest_colour_in_its_layer(site):
    page = login(site, site["admin"], f"/#/granary/{site['a']}/P01")
    page.wait_for_selector("table.grid[data-layer='1'] td[data-cable='5']")
    cell = page.locator("table.grid[data-layer='1'] td[data-cable='5']")
    assert cell.inner_text() == "31.5"
    hues = page.eval_on_selector_all(
        "table.grid[data-layer='1'] td[data-temp]",
        "cells => cells.map(c => [c.dataset.cable, parseFloat(getComputedStyle(c).backgroundColor.match(/\\d+/g)[0]) "
        "- parseFloat(getComputedStyle(c).backgroundColor.match(/\\d+/g)[2])])")
    redness = dict(hues)
    assert max(redness, key=redness.get) == "5"  # red minus blue is largest at the hot spot
    assert page.locator("table.grid[data-layer='2'] td[data-cable='6']").inner_text() == "故障"
    assert "露点" in page.inner_text("#content")
    page.screenshot(path=str(SHOTS / "granary.png"), full_page=True)
    page.close()


def test_acknowledging_an_alarm_changes_its_state(site):
    page = login(site, site["admin"], "/#/alarms")
    row = f"tr[data-id='{site['alarm']['id']}']"
    page.wait_for_selector(row)
    assert page.get_attribute(row, "data-state") == "active"
    page.once("dialog", lambda d: d.accept("已安排翻仓检查"))
    page.click(f"{row} button.ack")
    page.wait_for_selector(f"{row}[data-state='acknowledged']")
    assert "已确认" in page.inner_text(f"{row} td.state")
    page.screenshot(path=str(SHOTS / "alarms.png"), full_page=True)
    page.close()


def test_a_city_user_does_not_see_another_citys_depot(site):
    page = login(site, site["city_a"])
    page.wait_for_selector(f"tr[data-depot='{site['a']}']")
    time.sleep(0.3)
    assert page.locator(f"tr[data-depot='{site['b']}']").count() == 0
    page.goto(f"{site['url']}/#/granary/{site['b']}/P01")
    page.wait_for_selector("#failure")
    assert "not found" in page.inner_text("#failure")
    page.close()
