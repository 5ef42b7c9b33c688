"""The simulated sub-unit's scan age register is as coarse as a real controller's (whole
seconds rounded down, or coarser steps), and its register map follows every change."""

from __future__ import annotations

from types import SimpleNamespace

from protocols.modbus.profiles import LST1812
from simulators.modbus.subunit import SubUnit

WORLD = SimpleNamespace(now_t=lambda: 0.0, scenarios=SimpleNamespace(all=lambda: []))


def test_scan_age_is_whole_seconds_rounded_down_or_coarser():
    now = [100.0]
    unit = SubUnit(WORLD, "rs", 1, LST1812, None, [], scan_every_s=0, monotonic=lambda: now[0])
    coarse = SubUnit(WORLD, "rs", 2, LST1812, None, [], scan_every_s=0, scan_age_step_s=10,
                     monotonic=lambda: now[0])
    now[0] = 101.999
    assert unit.state().scan_age_s == 1
    assert coarse.state().scan_age_s == 0
    now[0] = 119.5
    assert unit.state().scan_age_s == 19 and coarse.state().scan_age_s == 10


def test_register_map_follows_the_age_and_a_new_scan():
    now = [50.0]
    unit = SubUnit(WORLD, "rs", 1, LST1812, None, [], scan_every_s=0, monotonic=lambda: now[0])
    first = unit.registers()
    now[0] = 50.4
    assert unit.registers() is first  # nothing moved: the same map, not encoded again
    now[0] = 51.0
    assert unit.registers()[5] == 1  # scan age register
    counter = unit.registers()[4]
    unit.scan_now()
    regs = unit.registers()
    assert regs[4] == counter + 1 and regs[5] == 0
