"""What the browser tests of the web system share: a central API (the real app, the real
database) in a thread, Debian's chromium through Playwright, a login helper."""

from __future__ import annotations

import shutil
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest

from central.db.pool import connect
from central.wiring import build_app
from tests.central.api_support import migrated_settings
from tests.support import services

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
BUILT = Path(__file__).resolve().parents[2] / "central" / "dashboard" / "static" / "index.html"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def require_browser() -> None:
    if CHROMIUM is None:
        pytest.skip("no chromium binary (apt-get install chromium)")
    if not BUILT.is_file():
        pytest.skip("the web front end is not built (scripts/test.sh builds it: needs Node.js 20 and npm)")


@contextmanager
def serve_site(database_url: str, seed=None, **overrides):
    """{"url", "browser", "settings", **seed(conn)}: the app on a free port, a browser;
    `overrides` change settings (e.g. mqtt_url)."""
    import uvicorn
    from playwright.sync_api import sync_playwright

    require_browser()
    settings = migrated_settings(database_url)
    if overrides:
        settings = settings.model_copy(update=overrides)
    extra = {}
    if seed is not None:
        with connect(database_url, autocommit=True) as conn:
            extra = seed(conn) or {}
    port = services.free_port()
    server = uvicorn.Server(uvicorn.Config(build_app(settings), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    services.wait_for_port("127.0.0.1", port)
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                yield {"url": f"http://127.0.0.1:{port}", "browser": browser, "settings": settings,
                       **extra}
            finally:
                browser.close()
    finally:
        server.should_exit = True
        thread.join(10)


def login(site: dict, token: str, path: str = "/", width: int = 1280):
    """A new page signed in with `token`, showing `path` (the login page sends it there)."""
    page = site["browser"].new_page(viewport={"width": width, "height": 900}, accept_downloads=True)
    # the page's own errors, printed by pytest when a test fails
    page.on("console", lambda m: m.type == "error" and print("console:", m.text))
    page.on("pageerror", lambda e: print("page error:", e))
    page.on("response", lambda r: r.status >= 400 and print("answer:", r.status, r.url))
    page.goto(site["url"] + path)
    page.wait_for_selector("#token")
    page.fill("#token", token)
    page.click("#login-form button[type=submit]")
    page.wait_for_function("() => !location.pathname.startsWith('/login')")
    return page


def shot(page, name: str) -> None:
    """A full-page screenshot once the page has its data (no request or progress mask left)."""
    page.wait_for_load_state("networkidle")
    page.wait_for_function("() => ![...document.querySelectorAll('.el-loading-mask')]"
                           ".some(m => m.offsetParent !== null)")
    page.wait_for_timeout(300)  # transitions (messages, masks fading) end
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
