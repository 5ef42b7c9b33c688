"""`grainlink protocols ...` subcommands, driven through their own parser."""

import argparse

from protocols import cli
from tests.protocols.mqtt_support import DATA


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="grainlink protocols")
    cli.register(parser)
    args = parser.parse_args(argv)
    return args.func(args)


def test_export_then_check(tmp_path, capsys):
    assert run("export-schemas", str(tmp_path)) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "cmd-result.json", "cmd.json", "event.json", "layout.json",
        "snapshot.json", "status.json", "telemetry.json",
    ]
    assert run("check-schemas", str(tmp_path)) == 0
    (tmp_path / "status.json").write_text("{}\n")
    (tmp_path / "cmd.json").unlink()
    assert run("check-schemas", str(tmp_path)) == 1
    err = capsys.readouterr().err
    assert "status.json: 与模型不一致" in err and "cmd.json: 缺少此文件" in err


def test_committed_schemas_pass_check():
    assert run("check-schemas") == 0


def test_validate(tmp_path, capsys):
    good = DATA / "telemetry.json"
    bad = tmp_path / "bad.json"
    bad.write_text(good.read_text().replace('"batch": 1842', '"batch": -3'))
    assert run("validate", "grainlink/v1/HN-0731-001/telemetry", str(good)) == 0
    assert run("validate", "grainlink/v1/HN-0731-001/telemetry", str(good), str(bad)) == 1
    captured = capsys.readouterr()
    assert "telemetry.json: 通过（grainlink.telemetry/1）" in captured.out
    assert "bad.json: batch: 须大于或等于 1（实际为 -3）" in captured.err
    assert run("validate", "grainlink/v1/HN-0731-001/telemetry", str(tmp_path / "none")) == 1


def test_validate_speaks_chinese_for_the_codec_own_reasons(tmp_path, capsys):
    """The reasons that are not pydantic's: whole-payload problems, a foreign depot, a bad
    topic. Each names its field (or none) the way the dead letters keep it."""
    raw = (DATA / "telemetry.json").read_text(encoding="utf-8")
    cases = {
        "latin1.json": raw.encode("utf-8").replace(b'"P01"', b'"P\xe901"', 1),
        "other.json": raw.replace('"depot": "HN-0731-001"', '"depot": "HN-0731-002"').encode(),
        "cut.json": raw[:40].encode(),
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
    files = [str(tmp_path / name) for name in cases]
    assert run("validate", "grainlink/v1/HN-0731-001/telemetry", *files) == 1
    err = capsys.readouterr().err
    assert "latin1.json: 消息不是有效的 UTF-8（第 " in err
    assert "other.json: depot: depot 'HN-0731-002' 与主题中的库点 'HN-0731-001' 不一致" in err
    assert "cut.json: 消息不是 JSON（第 " in err
    assert run("validate", "grainlink/v1/HN-0731-001/weather", files[0]) == 1
    assert "latin1.json: topic: 未知的主题类别 'weather'" in capsys.readouterr().err


def test_profiles_lists_builtins_or_says_why_not(capsys):
    try:
        import protocols.modbus.profiles  # noqa: F401
    except ImportError:
        assert run("profiles") == 1
        assert "register profiles are not available" in capsys.readouterr().err
        return
    assert run("profiles") == 0
    out = capsys.readouterr().out
    for name in ("lst1812", "th485", "silo8x8"):
        assert name in out
