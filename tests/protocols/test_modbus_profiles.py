"""Register profiles: the built-ins and vendor profiles written in YAML."""

import pytest

from protocols.modbus.profile import ProfileError
from protocols.modbus.profiles import (
    BUILTIN_PROFILES,
    get_profile,
    load_profiles_yaml,
    parse_profile,
)

VENDOR = """\
acme16:
  function_code: 4
  temp_base: 200
  stride: 16
  cable_count_register: 1
  sensors_per_cable: 12
  scale: 0.01
  sentinel_absent: 0xFFFF
  sentinel_fault: [0xFFFE, 0xFFFD]
  sentinel_not_ready: null
  indoor_temp_register: 10
  indoor_rh_register: 11
"""


def test_builtins_are_there():
    assert set(BUILTIN_PROFILES) == {"lst1812", "th485", "silo8x8"}
    assert get_profile("lst1812").temp_base == 100


def test_vendor_profile_from_yaml_without_code():
    [(name, profile)] = load_profiles_yaml(VENDOR, "depot.yaml").items()
    assert name == "acme16" and profile.function_code == 4 and profile.sentinel_fault == (0xFFFE, 0xFFFD)
    assert get_profile("acme16", extra={"acme16": profile}) is profile


def test_yaml_errors_name_file_line_and_setting():
    bad = VENDOR.replace("function_code: 4", "function_code: 5").replace("scale: 0.01", "scale: -1")
    with pytest.raises(ProfileError) as err:
        load_profiles_yaml(bad, "depot.yaml")
    text = str(err.value)
    assert "depot.yaml:2: profiles.acme16.function_code" in text
    assert "depot.yaml:7: profiles.acme16.scale" in text


def test_incomplete_profiles_are_refused_with_the_reason():
    with pytest.raises(ProfileError, match="stride"):
        parse_profile({"name": "x", "temp_base": 0, "cable_count": 2})
    with pytest.raises(ProfileError, match="rh_register"):
        parse_profile({"name": "x", "kind": "thrh", "temp_register": 1})
    with pytest.raises(ProfileError, match="未知的寄存器配置 'nope'"):
        get_profile("nope")
    with pytest.raises(ProfileError, match="colour"):
        parse_profile({"name": "x", "temp_base": 0, "stride": 2, "cable_count": 2, "colour": "red"})
