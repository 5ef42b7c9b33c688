"""First paint of the web system in Chromium over a province-sized database.

It seeds a scratch database (dropped afterwards) with `--depots` depots (default 3,000) spread
over cities and counties, a few granaries each, and open alarms on some of them; serves the
real app (uvicorn, the built pages from central/dashboard/static) and opens it in Debian's
chromium through Playwright with an empty cache, as a supervisor whose scope is the whole
province. For the overview and the alarm page it measures:
- interactive: from navigation to the depot table (overview) or the alarm table (alarms)
  showing its rows with the data of the API (the page's own progress indicators gone), as
  Playwright sees it and by the page's own clock (the first frame painted so);
- transferred bytes (compressed, as on the wire) in all, and of JavaScript alone;
- the page's main-thread work until Playwright saw it (Chromium's TaskDuration, ScriptDuration,
  RecalcStyleDuration + LayoutDuration): less sensitive than wall time to a machine loaded by
  other work, so the figure to compare two versions with on a busy machine; not CPU time
  though (a task's duration includes the time its thread waited for a core: under a load
  average of 6 the main thread's CPU time was a third of its TaskDuration).
Goals (issue 15): overview interactive <= 1.5 s, compressed JavaScript of the first page
<= 500 KB.

    .venv/bin/python bench/web_first_paint.py [--depots 3000] [--runs 3] [--shots artifacts/screenshots]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402

from central.db.migrate import migrate  # noqa: E402
from central.settings import Settings  # noqa: E402
from central.users import add_user  # noqa: E402
from central.wiring import build_app  # noqa: E402
from tests.support import services  # noqa: E402

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
STATIC = Path(__file__).resolve().parent.parent / "central" / "dashboard" / "static" / "index.html"


def seed(url: str, depots: int) -> None:
    """`depots` depots over 14 cities × 8 counties of province 43, 3 granaries each, and an
    open alarm on every tenth depot."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = []
        for i in range(depots):
            city = f"43{(i % 14) + 1:02d}00"
            county = f"{city[:4]}{(i // 14) % 8 + 1:02d}"
            code = f"HN-B{i:05d}"
            layout = {"depot": code, "name": f"第{i + 1}粮库",
                      "region": {"province": "430000", "city": city, "county": county},
                      "granaries": [{"granary": f"P{g:02d}", "name": f"{g}号仓", "type": "flat",
                                     "cables": []} for g in range(1, 4)], "cameras": []}
            rows.append((code, f"第{i + 1}粮库", "430000", city, county, json.dumps(layout, ensure_ascii=False),
                         "online" if i % 17 else "offline"))
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO depots (code, name, province, city, county, layout, state, last_seen)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, now())", rows)
            cur.executemany(
                "INSERT INTO granaries (depot, granary, name, type) VALUES (%s, %s, %s, 'flat')",
                [(r[0], f"P{g:02d}", f"{g}号仓") for r in rows for g in range(1, 4)])
            cur.execute(
                """INSERT INTO alarms (depot, granary, rule, subject, severity, state, value, threshold,
                                       message, opened_at, updated_at)
                   SELECT code, 'P01', 'hotspot', 'P01/C1/L1', 'alarm', 'active', 6.2, 5.0,
                          '局部发热', now(), now()
                   FROM depots WHERE right(code, 1) = '0'""")


# The page's own clock for "interactive": the first animation frame (a paint) in which the ready
# element shows and no progress indicator does, in ms since navigation start. Playwright's polling
# and round trips, which a loaded machine stretches, are not in it.
READY_PROBE = """(() => {
  const done = () => document.querySelector(READY) && !document.querySelector('.el-loading-mask, .el-skeleton');
  const tick = () => { if (done()) window.__benchReady = performance.now(); else requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
})()"""


