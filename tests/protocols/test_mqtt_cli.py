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
    assert "status.json: differs" in err and "cmd.json: missing" in err


def test_committed_schemas_pass_check():
    assert run("check-schemas") == 0


def test_validate(tmp_path, capsys):
    good = DATA / "telemetry.json"
    bad = tmp_path / "bad.json"
    bad.write_text(good.read_text().replace('"batch": 1842', '"batch": -3'))
    assert run("validate", "grainlink/v1/HN-0731-001/telemetry", str(good)) == 0
    assert run("validate", "grainlink/v1/HN-0731-001/telemetry", str(good), str(bad)) == 1
    captured = capsys.readouterr()
    assert "telemetry.json: ok (grainlink.telemetry/1)" in captured.out
    assert "bad.json: batch: Input should be greater than or equal to 1" in captured.err
    assert run("validate", "grainlink/v1/HN-0731-001/telemetry", str(tmp_path / "none")) == 1


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
