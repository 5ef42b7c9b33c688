"""What `grainlink edge run` imports: the agent reads Modbus with its own small client, so
neither pymodbus nor asyncio (3.9 MB of a 50 MB agent, README "Smaller agent") is loaded,
nor the other groups' heavy modules. Checked on the real command, polling a depot with an
RTU and a TCP bus, through the module set its interpreter holds when it exits."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
import tomllib
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


def _requirement_names(requirements: list[str]) -> dict[str, str]:
    """name → the whole requirement, from pyproject's requirement strings."""
    return {re.split(r"[\[=<>~! ;]", r, maxsplit=1)[0].lower(): r for r in requirements}


def test_pymodbus_is_no_dependency_of_the_edge_only_of_the_simulators_demo_and_tests():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "pymodbus" not in _requirement_names(project["dependencies"])  # an edge box installs these
    extras = project["optional-dependencies"]
    pins = {extra: _requirement_names(extras[extra]).get("pymodbus") for extra in ("sim", "demo", "test")}
    # scripts/demo.sh and scripts/test.sh install "camera,demo" and "test,camera,demo": both get it
    assert set(pins.values()) == {pins["sim"]} and pins["sim"].startswith("pymodbus==")


def test_the_agents_logging_quiets_apscheduler_and_leaves_pymodbus_alone():
    import io
    import logging

    from edge.cli.jsonlog import setup_logging

    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    loggers = {name: logging.getLogger(name) for name in ("pymodbus", "apscheduler")}
    levels = {name: lg.level for name, lg in loggers.items()}
    try:
        for lg in loggers.values():
            lg.setLevel(logging.NOTSET)
        setup_logging("info", stream=io.StringIO())
        assert loggers["apscheduler"].level == logging.WARNING
        assert loggers["pymodbus"].level == logging.NOTSET  # the agent never loads it
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        for name, lg in loggers.items():
            lg.setLevel(levels[name])