def measure(browser, base: str, token: str, path: str, ready: str, shot: Path | None = None) -> dict:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(f"localStorage.setItem('grainlink-token', {json.dumps(token)})")
    context.add_init_script(READY_PROBE.replace("READY", json.dumps(ready)))
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Performance.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    types: dict[str, str] = {}
    sizes = {"all": 0, "js": 0}
    cdp.on("Network.responseReceived", lambda e: types.__setitem__(e["requestId"], e["type"]))

    def finished(e):
        sizes["all"] += e["encodedDataLength"]
        if types.get(e["requestId"]) == "Script":
            sizes["js"] += e["encodedDataLength"]

    cdp.on("Network.loadingFinished", finished)
    started = time.perf_counter()
    # "commit": from there Playwright polls for the table (goto would first wait for the load
    # event, which may come after the table shows); one poll for both conditions, one round trip
    page.goto(base + path, wait_until="commit")
    page.wait_for_function(f"() => document.querySelector({json.dumps(ready)})"
                           " && !document.querySelector('.el-loading-mask, .el-skeleton')", timeout=60000)
    interactive = time.perf_counter() - started
    in_page = page.evaluate("() => window.__benchReady ?? null")
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    page.wait_for_load_state("networkidle")
    if shot is not None:
        page.screenshot(path=str(shot), full_page=True)
    paint = page.evaluate(
        "() => (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime || null")
    context.close()
    return {"interactive_s": interactive, "in_page_s": in_page / 1000 if in_page else None,
            "fcp_s": paint / 1000 if paint else None, "bytes": sizes["all"], "js_bytes": sizes["js"],
            "task_s": metrics.get("TaskDuration", 0.0), "script_s": metrics.get("ScriptDuration", 0.0),
            "layout_s": metrics.get("LayoutDuration", 0.0) + metrics.get("RecalcStyleDuration", 0.0)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--depots", type=int, default=3000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--shots", type=Path, help="a folder for screenshots of the measured pages")
    ap.add_argument("--database-url", help="a PostgreSQL server to make the scratch database on "
                    "(default: GRAINLINK_TEST_DATABASE_URL or the machine's)")
    args = ap.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None or not STATIC.is_file():
        print("needs Debian's chromium and the built pages (bash scripts/test.sh or npm run build in central/web)")
        return 2
    import uvicorn
    from playwright.sync_api import sync_playwright

    server_url = args.database_url or services.shared_database_server_url()
    name = f"grainlink_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = services.with_dbname(server_url, name)
    try:
        settings = Settings(database_url=url, timescale="off")
        migrate(url, settings)
        t0 = time.perf_counter()
        seed(url, args.depots)
        print(f"seeded {args.depots} depots in {time.perf_counter() - t0:.1f} s")
        with psycopg.connect(url, autocommit=True) as conn:
            token = add_user(conn, "bench-province", "province", "430000", True)
        port = services.free_port()
        server = uvicorn.Server(uvicorn.Config(build_app(settings), host="127.0.0.1", port=port,
                                               log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        services.wait_for_port("127.0.0.1", port)
        base = f"http://127.0.0.1:{port}"
        results: dict[str, list[dict]] = {"overview": [], "alarms": []}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=ARGS)
            if args.shots:
                args.shots.mkdir(parents=True, exist_ok=True)
            for run in range(args.runs):
                last = args.shots is not None and run == args.runs - 1
                results["overview"].append(measure(browser, base, token, "/", "#depots tr.depot-row",
                                                   args.shots / "bench-overview.png" if last else None))
                results["alarms"].append(measure(browser, base, token, "/alarms", "#alarms .alarm-row",
                                                 args.shots / "bench-alarms.png" if last else None))
            browser.close()
        server.should_exit = True
        thread.join(10)
        print(f"{args.depots} depots, {args.runs} runs each, empty cache, chromium headless")
        for page, runs in results.items():
            def med(key, runs=runs):
                return statistics.median(r[key] for r in runs)
            each = ", ".join(f"{r['interactive_s']:.2f}" for r in runs)
            fcp = [r["fcp_s"] for r in runs if r["fcp_s"] is not None]
            own = [r["in_page_s"] for r in runs if r["in_page_s"] is not None]
            print(f"  {page:9s} interactive median {med('interactive_s'):.2f} s (runs: {each}), "
                  f"by the page's clock {statistics.median(own) if own else float('nan'):.2f} s, "
                  f"first contentful paint {statistics.median(fcp):.2f} s, transferred "
                  f"{med('bytes') / 1024:.0f} KiB, of which JavaScript {med('js_bytes') / 1024:.0f} KiB; "
                  f"main thread {med('task_s'):.2f} s, of which script {med('script_s'):.2f} s, "
                  f"style and layout {med('layout_s'):.2f} s")
        ov = results["overview"]
        print(f"goals: overview interactive <= 1.5 s: {statistics.median(r['interactive_s'] for r in ov):.2f} s; "
              f"first-page compressed JS <= 500 KB: {statistics.median(r['js_bytes'] for r in ov) / 1000:.0f} KB")
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
