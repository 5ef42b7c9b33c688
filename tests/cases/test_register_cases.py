"""Register dumps as data: each folder of `registers/` holds `registers.yaml` (a profile and the
unit's registers, as a poll would read them) and `expected.yaml` (what the codec decodes from
them, or the error it raises); a vendor profile comes with its `profile.yaml`.

When `registers.yaml` also gives the `state` the registers hold, the simulators' encoder must
write exactly those registers. `GRAINLINK_TEST_WRITE_CASES=1` writes what the codec decodes now
into a case that has no `expected.yaml` yet (read it before keeping it).
"""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
import yaml

from protocols.modbus.codec import (
    DecodeError,
    UnitState,
    decode_thrh,
    decode_unit,
    encode_thrh,
    encode_unit,
)
from protocols.modbus.profile import RegisterProfile
from protocols.modbus.profiles import get_profile, load_profiles_yaml

CASES = Path(__file__).resolve().parent / "registers"


def case_dirs() -> list[Path]:
    return sorted(p for p in CASES.iterdir() if p.is_dir())  # a folder without its input fails


def profile_of(case: Path, name: str) -> RegisterProfile:
    vendor = case / "profile.yaml"
    extra = load_profiles_yaml(vendor.read_text(encoding="utf-8"), "profile.yaml") if vendor.exists() else None
    return get_profile(name, extra=extra)


def registers_of(rows: dict[int, int | list[int]]) -> dict[int, int]:
    """`address: value`, or `address: [values]` for the registers from that address on."""
    regs: dict[int, int] = {}
    for address, value in rows.items():
        for offset, one in enumerate(value if isinstance(value, list) else [value]):
            assert address + offset not in regs, f"register {address + offset} given twice"
            regs[address + offset] = one
    return regs


def decoded(profile: RegisterProfile, regs: dict[int, int], spec: dict[str, Any]) -> dict[str, Any]:
    try:
        if profile.kind == "thrh":
            return asdict(decode_thrh(profile, regs))
        previous = {tuple(int(n) for n in key.split("/")): value
                    for key, value in (spec.get("previous") or {}).items()}
        return asdict(decode_unit(profile, regs, cables=spec.get("cables"), previous=previous))
    except DecodeError as exc:
        return {"error": str(exc)}


def encoded(profile: RegisterProfile, state: dict[str, Any]) -> dict[int, int]:
    if profile.kind == "thrh":
        return encode_thrh(profile, state["temp_c"], state["rh_pct"])
    air = {place: tuple(state[place]) for place in ("indoor", "outdoor") if state.get(place) is not None}
    return encode_unit(profile, UnitState(**{**state, **air}))


@pytest.mark.parametrize("case", case_dirs(), ids=lambda p: p.name)
def test_register_case(case: Path):
    spec = yaml.safe_load((case / "registers.yaml").read_text(encoding="utf-8"))
    profile = profile_of(case, spec["profile"])
    regs = registers_of(spec["registers"])
    got = decoded(profile, regs, spec)
    expected_file = case / "expected.yaml"
    if not expected_file.exists() and os.environ.get("GRAINLINK_TEST_WRITE_CASES") == "1":
        expected_file.write_text(yaml.safe_dump(got, sort_keys=False, default_flow_style=None, allow_unicode=True),
                                 encoding="utf-8")
    assert got == yaml.safe_load(expected_file.read_text(encoding="utf-8"))
    if "state" in spec:
        assert encoded(profile, spec["state"]) == regs
