"""The reserve workflows of the web system in Chromium against the real central service and
database: a batch from the gate into stock, a refused batch, a count outside ±3 % raising the
alarm, a plan change approved by a second user, a report downloaded and opened, a keeper on a
tablet. Screenshots of each page go to artifacts/screenshots/."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.central.api_support import insert_depot, new_user, tag
from tests.e2e.web_support import login, serve_site, shot

playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


@pytest.fixture(scope="module")
def site(database_url):
    t = tag()
    a, b = f"WF{t}-A", f"WF{t}-B"

    def seed(conn):
        insert_depot(conn, a, {"province": "430000", "city": "430100", "county": "430102"},
                     {"P01": [(1, 1, 1, 4)], "P02": [(1, 1, 1, 4)]})
        insert_depot(conn, b, {"province": "430000", "city": "430200", "county": "430203"},
                     {"P01": [(1, 1, 1, 4)]})
        conn.execute("UPDATE granaries SET capacity_t = 8000 WHERE depot IN (%s, %s)", (a, b))
        return {}

    with serve_site(database_url, seed) as s:
        s.update(a=a, b=b, t=t, admin=new_user(database_url, "admin", "000000"),
                 keeper=new_user(database_url, "depot", a),
                 sup1=new_user(database_url, "province", "430000"),
                 sup2=new_user(database_url, "province", "430000"),
                 city_b=new_user(database_url, "city", "430200"))
        yield s


def api(page, method: str, path: str, body=None):
    """A call with the page's own token (the same the pages use); answers (status, json)."""
    return page.evaluate(
        """async ([method, path, body]) => {
            const r = await fetch('/api/v1' + path, {method, headers: {'Content-Type': 'application/json',
              Authorization: 'Bearer ' + localStorage.getItem('grainlink-token')},
              body: body === null ? undefined : JSON.stringify(body)});
            return [r.status, await r.json()];
        }""", [method, path, body])


def choose(page, select: str, text: str, typed: str | None = None) -> None:
    """Pick the option showing `text` in the Element Plus select at `select`."""
    page.click(f"{select} .el-select__wrapper" if not select.endswith("__wrapper") else select)
    if typed:
        page.keyboard.type(typed)
    page.click(f".el-select-dropdown__item:visible:has-text('{text}')")


def register_batch(page, depot: str) -> str:
    page.goto(page.url.split("/", 3)[0] + "//" + page.url.split("/", 3)[2] + "/intake")
    page.wait_for_selector("#batch-form")
    choose(page, "#batch-form .el-form-item:has(#batch-depot)", depot, typed=depot)
    page.click("#register")
    page.wait_for_selector("#batch-code")
    return page.inner_text("#batch-code")


def record_test(page, moisture: str, impurity: str) -> None:
    page.click(".el-tabs__item:has-text('检验')")
    page.fill("#moisture", moisture)
    page.fill("#impurity", impurity)
    page.fill("#test-weight", "780")
    page.fill("#grade", "二等")
    page.click("#save-test")
    page.wait_for_selector(f"#steps :text('水分 {moisture} %')")


def test_a_batch_goes_from_the_gate_into_stock(site):
    lot = f"P01-W-{site['t']}"
    page = login(site, site["keeper"], "/stock")
    page.click(".el-collapse-item__header:has-text('新建货位')")
    choose(page, "#lot-form .el-form-item:has(#lot-depot)", site["a"], typed=site["a"])
    page.fill("#lot-granary", "P01")
    page.fill("#lot-code", lot)
    page.fill("#lot-grade", "二等")
    page.click("#create-lot")
    page.wait_for_selector(f"a[data-lot='{lot}']")

    code = register_batch(page, site["a"])
    assert page.get_attribute("#batch-state", "data-state") == "arrived"
    record_test(page, "12.1", "0.6")
    page.click(".el-tabs__item:has-text('入仓')")
    page.fill("#accept-quantity", "abc")
    page.click("#accept")
    page.wait_for_selector("#accept-form .el-form-item__error")  # checked before sending
    assert "数量须为数字" in page.inner_text("#accept-form") and "请选择货位" in page.inner_text("#accept-form")
    choose(page, "#accept-form .el-form-item:has(#accept-lot)", lot)
    page.fill("#accept-quantity", "120.5")
    page.click("#accept")
    page.wait_for_selector("#batch-state[data-state='accepted']")
    steps = page.inner_text("#steps")
    assert "登记" in steps and "物检" in steps and "入仓" in steps and "120.5 t" in steps
    shot(page, "batch-accepted")

    page.goto(f"{site['url']}/lot/{lot}")
    page.wait_for_selector("#lot-balance")
    assert page.inner_text("#lot-balance") == "120.50 t"
    assert code in page.inner_text("#movements")
    shot(page, "lot")
    page.goto(f"{site['url']}/stock")
    page.wait_for_selector(f"a[data-lot='{lot}']")
    row = page.locator("#lots .el-table__row", has=page.locator(f"a[data-lot='{lot}']"))
    assert "120.50 t" in row.inner_text() and "小麦" in row.inner_text()
    shot(page, "stock")
    page.close()


