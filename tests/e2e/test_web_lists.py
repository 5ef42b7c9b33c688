"""The big lists page, sort and filter on the server (issue 15): the 库点 table and the 预警
list ask the API for one page (`limit`/`offset`/`sort`/`q`) and show the total it counted;
and an invalid token on any page returns to the login page with a Chinese message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from central.alarms.state.store import raise_or_update
from central.rules.model import Finding
from tests.central.api_support import insert_depot, new_user, tag
from tests.e2e.web_support import login, serve_site, shot

playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

DEPOTS = 45  # more than two pages of 20


@pytest.fixture(scope="module")
def site(database_url):
    t = tag()
    codes = [f"PG{t}{i:02d}" for i in range(DEPOTS)]
    now = datetime.now(UTC)

    def seed(conn):
        for code in codes:
            insert_depot(conn, code, {"province": "430000", "city": "430100", "county": "430102"},
                         {"P01": []})
        # depot 7 has the most active alarms, depot 30 the next most
        for code, n in ((codes[7], 4), (codes[30], 2)):
            for k in range(n):
                raise_or_update(conn, code, "P01", Finding(
                    "hotspot", f"P01/C{k + 1}/L1", "alarm" if k else "warning", 6.0, 5.0, "hot",
                    "P01"), now - timedelta(minutes=k))
        return {}

    with serve_site(database_url, seed) as s:
        s.update(t=t, codes=codes, admin=new_user(database_url, "admin", "000000"))
        yield s


def _asked(page, path: str) -> list[str]:
    """The API requests the page makes to `path` from now on (URLs)."""
    urls: list[str] = []
    page.on("request", lambda r: f"/api/v1{path}?" in r.url and urls.append(r.url))
    return urls


def _depots_shown(page, table: str) -> list[str]:
    return page.eval_on_selector_all(f"{table} a[data-depot]", "els => els.map(e => e.dataset.depot)")


def test_the_depot_list_pages_and_sorts_on_the_server(site):
    page = login(site, site["admin"], "/depots")
    page.wait_for_selector("#depot-list tr.depot-row")
    asked = _asked(page, "/depots")
    # the filter goes to the API (the session's database may hold only these 45: wait for
    # the request itself, not for a total that could already be right)
    with page.expect_request(lambda r: "/api/v1/depots?" in r.url and f"q={site['t']}" in r.url):
        page.fill(".depot-table .toolbar input", site["t"])
    page.wait_for_selector(".depot-table .total:has-text('共 45 个')")
    page.wait_for_function(f"() => document.querySelectorAll('#depot-list a[data-depot]').length === 20"
                           f" && document.querySelector('#depot-list a[data-depot]').dataset.depot === '{site['codes'][0]}'")
    assert _depots_shown(page, "#depot-list") == site["codes"][:20]
    assert any(f"q={site['t']}" in u and "limit=20" in u for u in asked), asked  # filtered by the API
    # sort by active alarms, highest first: two clicks on the header (ascending, descending)
    header = page.locator("#depot-list th:has-text('未处理预警')")
    header.click()
    header.click()
    page.wait_for_function(f"() => document.querySelector('#depot-list a[data-depot]')?.dataset.depot === '{site['codes'][7]}'")
    assert _depots_shown(page, "#depot-list")[:2] == [site["codes"][7], site["codes"][30]]
    assert any("sort=-active_alarms" in u for u in asked)
    # page 3 holds the last five, from the server (offset 40), in the same order
    page.click(".depot-table .el-pagination .number:has-text('3')")
    page.wait_for_function("() => document.querySelectorAll('#depot-list a[data-depot]').length === 5")
    assert any("offset=40" in u and "sort=-active_alarms" in u for u in asked)
    assert set(_depots_shown(page, "#depot-list")) <= set(site["codes"]) - {site["codes"][7], site["codes"][30]}
    shot(page, "depots-paged")
    page.close()


def test_the_alarm_list_sorts_on_the_server_and_keeps_it_in_the_address(site):
    page = login(site, site["admin"], f"/alarms?q={site['t']}")
    page.wait_for_selector("#alarms .alarm-row")
    assert "共 6 条" in page.inner_text("#alarm-total")
    with page.expect_response(lambda r: "/api/v1/alarms?" in r.url and "sort=severity" in r.url):
        page.locator("#alarms th:has-text('级别')").click()  # ascending: 预警 before 报警
    page.wait_for_url("**sort=severity**")
    page.wait_for_selector("#alarms .alarm-row")
    first = page.inner_text("#alarms .alarm-row >> nth=0")
    assert "预警" in first and "报警" not in first
    page.reload()  # the order is in the address: a reload shows the same list
    page.wait_for_selector("#alarms .alarm-row")
    assert "预警" in page.inner_text("#alarms .alarm-row >> nth=0")
    page.close()


@pytest.mark.parametrize("path", ["/", "/depots", "/alarms", "/devices", "/stock", "/approvals",
                                  "/reports", "/video", "/alarm/1", "/depot/NO-SUCH"])
def test_an_invalid_token_on_any_page_returns_to_login_with_a_message(site, path):
    page = site["browser"].new_page()
    page.goto(site["url"] + "/login")
    page.evaluate("localStorage.setItem('grainlink-token', 'glk_expired_or_revoked')")
    page.goto(site["url"] + path)
    page.wait_for_url("**/login**")
    page.wait_for_selector("#login-message")
    assert "登录已过期或令牌无效，请重新登录" in page.inner_text("#login-message")
    assert page.evaluate("localStorage.getItem('grainlink-token')") is None  # forgotten
    page.close()
