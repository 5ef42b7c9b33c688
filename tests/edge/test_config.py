"""The depot file: every kind of mistake is reported with its line and setting, all at once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from edge.config import config_from_text, load_config
from protocols.depot import ConfigErrors, layout_message, parse_depot_config, resolve_path
from protocols.depot.durations import format_duration, parse_duration

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "depot.yaml"
TEXT = EXAMPLE.read_text(encoding="utf-8")
SRC = "depot.yaml"


def problems(text: str) -> list:
    with pytest.raises(ConfigErrors) as info:
        parse_depot_config(text, SRC)
    return info.value.errors


def line_of(text: str, needle: str, nth: int = 0) -> int:
    lines = [i + 1 for i, line in enumerate(text.splitlines()) if needle in line]
    return lines[nth]


def edit(old: str, new: str, count: int = 1, text: str = TEXT) -> str:
    assert old in text, old
    return text.replace(old, new, count)


def only(errs, setting: str):
    found = [e for e in errs if e.setting == setting]
    assert found, f"no problem for {setting}: {[str(e) for e in errs]}"
    return found[0]


def test_example_file_is_valid_and_expands_cables():
    config = parse_depot_config(TEXT, SRC)
    p01 = config.granary("P01")
    cables = p01.cable_list()
    assert len(cables) == 78 and [c.cable for c in cables] == list(range(1, 79))
    assert (cables[13].row, cables[13].col, cables[13].x_m, cables[13].y_m) == (2, 1, 0.5, 5.1)
    assert config.scan_interval_s(p01) == 3600
    assert config.schedules.air_interval == 600
    assert config.buffer.max_age == 30 * 86400
    assert config.simulation["seed"] == 42
    unit = config.bus("tcp-1").units[0]
    assert unit.wiring()[:2] == [(1, 1), (2, 2)] and len(unit.wiring()) == 78


def test_layout_message_matches_the_file():
    config = parse_depot_config(TEXT, SRC)
    when = datetime(2026, 11, 22, 7, 59, tzinfo=UTC)
    layout = layout_message(config, when)
    assert layout.depot == "HN-0731-001" and layout.generated_at == when
    assert [g.granary for g in layout.granaries] == ["P01", "P02", "P03"]
    assert len(layout.granaries[0].cables) == 78 and layout.granaries[2].cables[1].x_m == 7.0
    assert layout.region.county == "430102"


def test_all_problems_reported_at_once_with_lines():
    bad = edit("code: HN-0731-001", "code: HN 0731")
    bad = edit("baud: 9600", "baud: 300", text=bad)
    bad = edit("parity: N", "parity: X", text=bad)
    bad = edit("air_interval: 10m", "air_interval: 10x", text=bad)
    errs = problems(bad)
    assert only(errs, "depot.code").line == line_of(bad, "code: HN 0731")
    assert only(errs, "buses[1].baud").line == line_of(bad, "baud: 300")
    assert "1200" in only(errs, "buses[1].baud").message
    assert only(errs, "buses[1].parity").line == line_of(bad, "parity: X")
    dur = only(errs, "schedules.air_interval")
    assert dur.line == line_of(bad, "air_interval: 10x") and "not a duration" in dur.message
    assert str(dur).startswith(f"{SRC}:{dur.line}: schedules.air_interval: ")
    assert [e.line for e in errs] == sorted(e.line for e in errs)


@pytest.mark.parametrize("value", ["1x", "ten minutes", "0s", "-5", "1h 30m", "true"])
def test_bad_durations(value):
    errs = problems(edit("status_interval: 1m", f"status_interval: {value}"))
    assert only(errs, "schedules.status_interval").line == line_of(TEXT, "status_interval: 1m")


def test_durations_parse():
    assert parse_duration("1h30m") == 5400 and parse_duration("30d") == 30 * 86400
    assert parse_duration(90) == 90 and parse_duration("0.5s") == 0.5
    assert format_duration(3600) == "1h" and format_duration(90) == "90s"


def test_unit_naming_an_unknown_granary():
    bad = edit("granary: P02\n        cables", "granary: P99\n        cables")
    p = only(problems(bad), "buses[1].units[0].granary")
    assert "P99" in p.message and p.line == line_of(bad, "granary: P99")


def test_duplicate_address_on_a_bus():
    bad = edit("- address: 3", "- address: 2")
    p = only(problems(bad), "buses[1].units[1].address")
    assert "already used" in p.message and p.line == line_of(bad, "- address: 2", 1)


def test_wire_cables_beyond_the_profile():
    bad = edit("cables: {first_wire_cable: 1, count: 2, first_cable: 1}",
               "cables: {first_wire_cable: 7, count: 3, first_cable: 1}")
    bad = edit("    cables:\n      - {cable: 1,", "    cables:\n      - {cable: 3, row: 2, col: 1, x_m: 3.0, y_m: 9.0, layers: 8}\n      - {cable: 1,", text=bad)
    p = only(problems(bad), "buses[1].units[1].cables.count")
    assert "silo8x8" in p.message and "8 cables" in p.message


def test_cable_numbers_beyond_the_granary():
    bad = edit("cables: {first_wire_cable: 1, count: 9, first_cable: 1}",
               "cables: {first_wire_cable: 1, count: 9, first_cable: 2}")
    p = only(problems(bad), "buses[1].units[0].cables.first_cable")
    assert "no cable 10" in p.message and "1-9" in p.message


def test_granary_cable_fed_twice():
    bad = edit("count: 2, first_cable: 1}", "count: 2, first_cable: 1}\n      - address: 4\n        profile: silo8x8\n        granary: P03\n        cables: {first_wire_cable: 1, count: 1, first_cable: 2}")
    p = only(problems(bad), "buses[1].units[2].cables.first_cable")
    assert "already fed by rs485-1/3" in p.message


def test_duplicate_cable_numbers_and_too_many_layers():
    bad = edit("{cable: 2, row: 1, col: 2, x_m: 7.0, y_m: 5.0, layers: 8}",
               "{cable: 1, row: 1, col: 2, x_m: 7.0, y_m: 5.0, layers: 9}")
    errs = problems(bad)
    assert "already used" in only(errs, "granaries[2].cables[1].cable").message
    assert "layer_depths_m lists only 8" in only(errs, "granaries[2].cables[1].layers").message


def test_unknown_profile_and_vendor_profiles():
    bad = edit("profile: silo8x8", "profile: acme16")
    p = only(problems(bad), "buses[1].units[1].profile")
    assert "acme16" in p.message and "profiles:" in p.message


def test_inline_password_is_refused():
    bad = edit("password_env: GRAINLINK_MQTT_PASSWORD", "password: hunter2")
    p = only(problems(bad), "broker.password")
    assert "password_env" in p.message and p.line == line_of(bad, "password: hunter2")
    assert "hunter2" not in p.message


def test_bad_serial_settings():
    bad = edit("stop_bits: 1", "stop_bits: 3")
    bad = edit("baud: 9600", "baud: 230400", text=bad)
    errs = problems(bad)
    assert only(errs, "buses[1].stop_bits").line == line_of(bad, "stop_bits: 3")
    assert "115200" in only(errs, "buses[1].baud").message


def test_codes_alphabet_and_duplicate_granary():
    bad = edit("- code: P02", "- code: P01")
    bad = edit("- code: P03", "- code: P/3", text=bad)
    errs = problems(bad)
    assert "already used" in only(errs, "granaries[1].code").message
    assert "not a valid code" in only(errs, "granaries[2].code").message


def test_unknown_setting_suggests_the_right_one():
    bad = edit("    baud: 9600", "    boud: 9600")
    p = only(problems(bad), "buses[1].boud")
    assert "did you mean 'baud'" in p.message


def test_setting_given_twice():
    bad = edit("  air_interval: 10m", "  air_interval: 10m\n  air_interval: 5m")
    p = only(problems(bad), "schedules.air_interval")
    assert "twice" in p.message and p.line == line_of(bad, "air_interval: 5m")


def test_yaml_syntax_error_names_the_line():
    bad = edit("  status_interval: 1m", "  status_interval: [1m")
    errs = problems(bad)
    assert len(errs) == 1 and "not valid YAML" in errs[0].message and errs[0].line is not None


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "depot: 1\n"])
def test_empty_or_wrong_shape(text):
    assert problems(text)


def test_missing_required_settings():
    errs = problems("depot: {code: X1, name: x, region: {province: '430000', city: '430100', county: '430102'}}\n"
                    "granaries:\n  - {code: P1, name: a, type: flat}\n")
    settings = {e.setting for e in errs}
    assert {"granaries[0].length_m", "granaries[0].grain", "granaries[0].storage_mode"} <= settings
    assert all(e.line == 3 for e in errs if e.setting.startswith("granaries[0]"))


def test_air_sources_are_cross_checked():
    bad = edit("{place: indoor, granary: P02, source: unit, bus: rs485-1, address: 2}",
               "{place: indoor, granary: P01, source: unit, bus: rs485-1, address: 9}")
    errs = problems(bad)
    assert "no unit at address 9" in only(errs, "air[1].address").message
    assert "already comes from tcp-1/1" in only(errs, "air[1].place").message


def test_edge_config_environment(tmp_path, monkeypatch):
    path = tmp_path / "depot.yaml"
    path.write_text(TEXT, encoding="utf-8")
    with pytest.raises(ConfigErrors) as info:
        load_config(path, environ={})
    p = info.value.errors[0]
    assert p.setting == "broker.password_env" and p.line == line_of(TEXT, "password_env:")
    cfg = load_config(path, environ={"GRAINLINK_MQTT_PASSWORD": "s3", "GRAINLINK_MQTT_URL": "mqtt://10.0.0.9:1999"})
    assert (cfg.broker.host, cfg.broker.port, cfg.broker.password) == ("10.0.0.9", 1999, "s3")
    assert cfg.broker.client_id == "grainlink-edge-HN-0731-001"
    assert cfg.state_dir == tmp_path / "var" / "edge-HN-0731-001"
    assert cfg.warnings and "ttyRS485-1" in cfg.warnings[0]


def test_edge_config_password_file_and_tls(tmp_path):
    (tmp_path / "pass").write_text("pw\n")
    text = edit("password_env: GRAINLINK_MQTT_PASSWORD", "password_file: pass")
    cfg = config_from_text(text, str(tmp_path / "d.yaml"), environ={})
    assert cfg.broker.password == "pw"
    text = edit("ca_file: null", "ca_file: missing-ca.pem", text=text)
    with pytest.raises(ConfigErrors) as info:
        config_from_text(text, str(tmp_path / "d.yaml"), environ={})
    assert info.value.errors[0].setting == "broker.tls.ca_file"


def test_resolve_path():
    assert resolve_path("/etc/grainlink/depot.yaml", "./var/x") == "/etc/grainlink/var/x"
    assert resolve_path("/etc/grainlink/depot.yaml", "/dev/ttyUSB0") == "/dev/ttyUSB0"
