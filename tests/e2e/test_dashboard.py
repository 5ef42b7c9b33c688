"""The web system (central/web, built into central/dashboard/static) in headless Chromium
(Debian's package, driven by Playwright) against a running central with data in a real
database. Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

from central.alarms.state.store import raise_or_update
from central.rules.model import Finding
from tests.central.api_support import insert_air, insert_depot, insert_scan, new_user, tag
from tests.e2e.web_support import login, serve_site, shot

playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


@pytest.fixture(scope="module")
def site(database_url):
    t = tag()
    a, b = f"WEB{t}-A", f"WEB{t}-B"
    now = datetime.now(UTC).replace(microsecond=0)
    grid = [(c, (c - 1) // 3 + 1, (c - 1) % 3 + 1, 2) for c in range(1, 7)]  # 2 rows x 3 cols

    def seed(conn):
        insert_depot(conn, a, {"province": "430000", "city": "430100", "county": "430102"}, {"P01": grid})
        insert_depot(conn, b, {"province": "430000", "city": "430200", "county": "430203"}, {"P01": grid})
        for hours_ago in (6, 3, 0):
            ts = now - timedelta(hours=hours_ago)
            for cable in range(1, 7):
                insert_scan(conn, a, "P01", cable, ts, [31.5 if cable == 5 else 14.0 + cable * 0.1, 15.0],
                            faults=(2,) if cable == 6 else ())
            insert_air(conn, a, "P01", "indoor", ts, 17.9, 63.5 + hours_ago)
            insert_air(conn, a, "", "outdoor", ts, 9.5, 71.0)
        conn.execute("UPDATE granaries SET cameras = ARRAY['CAM-P01-1'] WHERE depot = %s", (a,))
        # depot B keeps the time of Xinjiang (UTC+6): its pages show its own clock
        conn.execute("UPDATE depots SET timezone = 'Asia/Urumqi' WHERE code = %s", (b,))
        insert_scan(conn, b, "P01", 1, datetime(2026, 11, 22, 0, 30, tzinfo=UTC), [12.0, 12.5])
        with conn.transaction():
            _, alarm = raise_or_update(conn, a, "P01", Finding(
                "hotspot", "P01/C5/L1", "alarm", 17.4, 5.0, "31.5 °C at cable 5 layer 1", "P01"))
            _, other = raise_or_update(conn, a, "P01", Finding(
                "indoor_humidity_high", "P01", "warning", 80.5, 75.0, "indoor humidity above 75 %RH", "P01"))
        return {"alarm": alarm, "other": other}

    with serve_site(database_url, seed) as s:
        s.update(a=a, b=b, admin=new_user(database_url, "admin", "000000"),
                 city_a=new_user(database_url, "city", "430100"))
        yield s


def test_overview_lists_the_depots_in_chinese(site):
    page = login(site, site["admin"])
    page.wait_for_selector("#depots tr.depot-row")
    # the session's database holds other tests' depots too: filter down to this test's two
    page.fill("#overview .toolbar input", site["a"][:-2])
    page.wait_for_selector(f"a[data-depot='{site['a']}']")
    assert page.locator(f"a[data-depot='{site['b']}']").count() == 1
    row = page.locator("#depots tr.depot-row", has=page.locator(f"a[data-depot='{site['a']}']"))
    assert "在线" in row.inner_text()
    text = page.inner_text("#overview")
    assert "报警（未解除）" in text and "按地区" in text
    shot(page, "overview")
    page.close()


def test_granary_page_shows_layers_section_and_all_five_curves(site):
    page = login(site, site["admin"], f"/granary/{site['a']}/P01")
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
    assert "露点" in page.inner_text("#air")
    page.wait_for_selector("#curves canvas")
    assert page.locator("#curves canvas").count() >= 2  # the temperature and the humidity chart
    assert page.locator("#no-humidity").count() == 0  # humidity is measured: no "no data" line
    assert "平衡水分" in page.inner_text("#advice") or "通风" in page.inner_text("#advice")
    shot(page, "granary")
    page.close()


def test_depot_page_lists_granaries_with_their_kind_and_links_on(site):
    page = login(site, site["admin"], f"/depot/{site['a']}")
    page.wait_for_selector("#depot .el-table__row")
    text = page.inner_text("#depot")
    assert "平房仓" in text and "6 根" in text and "在线" in text
    page.click("#depot a:text('P01')")
    page.wait_for_selector("table.grid")
    assert page.url.endswith(f"/granary/{site['a']}/P01")
    page.close()


def test_times_are_shown_in_the_depots_own_time_zone(site):
    page = login(site, site["admin"], f"/granary/{site['b']}/P01")
    page.wait_for_selector("#granary p.muted:has-text('Asia/Urumqi')")
    assert "检测时间 2026-11-22 06:30" in page.inner_text("#granary")
    page.close()


def test_acknowledging_an_alarm_from_the_list(site):
    page = login(site, site["admin"], f"/alarms?depot={site['a']}")  # the database holds other tests' alarms
    row = f".alarm-{site['alarm']['id']}"
    page.wait_for_selector(row)
    assert "已高出本层平均" not in page.inner_text(row)
    assert "高出本层平均 17.4 ℃" in page.inner_text(row)  # the rule's text in Chinese
    assert "cable" not in page.inner_text("#alarms")  # no English message reaches the page
    page.click(f"{row} button.ack")
    page.fill(".el-message-box input", "已安排翻仓检查")
    page.click(".el-message-box .el-button--primary")
    page.wait_for_selector(f"{row} .state:has-text('已确认')")
    shot(page, "alarms")
    page.close()


def test_alarm_page_records_each_handling_step_with_who_and_when(site):
    page = login(site, site["admin"], f"/alarm/{site['other']['id']}")
    page.wait_for_selector("#alarm-message")
    assert "仓湿 80.5 %RH" in page.inner_text("#alarm-message")
    page.click("#ack")
    page.wait_for_selector("#alarm-state[data-state='acknowledged']")
    for kind, text in (("处置方案", "开启排风扇除湿"), ("执行", "已开启 2 台排风扇")):
        page.click("#action-form .el-select")
        page.click(f".el-select-dropdown__item:visible:has-text('{kind}')")
        page.fill("#action-text", text)
        page.click("#add-action")
        page.wait_for_selector(f"#timeline :text('{text}')")
    timeline = page.inner_text("#timeline")
    assert "确认" in timeline and "处置方案" in timeline and "执行" in timeline
    page.click("#action-form .el-select")
    page.click(".el-select-dropdown__item:visible:has-text('审批')")
    page.wait_for_selector("#self-approval")  # who wrote the plan does not approve it
    assert page.is_disabled("#add-action")
    assert timeline.count(" · t-admin-") >= 3  # who, beside when, for each step
    shot(page, "alarm")
    page.close()


def test_a_city_user_does_not_see_another_citys_depot(site):
    page = login(site, site["city_a"])
    page.wait_for_selector("#depots tr.depot-row")
    page.fill("#overview .toolbar input", site["a"][:-2])
    page.wait_for_selector(f"a[data-depot='{site['a']}']")
    assert page.locator(f"a[data-depot='{site['b']}']").count() == 0
    page.goto(f"{site['url']}/granary/{site['b']}/P01")
    page.wait_for_selector("#failure")
    assert site["b"] not in page.inner_text(".main table") if page.locator(".main table").count() else True
    page.close()


def test_an_expired_token_returns_to_login_with_a_message(site):
    page = site["browser"].new_page()
    page.goto(site["url"] + "/login")
    page.evaluate("localStorage.setItem('grainlink-token', 'glk_revoked')")
    page.goto(site["url"] + "/alarms")
    page.wait_for_url("**/login**")
    page.wait_for_selector("#login-message")
    assert "重新登录" in page.inner_text("#login-message")
    page.close()


def test_app_paths_fall_back_to_the_page_and_api_paths_stay_json(site):
    html = urllib.request.urlopen(site["url"] + "/alarm/1", timeout=5).read().decode()
    assert "grainlink 粮情监测" in html and "/assets/" in html
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(site["url"] + "/api/v1/no-such-route", timeout=5)
    assert err.value.code in (401, 404) and "json" in err.value.headers["content-type"]
    script = html.split('src="', 1)[1].split('"', 1)[0]
    request = urllib.request.Request(site["url"] + script, headers={"Accept-Encoding": "gzip"})
    answer = urllib.request.urlopen(request, timeout=5)
    assert answer.headers["Content-Encoding"] == "gzip"
    assert "immutable" in answer.headers["Cache-Control"]
    json.dumps(dict(answer.headers))  # headers are plain text


def test_the_fortnightly_grain_report_previews_in_the_page(site):
    page = login(site, site["admin"], "/reports")
    page.click("#reports .el-select__wrapper >> nth=0")
    page.click(".el-select-dropdown__item:visible:has-text('粮情报告')")
    page.click("#reports .el-form-item, #reports .el-select__wrapper >> nth=1")
    page.keyboard.type(site["a"])
    page.click(f".el-select-dropdown__item:visible:has-text('{site['a']}')")
    page.fill("#report-granary", "P01")
    page.click("#preview-report")
    page.wait_for_selector("#report-preview table")
    preview = page.inner_text("#report-preview")
    assert "粮情报告" in preview and "三温两湿" in preview and "预警及处置" in preview
    shot(page, "report-grain")
    page.close()


def test_video_page_lists_every_camera_of_the_depot_with_its_health(site):
    page = login(site, site["admin"], "/video")
    page.click("#video .el-select__wrapper")
    page.keyboard.type(site["a"])
    page.click(f".el-select-dropdown__item:visible:has-text('{site['a']}')")
    page.wait_for_selector(".cam[data-camera='CAM-P01-1'] .still:has-text('暂无抓图')")
    card = page.inner_text(".cam[data-camera='CAM-P01-1']")
    assert "P01仓" in card and ("从未连通" in card or "离线" in card) and "暂无抓图" in card
    assert "实时视频" in card and "历史抓图" in card
    shot(page, "video")
    page.close()
