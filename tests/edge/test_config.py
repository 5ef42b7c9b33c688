"""The depot file: the example parsed into the model, the edge settings read around it.

Every kind of mistake in a depot file, with the exact problem lines, is a case folder in
tests/cases/depot/."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from edge.config import config_from_text, load_config
from edge.uplink.broker import client_id_for
from protocols.depot import ConfigErrors, layout_message, parse_depot_config, resolve_path
from protocols.depot.durations import format_duration, parse_duration

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "depot.yaml"
TEXT = EXAMPLE.read_text(encoding="utf-8")
SRC = "depot.yaml"


def line_of(text: str, needle: str, nth: int = 0) -> int:
    lines = [i + 1 for i, line in enumerate(text.splitlines()) if needle in line]
    return lines[nth]


def edit(old: str, new: str, count: int = 1, text: str = TEXT) -> str:
    assert old in text, old
    return text.replace(old, new, count)


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


def test_durations_parse():
    assert parse_duration("1h30m") == 5400 and parse_duration("30d") == 30 * 86400
    assert parse_duration(90) == 90 and parse_duration("0.5s") == 0.5
    assert format_duration(3600) == "1h" and format_duration(90) == "90s"


def test_edge_config_environment(tmp_path, monkeypatch):
    path = tmp_path / "depot.yaml"
    path.write_text(TEXT, encoding="utf-8")
    with pytest.raises(ConfigErrors) as info:
        load_config(path, environ={})
    p = info.value.errors[0]
    assert p.setting == "broker.password_env" and p.line == line_of(TEXT, "password_env:")
    cfg = load_config(path, environ={"GRAINLINK_MQTT_PASSWORD": "s3", "GRAINLINK_MQTT_URL": "mqtt://10.0.0.9:1999"})
    assert (cfg.broker.host, cfg.broker.port, cfg.broker.password) == ("10.0.0.9", 1999, "s3")
    assert client_id_for(cfg.broker, cfg.code) == "grainlink-edge-HN-0731-001"
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
