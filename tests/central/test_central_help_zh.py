"""The help pages of `grainlink central serve|ingest` and `grainlink protocols …` are Chinese,
every line that explains an option included (the depot staff's rule: every text is Chinese)."""

from __future__ import annotations

import re

import pytest

from grainlink.cli import main

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("argv", [
    ["central", "serve", "--help"], ["central", "ingest", "--help"],
    ["protocols", "--help"], ["protocols", "validate", "--help"],
    ["protocols", "check-schemas", "--help"], ["protocols", "export-schemas", "--help"],
])
def test_help_pages_are_chinese(capsys, argv):
    with pytest.raises(SystemExit):
        main(argv)
    out = capsys.readouterr().out
    assert "显示本帮助并退出" in out
    description = out.split("\n\n")[1]
    assert CJK.search(description), description
    # every line that explains something (after the option's name) has Chinese in it
    explained = [line for line in out.splitlines() if re.match(r"\s+\S.*\s{2,}\S", line)]
    assert explained and all(CJK.search(line) for line in explained), explained


def test_central_lists_serve_and_ingest_in_chinese(capsys):
    with pytest.raises(SystemExit):
        main(["central", "--help"])
    lines = capsys.readouterr().out.splitlines()
    for command in ("serve", "ingest"):
        line = next(li for li in lines if li.strip().startswith(command + " "))
        assert CJK.search(line), line
