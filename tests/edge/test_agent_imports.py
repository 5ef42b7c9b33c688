"""What `grainlink edge run` imports: the agent reads Modbus with its own small client, so
neither pymodbus nor asyncio (3.9 MB of a 50 MB agent, README "Smaller agent") is loaded,
nor the other groups' heavy modules. Checked on the real command, polling a depot with an
RTU and a TCP bus, through the module set its interpreter holds when it exits."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.edge.depot_support import write_depot

ROOT = Path(__file__).resolve().parents[2]

RUN_AND_LIST = """
import atexit, sys
out = sys.argv.pop()
atexit.register(lambda: open(out, "w").write("\\n".join(sorted(sys.modules))))
from grainlink.cli import main
sys.exit(main(sys.argv[1:]))
"""


def edge_run_modules(tmp_path: Path) -> set[str]:
    depot = write_depot(tmp_path)  # its units do not answer: the agent polls and backs off
    listing = tmp_path / "modules.txt"
    proc = subprocess.Popen([sys.executable, "-c", RUN_AND_LIST, "edge", "run", str(depot), str(listing)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + 60
        polled = set()
        for line in proc.stderr:  # each bus has failed a poll: its transport was used
            polled |= {bus for bus in ("tcp-1", "rs485-1") if f"bus {bus} unit" in line}
            if polled == {"tcp-1", "rs485-1"} or time.monotonic() > deadline:
                break
        assert polled == {"tcp-1", "rs485-1"}, "the agent never polled both buses"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    assert proc.returncode == 0
    return set(listing.read_text().split())


def test_edge_run_imports_neither_pymodbus_nor_asyncio(tmp_path):
    modules = edge_run_modules(tmp_path)
    assert not {m for m in modules if m == "pymodbus" or m.startswith("pymodbus.")}
    assert "asyncio" not in modules
    assert "edge.modbus.serial_line" in modules and "edge.modbus.tcp_line" in modules  # the listing is real
    assert not {m for m in modules if m.split(".")[0] in ("fastapi", "psycopg", "uvicorn", "amqtt", "zeep")}
