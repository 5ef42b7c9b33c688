"""The web pages' component and unit tests (Vitest, central/web/tests) as part of the suite:
scripts/test.sh installs the npm packages when it builds the pages."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "central" / "web"


def test_vitest_component_tests_pass():
    if shutil.which("npx") is None:
        pytest.skip("no Node.js/npm: the web component tests need Node.js 20")
    if not (WEB / "node_modules" / "vitest").is_dir():
        pytest.skip("central/web/node_modules is missing (scripts/test.sh runs npm ci)")
    proc = subprocess.run(["npx", "vitest", "run", "--reporter=dot"], cwd=WEB, capture_output=True,
                          text=True, timeout=300, env={**os.environ, "NO_COLOR": "1", "CI": "1"})
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "Tests" in proc.stdout and "passed" in proc.stdout


def test_the_web_sources_type_check():
    if shutil.which("npx") is None or not (WEB / "node_modules" / "vue-tsc").is_dir():
        pytest.skip("no Node.js/npm or central/web/node_modules (scripts/test.sh runs npm ci)")
    proc = subprocess.run(["npx", "vue-tsc", "--noEmit", "-p", "tsconfig.json"], cwd=WEB,
                          capture_output=True, text=True, timeout=300, env={**os.environ, "NO_COLOR": "1"})
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