def test_a_wet_batch_is_refused_with_the_rule_and_kept_on_record(site):
    page = login(site, site["keeper"], "/intake")
    status, lot = api(page, "POST", "/lots", {
        "depot": site["a"], "granary": "P02", "lot": f"P02-W-{site['t']}", "category": "raw_grain",
        "variety": "wheat", "harvest_year": 2026, "card_established": "2026-11"})
    assert status == 201, lot
    register_batch(page, site["a"])
    record_test(page, "16.5", "0.6")
    page.click(".el-tabs__item:has-text('入仓')")
    choose(page, "#accept-form .el-form-item:has(#accept-lot)", lot["lot"])
    page.fill("#accept-quantity", "30")
    page.click("#accept")
    page.wait_for_selector("#refusal")
    refusal = page.inner_text("#refusal")
    assert "安全水分" in refusal and "moisture_above_safe" not in refusal
    page.click(".el-tabs__item:has-text('退回')")
    page.fill("#decision-reason", "水分 16.5 % 超过安全水分，退回")
    page.click("#refuse")
    page.wait_for_selector("#batch-state[data-state='refused']")
    assert "退回" in page.inner_text("#batch-reason")
    assert "退回" in page.inner_text("#steps")
    shot(page, "batch-refused")
    page.close()


def test_a_count_outside_three_percent_disagrees_and_raises_the_alarm(site):
    page = login(site, site["keeper"], "/counts")
    lot = f"P01-C-{site['t']}"
    # domain.md §9's example: 5000 t of wheat, card 2025-11, in at 12.5 % / 1.0 %
    status, body = api(page, "POST", "/lots", {
        "depot": site["a"], "granary": "P02", "lot": lot, "category": "raw_grain",
        "variety": "wheat", "harvest_year": 2025, "card_established": "2025-11"})
    assert status == 201, body
    status, body = api(page, "POST", f"/lots/{lot}/movements", {
        "direction": "in", "date": "2025-11-10", "quantity_t": 5000, "moisture_pct": 12.5,
        "impurity_pct": 1.0, "voucher": "RK-1"})
    assert status == 201, body
    page.goto(f"{site['url']}/counts?lot={lot}")
    page.wait_for_selector("#count-form")
    page.fill("#count-form input[aria-label='检查日期'], #count-form .el-date-editor input", "2026-08-15")
    page.keyboard.press("Enter")
    for field, value in (("#length", "60"), ("#width", "24"), ("#height", "4.3"),
                         ("#count-test-weight", "750"), ("#factor", "1.02"),
                         ("#count-moisture", "12.0"), ("#count-impurity", "0.9")):
        page.fill(field, value)
    assert "4736.88 t" in page.inner_text("#count-form")  # the preview before saving
    page.click("#save-count")
    page.wait_for_selector("#count-verdict")
    assert "账实不符" in page.inner_text("#count-verdict")
    assert page.inner_text("#count-difference") == "-4.48 %"
    shot(page, "count")
    page.goto(f"{site['url']}/alarms?rule=stock_discrepancy&depot={site['a']}")
    page.wait_for_selector(".alarm-row")
    text = page.inner_text("#alarms")
    assert "账实不符" in text and lot in text and "-4.48 %" in text
    page.close()


