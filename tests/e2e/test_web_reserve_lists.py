"""The reserve lists page and sort on the server (issue 15) and the depot picker searches the
server: the 库存 page asks `/lots` for one page of 50 (`limit`/`offset`/`sort`) and shows the
total the API counted; the picker asks `/depots?q=…&limit=20` as one types, is chosen with the
keyboard, and shows the chosen depot's name when the page opens with it."""

from __future__ import annotations

from datetime import date

import pytest

from central.lots.store import create_lot
from tests.central.api_support import insert_depot, new_user, tag
from tests.e2e.web_support import login, serve_site, shot

playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

LOTS_A, LOTS_B = 62, 3  # depot A: two pages of 50 and a bit


@pytest.fixture(scope="module")
def site(database_url):
    t = tag()
    a, b = f"RL{t}A", f"RL{t}B"

    def seed(conn):
        region = {"province": "850000", "city": "850100", "county": "850102"}
        for code, name in ((a, f"东湖储备库{t}"), (b, f"西山储备库{t}")):
            insert_depot(conn, code, region, {"P01": []})
            conn.execute("UPDATE depots SET name = %s WHERE code = %s", (name, code))
        for depot, n in ((a, LOTS_A), (b, LOTS_B)):
            for i in range(n):
                create_lot(conn, "seed", {"lot": f"{depot}-{i:03d}", "depot": depot, "granary": "P01",
                                          "category": "raw_grain", "variety": "wheat", "harvest_year": 2025,
                                          "card_established": date(2026, 1, 1)})
        return {}

    with serve_site(database_url, seed) as s:
        s.update(t=t, a=a, b=b, user=new_user(database_url, "province", "850000"))
        yield s


def _asked(page, path: str) -> list[str]:
    urls: list[str] = []
    page.on("request", lambda r: f"/api/v1{path}?" in r.url and urls.append(r.url))
    return urls


def _lots_shown(page) -> list[str]:
    return page.eval_on_selector_all("#lots a[data-lot]", "els => els.map(e => e.dataset.lot)")


def test_the_lot_list_pages_and_sorts_on_the_server(site):
    page = login(site, site["user"], f"/stock?depot={site['a']}")
    asked = _asked(page, "/lots")
    page.wait_for_selector("#lots a[data-lot]")
    page.wait_for_function(f"() => document.querySelector('#lot-total')?.textContent === '{LOTS_A}'")
    assert _lots_shown(page) == [f"{site['a']}-{i:03d}" for i in range(50)]   # one page travels
    # 货位, descending: two clicks on the header; the API sorts (sort=-lot) from page 1
    with page.expect_response(lambda r: "/api/v1/lots?" in r.url and "sort=-lot" in r.url):
        header = page.locator("#lots th:has-text('货位')")
        header.click()
        header.click()
    page.wait_for_function(f"() => document.querySelector('#lots a[data-lot]')?.dataset.lot === '{site['a']}-{LOTS_A - 1:03d}'")
    # page 2 holds the last twelve of that order: offset 50 from the server
    with page.expect_response(lambda r: "/api/v1/lots?" in r.url and "offset=50" in r.url):
        page.click("#lot-pages .number:has-text('2')")
    page.wait_for_function("() => document.querySelectorAll('#lots a[data-lot]').length === 12")
    assert _lots_shown(page) == [f"{site['a']}-{i:03d}" for i in range(11, -1, -1)]
    assert all("limit=50" in u for u in asked) and any("sort=-lot" in u and "offset=50" in u for u in asked)
    shot(page, "stock-lots-paged")
    page.close()


def test_the_depot_picker_searches_the_server_and_works_by_keyboard(site):
    page = login(site, site["user"], f"/stock?depot={site['a']}")
    depots = _asked(page, "/depots")
    picker = page.locator("#stock form.toolbar .depot-select")
    # opened with a depot: its name is shown, found by a search for its code
    page.wait_for_function(f"() => document.querySelector('#stock form.toolbar .depot-select')?.textContent.includes('东湖储备库{site['t']}')")
    # type what both names share: the first match is ready, ↓ moves to the second, Enter picks it
    picker.click()
    with page.expect_response(lambda r: "/api/v1/depots?" in r.url and "limit=20" in r.url and "q=" in r.url):
        page.keyboard.type(f"储备库{site['t']}")
    page.wait_for_selector(f".el-select-dropdown__item.is-hovering:has-text('东湖储备库{site['t']}')")
    page.wait_for_selector(f".el-select-dropdown__item:has-text('西山储备库{site['t']}')")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => document.querySelector('#stock form.toolbar .depot-select')?.textContent.includes('西山储备库{site['t']}')")
    with page.expect_response(lambda r: "/api/v1/lots?" in r.url and f"depot={site['b']}" in r.url):
        page.click("#stock form.toolbar button[type=submit]")
    page.wait_for_function(f"() => document.querySelector('#lot-total')?.textContent === '{LOTS_B}'")
    # never the whole list of depots: every search was bounded
    assert depots and all("limit=20" in u for u in depots), depots
    shot(page, "stock-depot-picker")
    page.close()
