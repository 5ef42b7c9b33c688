"""The `grainlink` command speaks Chinese in its help pages and usage errors too, argparse's own
words included (grainlink/argparse_zh.py)."""

from __future__ import annotations

import re

import pytest

from grainlink import argparse_zh
from grainlink.cli import main

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_the_table_translates_and_passes_unknown_texts_through():
    assert argparse_zh.gettext("usage: ") == "用法："
    assert argparse_zh.gettext("a text of some later Python") == "a text of some later Python"
    assert argparse_zh.ngettext("expected %s argument", "expected %s arguments", 2) == "需要 %s 个值"
    assert argparse_zh.ngettext("one %s", "many %s", 2) == "many %s"


def test_a_missing_argument_is_said_in_chinese(capsys):
    with pytest.raises(SystemExit) as end:
        main(["edge", "check"])
    assert end.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("用法：grainlink edge check")
    assert "grainlink edge check：错误：缺少必需的参数：config" in err


@pytest.mark.parametrize("argv", [
    ["--help"], ["edge", "--help"], ["edge", "probe", "--help"], ["sim", "depot", "--help"],
    ["protocols", "profiles", "--help"], ["demo", "--help"],
])
def test_help_pages_are_chinese(capsys, argv):
    with pytest.raises(SystemExit):
        main(argv)
    out = capsys.readouterr().out
    assert "显示本帮助并退出" in out and "show this help" not in out
    # every line that explains something (after the option's name) has Chinese in it
    explained = [line for line in out.splitlines() if re.match(r"\s+\S.*\s{2,}\S", line)]
    assert explained and all(CJK.search(line) for line in explained), explained
