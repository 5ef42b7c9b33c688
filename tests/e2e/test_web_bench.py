"""The web first-paint benchmark still runs, in miniature (its figures belong to the
benchmark, not to this test)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.web_support import require_browser

ROOT = Path(__file__).resolve().parents[2]


def test_web_first_paint_benchmark_in_miniature(database_server_url):
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    require_browser()
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "web_first_paint.py"), "--depots", "40",
                           "--runs", "1", "--database-url", database_server_url],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    assert "overview  interactive median" in done.stdout and "alarms    interactive median" in done.stdout
    assert "first-page compressed JS <= 500 KB" in done.stdout
