"""The read planner: fewest reads of ≤ 125 registers, checked against brute force, and the
contract's wire timing figures."""

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocols.modbus.codec import UnitState, decode_header, encode_unit
from protocols.modbus.planner import plan_addresses, plan_cable_reads, plan_header_reads
from protocols.modbus.profiles import LST1812, SILO8X8
from protocols.modbus.wire import char_bits, read_wire_time_s, silent_time_s


def brute_force_minimum(addresses, width):
    """The fewest windows of `width` covering the addresses, by trying every window count."""
    addresses = sorted(set(addresses))
    starts = sorted({a - k for a in addresses for k in range(width)})
    for n in range(1, len(addresses) + 1):
        for combo in itertools.combinations(starts, n):
            if all(any(s <= a < s + width for s in combo) for a in addresses):
                return n
    return 0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 40), min_size=1, max_size=9), st.integers(1, 7))
def test_greedy_plan_is_as_small_as_brute_force(addresses, width):
    plan = plan_addresses(addresses, 3, max_count=width)
    covered = {a for r in plan for a in range(r.address, r.address + r.count)}
    assert set(addresses) <= covered
    assert all(r.count <= width for r in plan)
    assert len(plan) == brute_force_minimum(addresses, width)


def test_no_read_exceeds_125_registers_on_odd_layouts():
    for cables, stride in [(1, 1), (3, 32), (61, 7), (84, 32), (17, 13)]:
        header = decode_header(LST1812, encode_unit(LST1812, UnitState(temps=[[1.0] * stride] * cables)))
        plan = plan_cable_reads(LST1812, header, range(1, cables + 1))
        assert all(1 <= r.count <= 125 for r in plan)
        assert len(plan) == -(-cables * stride // 125)  # the block is contiguous: ceil(n / 125)


def test_312_point_granary_is_one_header_read_and_three_block_reads():
    state = UnitState(temps=[[10.0] * 4] * 78, indoor=(17.0, 60.0), outdoor=(10.0, 70.0))
    regs = encode_unit(LST1812, state)
    [header_read] = plan_header_reads(LST1812, cable_count_hint=78)
    assert (header_read.address, header_read.count) == (0, 16 + 78)
    header = decode_header(LST1812, {a: regs[a] for a in range(0, 94)})
    assert header.sensors_per_cable == [4] * 78
    blocks = plan_cable_reads(LST1812, header, range(1, 79))
    assert [(r.address, r.count) for r in blocks] == [(100, 125), (225, 125), (350, 62)]


def test_a_subset_of_cables_reads_only_their_slots():
    header = decode_header(LST1812, encode_unit(LST1812, UnitState(temps=[[1.0] * 4] * 78)))
    [read] = plan_cable_reads(LST1812, header, [40])
    assert (read.address, read.count) == (100 + 39 * 4, 4)


def test_without_a_hint_the_sensor_counts_come_with_the_cable_reads():
    [header_read] = plan_header_reads(LST1812)
    assert (header_read.address, header_read.count) == (0, 12)
    regs = encode_unit(LST1812, UnitState(temps=[[1.0] * 2] * 3))
    header = decode_header(LST1812, {a: regs[a] for a in range(0, 12)})
    assert header.sensors_per_cable == []
    [read] = plan_cable_reads(LST1812, header, [1, 2, 3])
    assert (read.address, read.count) == (16, 100 - 16 + 6)


def test_silo8x8_is_one_read():
    header = decode_header(SILO8X8, {})
    assert [(r.address, r.count) for r in plan_cable_reads(SILO8X8, header, range(1, 9))] == [(22, 64)]


def test_wire_timing_matches_the_contract():
    assert char_bits("N", 1) == 10 and char_bits("E", 1) == 11 and char_bits("N", 2) == 11
    assert silent_time_s(9600) == pytest.approx(0.003646, abs=1e-5)
    # 125 registers: 8-byte request, 255-byte reply = 263 characters ≈ 0.274 s, plus the gaps
    assert read_wire_time_s(125, 9600) == pytest.approx(263 * 10 / 9600 + 2 * 0.0036458, rel=1e-4)
    assert abs(263 * 10 / 9600 - 0.274) < 0.001
    assert read_wire_time_s(125, 19200, "E") == pytest.approx((263 + 7) * 11 / 19200)
