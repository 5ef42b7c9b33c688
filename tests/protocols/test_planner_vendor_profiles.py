"""Vendor profiles as files beside the depot file: loading (a file, a list, a folder), errors
named by file, line and setting, the exact frames the planner chooses for one, and the listing
`grainlink protocols profiles` prints."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from protocols.depot import ConfigErrors, parse_depot_config
from protocols.modbus import codec
from protocols.modbus.planner import plan_cable_reads, plan_header_reads
from protocols.modbus.profiles import parse_profile, read_profiles_yaml
from protocols.modbus.wire import minimal_scan_frames

ROOT = Path(__file__).resolve().parents[2]
DEPOT = (ROOT / "examples" / "depot.yaml").read_text(encoding="utf-8")
UMT8 = (ROOT / "examples" / "umt8.yaml").read_text(encoding="utf-8")


def depot_with(folder: Path, profiles_line: str) -> Path:
    text = DEPOT.replace("\ngranaries:\n", f"\n{profiles_line}\ngranaries:\n", 1)
    text = text.replace("profile: silo8x8", "profile: umt8", 1)
    assert "profile: umt8" in text and profiles_line in text
    path = folder / "depot.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def load(path: Path):
    return parse_depot_config(path.read_text(encoding="utf-8"), str(path))


def test_a_profile_file_beside_the_depot_file(tmp_path):
    shutil.copy(ROOT / "examples" / "umt8.yaml", tmp_path / "umt8.yaml")
    config = load(depot_with(tmp_path, "profiles: [./umt8.yaml]"))
    umt8 = config.profile("umt8")
    assert umt8.function_code == 4 and umt8.sensors_per_cable_register == 2
    assert umt8.sentinel_fault == (0xF4F4, 0xFFFF)
    assert config.profile_sources == {"umt8": str(tmp_path / "umt8.yaml")}


def test_a_folder_of_profile_files(tmp_path):
    (tmp_path / "profiles").mkdir()
    shutil.copy(ROOT / "examples" / "umt8.yaml", tmp_path / "profiles" / "umt8.yaml")
    (tmp_path / "profiles" / "more.yml").write_text(
        "acme4:\n  temp_base: 0\n  stride: 4\n  cable_count: 2\n", encoding="utf-8")
    (tmp_path / "profiles" / "README.txt").write_text("not a profile", encoding="utf-8")
    config = load(depot_with(tmp_path, "profiles: ./profiles"))
    assert set(config.vendor_profiles) == {"umt8", "acme4"}


def test_errors_in_a_profile_file_name_the_file_line_and_setting(tmp_path):
    bad = UMT8.replace("scale: 0.0625 ", "scale: -1     ").replace("max_cables: 12", "max_cables: many")
    (tmp_path / "umt8.yaml").write_text(bad, encoding="utf-8")
    with pytest.raises(ConfigErrors) as info:
        load(depot_with(tmp_path, "profiles: [./umt8.yaml]"))
    file = str(tmp_path / "umt8.yaml")
    lines = bad.splitlines()
    found = {(e.file, e.line, e.setting) for e in info.value.errors}
    assert (file, lines.index(next(x for x in lines if x.startswith("scale:"))) + 1, "profile.scale") in found
    assert (file, lines.index("max_cables: many") + 1, "profile.max_cables") in found
    # the unit that uses the broken profile is not also told the profile is unknown
    assert not any("未知的寄存器配置" in e.message for e in info.value.errors)


def test_a_missing_file_a_builtin_name_and_a_profile_defined_twice(tmp_path):
    with pytest.raises(ConfigErrors) as info:
        load(depot_with(tmp_path, "profiles: [./nope.yaml]"))
    [err] = [e for e in info.value.errors if e.setting.startswith("profiles")]
    assert err.file.endswith("depot.yaml") and "nope.yaml" in err.message and err.line
    (tmp_path / "a.yaml").write_text(UMT8, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(UMT8.replace("name: umt8", "name: lst1812"), encoding="utf-8")
    (tmp_path / "c.yaml").write_text(UMT8, encoding="utf-8")
    with pytest.raises(ConfigErrors) as info:
        load(depot_with(tmp_path, "profiles: [./a.yaml, ./b.yaml, ./c.yaml]"))
    messages = {(Path(e.file).name, e.message) for e in info.value.errors}
    assert ("b.yaml", "'lst1812' 是内置寄存器配置：请给你的配置另起名字") in messages
    assert any(f == "c.yaml" and "定义了两次" in m for f, m in messages)


def test_planner_frames_of_the_vendor_profile():
    profiles, problems, _ = read_profiles_yaml(UMT8, "umt8.yaml")
    assert not problems
    umt8 = profiles["umt8"]
    state = codec.UnitState(temps=[[20.0] * 10] * 12, indoor=(18.0, 50.0))
    regs = codec.encode_unit(umt8, state)
    [first] = plan_header_reads(umt8, cable_count_hint=12, with_layout=True)
    assert (first.function_code, first.address, first.count) == (4, 1, 9)  # count register 2 inside
    header = codec.decode_header(umt8, {a: regs[a] for a in range(1, 10)})
    assert header.sensors_per_cable == [10] * 12 and header.cable_count == 12 and header.stride == 16
    # 10 of 16 slots per cable: the 6-register gaps are read through, two frames in all
    assert [(r.address, r.count) for r in plan_cable_reads(umt8, header, range(1, 13))] == [(40, 122), (168, 58)]
    assert minimal_scan_frames(umt8, 12, 16) == [9, 125, 67]


def test_an_error_code_inside_the_valid_range_is_a_fault():
    profile = parse_profile({"name": "x", "temp_base": 0, "stride": 1, "cable_count": 1,
                             "scale": 0.0625, "sentinel_fault": -1})
    assert profile.sentinel_fault == (0xFFFF,)
    assert codec.decode_temp(profile, 0xFFFF) == (None, True)  # -0.0625 °C would be valid
    assert codec.decode_temp(profile, 0xFFFE) == (-0.12, False)


def test_cli_lists_builtin_and_loaded_profiles_with_their_settings(tmp_path):
    shutil.copy(ROOT / "examples" / "umt8.yaml", tmp_path / "umt8.yaml")
    path = depot_with(tmp_path, "profiles: [./umt8.yaml]")
    out = subprocess.run([sys.executable, "-m", "grainlink", "protocols", "profiles", "--config", str(path)],
                         capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    rows = {line.split("\t")[0]: line.split("\t") for line in out.stdout.splitlines()}
    assert set(rows) == {"lst1812", "th485", "silo8x8", "umt8"}
    assert rows["lst1812"][1] == "内置" and "sensors_register_base=16" in rows["lst1812"][2]
    assert rows["umt8"][1] == str(tmp_path / "umt8.yaml")
    assert "sensors_per_cable_register=2" in rows["umt8"][2] and "0xFFFF" in rows["umt8"][2]
    (tmp_path / "bad.yaml").write_text("umt9:\n  temp_base: 40\n  stride: 99\n  cable_count: 2\n", encoding="utf-8")
    bad = subprocess.run([sys.executable, "-m", "grainlink", "protocols", "profiles", str(tmp_path / "bad.yaml")],
                         capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert bad.returncode == 1 and f"{tmp_path / 'bad.yaml'}:3: profiles.umt9.stride:" in bad.stderr
