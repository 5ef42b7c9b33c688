"""The ingest and alarm benchmarks still run, in miniature: every reading published arrives
(each benchmark asserts it) and they print the figures the README quotes. The figures
themselves are not checked here: timings belong to the benchmarks, not to tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def bench(name: str, *args: str) -> str:
    done = subprocess.run([sys.executable, str(ROOT / "bench" / name), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return done.stdout


def test_ingest_benchmark_with_rules_on_and_off(database_server_url):
    out = bench("central_ingest.py", "--depots", "4", "--granaries", "2", "--cables", "9",
                "--with-hooks", "--database-url", database_server_url)
    assert "end to end, rules off:" in out and "end to end, rules on :" in out
    assert "rules on/off:" in out and "database errors/conflicts retried: 0" in out


def test_alarm_benchmark_throughput_part(database_server_url):
    out = bench("alarms_latency.py", "--depots", "6", "--granaries", "2", "--cables", "9",
                "--repeat", "1", "--skip-latency", "--database-url", database_server_url)
    assert "ratio on/off:" in out and "first round after start" in out


def test_storage_benchmark_in_miniature(database_server_url):
    out = bench("storage_per_reading.py", "--days", "1", "--granaries", "1", "--runs", "3",
                "--alt", "--plain-url", database_server_url)
    for layout in ("plain     row per reading", "plain     cable scan + array"):
        assert layout in out
    assert "B/reading" in out and "history p50" in out
