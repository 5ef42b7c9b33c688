"""Depot-file cases as data: each folder of `depot/` holds a `depot.yaml` (and any vendor profile
files it names) and `expected.txt`, the exact problem lines the loader reports, in its order.

An empty `expected.txt` means the file must load. `GRAINLINK_TEST_WRITE_CASES=1` writes the lines the
loader reports now into a case that has no `expected.txt` yet (read them before keeping them).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from protocols.depot import ConfigErrors, parse_depot_config

CASES = Path(__file__).resolve().parent / "depot"


def case_dirs() -> list[Path]:
    return sorted(p for p in CASES.iterdir() if p.is_dir())  # a folder without its input fails


def reported(case: Path) -> list[str]:
    """The problem lines, with file names relative to the case folder (as a user would see
    them beside the file)."""
    try:
        parse_depot_config((case / "depot.yaml").read_text(encoding="utf-8"), str(case / "depot.yaml"))
    except ConfigErrors as errors:
        return [str(e).replace(f"{case}{os.sep}", "") for e in errors.errors]
    return []


@pytest.mark.parametrize("case", case_dirs(), ids=lambda p: p.name)
def test_depot_case(case: Path):
    expected_file = case / "expected.txt"
    got = reported(case)
    if not expected_file.exists() and os.environ.get("GRAINLINK_TEST_WRITE_CASES") == "1":
        expected_file.write_text("".join(f"{line}\n" for line in got), encoding="utf-8")
    expected = expected_file.read_text(encoding="utf-8").splitlines()
    assert got == expected