def test_a_plan_change_is_approved_by_a_second_user_only(site):
    page = login(site, site["sup1"], "/plans")
    page.fill("#plan-scope", "430100")  # a region code
    choose(page, "#plan-form .el-form-item:has-text('品种')", "玉米")
    page.fill("#plan-quantity", "800")
    page.fill("#plan-reason", f"新粮入库，调增计划 {site['t']}")  # the database holds other tests' requests
    page.click("#plan-form button[type=submit]")
    page.wait_for_selector(".el-message:has-text('已提交审批')")
    page.goto(f"{site['url']}/approvals")
    mine = page.locator(f".el-table__row:has-text('{site['t']}')")
    mine.wait_for()
    assert "本人申请" in mine.inner_text() and mine.locator("button.approve").count() == 0
    page.close()

    page = login(site, site["sup2"], "/approvals")
    row = page.locator(f".el-table__row:has-text('{site['t']}')")
    row.wait_for()
    row.locator("input").fill("同意")
    row.locator("button.approve").click()
    page.wait_for_selector(".el-message:has-text('已批准')")
    page.click(".el-tabs__item:has-text('已批准')")
    done = page.locator(f".el-table__row:has-text('{site['t']}')")
    done.wait_for()
    assert "t-province-" in done.inner_text() and "（同意）" in done.inner_text()  # who decided, when, why
    shot(page, "approvals")
    page.goto(f"{site['url']}/plans")
    plan = page.locator("#plan-table .el-table__row", has_text="430100").filter(has_text="玉米")
    plan.wait_for()
    assert "800.00 t" in plan.inner_text()
    plan.locator("button:has-text('历史')").click()
    page.wait_for_selector("h3:has-text('计划历史')")
    history = page.inner_text(".page")
    assert "审批单 #" in history  # the change names who asked and who approved it
    shot(page, "plans")
    page.close()


def test_a_report_is_previewed_and_downloaded_as_excel_and_csv(site, tmp_path: Path):
    page = login(site, site["admin"], "/reports")
    page.click("#preview-report")
    page.wait_for_selector("#report-preview table")
    assert "品种" in page.inner_text("#report-preview") or "指标" in page.inner_text("#report-preview")
    shot(page, "reports")
    with page.expect_download() as got:
        page.click("button[data-format='xlsx']")
    path = tmp_path / "report.xlsx"
    got.value.save_as(path)
    sheet = load_workbook(path).active
    title = sheet["A1"].value
    assert "购销存" in title or "库存" in title, title
    headers = [c.value for c in sheet[2]]
    assert any("品种" in str(h) for h in headers), headers
    with page.expect_download() as got:
        page.click("button[data-format='csv']")
    text = Path(got.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert any("品种" in h for h in rows[0]), rows[:2]
    page.close()


def test_a_city_user_sees_only_the_lots_and_depots_of_the_city(site):
    page = login(site, site["city_b"], "/stock")
    page.wait_for_selector("#lots")
    page.wait_for_load_state("networkidle")
    assert site["a"] not in page.inner_text("#lots")
    page.goto(f"{site['url']}/lot/P01-W-{site['t']}")
    page.wait_for_selector("#failure")
    assert "不存在" in page.inner_text("#failure")
    assert page.locator("#lot-balance").count() == 0
    page.goto(f"{site['url']}/")
    page.wait_for_selector("#depots tr.depot-row")
    page.fill("#overview .toolbar input", site["a"][:-2])  # this test's depots, of both cities
    page.wait_for_selector(f"a[data-depot='{site['b']}']")
    assert page.locator(f"a[data-depot='{site['a']}']").count() == 0
    assert "430102" not in page.inner_text("#overview")  # no region of the other city either
    page.close()


@pytest.mark.parametrize("path,ready,name", [
    ("/", "#depots", "tablet-overview"), ("/intake", "#batch-form", "tablet-intake"),
    ("/inspections", ".el-tabs", "inspections"), ("/video", "#video", "video"),
    ("/devices", "#devices", "devices"), ("/depots", "#depot-list", "depots"),
])
def test_each_page_renders_at_tablet_width_with_a_menu(site, path, ready, name):
    page = login(site, site["admin"], path, width=800)
    page.wait_for_selector(ready)
    page.wait_for_load_state("networkidle")
    assert page.locator("nav .el-menu-item").count() == 12
    assert page.evaluate("document.documentElement.scrollWidth") <= 820  # no sideways scrolling
    shot(page, name)
    page.close()
