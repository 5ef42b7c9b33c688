"""The read planner: the exact frames of the lst1812 profile, fewest reads of ≤ 125 registers
and least-cost plans checked against brute force, and the contract's wire timing figures."""

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocols.modbus.codec import UnitState, decode_header, encode_unit
from protocols.modbus.planner import (
    FRAME_COST_REGISTERS,
    plan_addresses,
    plan_cable_reads,
    plan_cheapest,
    plan_header_reads,
)
from protocols.modbus.profiles import LST1812, SILO8X8
from protocols.modbus.wire import char_bits, minimal_scan_frames, read_wire_time_s, silent_time_s


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


def test_312_point_granary_first_read_is_header_with_sensor_counts_then_three_blocks():
    state = UnitState(temps=[[10.0] * 4] * 78, indoor=(17.0, 60.0), outdoor=(10.0, 70.0))
    regs = encode_unit(LST1812, state)
    [header_read] = plan_header_reads(LST1812, cable_count_hint=78, with_layout=True)
    assert (header_read.address, header_read.count) == (0, 16 + 78)
    header = decode_header(LST1812, {a: regs[a] for a in range(0, 94)})
    assert header.sensors_per_cable == [4] * 78
    blocks = plan_cable_reads(LST1812, header, range(1, 79))
    assert [(r.address, r.count) for r in blocks] == [(100, 125), (225, 125), (350, 62)]


def test_312_point_granary_steady_scan_is_the_minimal_four_frames():
    """Layout known: the header alone (no sensor counts, nothing from 12 … 99), then the
    temperatures: exactly the frames the profile needs, 324 registers."""
    state = UnitState(temps=[[10.0] * 4] * 78)
    header = decode_header(LST1812, encode_unit(LST1812, state))
    plan = plan_header_reads(LST1812) + plan_cable_reads(LST1812, header, range(1, 79))
    assert [(r.address, r.count) for r in plan] == [(0, 12), (100, 125), (225, 125), (350, 62)]
    assert [r.count for r in plan] == minimal_scan_frames(LST1812, 78, 4)


def test_a_subset_of_cables_reads_only_their_slots():
    header = decode_header(LST1812, encode_unit(LST1812, UnitState(temps=[[1.0] * 4] * 78)))
    [read] = plan_cable_reads(LST1812, header, [40])
    assert (read.address, read.count) == (100 + 39 * 4, 4)


def test_only_present_sensors_are_read_and_wide_gaps_are_skipped():
    # stride 8, 3 sensors: a 5-register gap is cheaper to read through than a new frame
    narrow = decode_header(LST1812, encode_unit(LST1812, UnitState(temps=[[1.0] * 3] * 10, stride=8)))
    assert [(r.address, r.count) for r in plan_cable_reads(LST1812, narrow, range(1, 11))] == [(100, 75)]
    # stride 32, 2 sensors: a 30-register gap costs more than a frame: one frame per cable
    wide = decode_header(LST1812, encode_unit(LST1812, UnitState(temps=[[1.0] * 2] * 3, stride=32)))
    assert [(r.address, r.count) for r in plan_cable_reads(LST1812, wide, [1, 2, 3])] == \
        [(100, 2), (132, 2), (164, 2)]


def test_without_known_counts_the_cable_reads_bring_them():
    [header_read] = plan_header_reads(LST1812)
    assert (header_read.address, header_read.count) == (0, 12)
    regs = encode_unit(LST1812, UnitState(temps=[[1.0] * 2] * 3))
    header = decode_header(LST1812, {a: regs[a] for a in range(0, 12)})
    assert header.sensors_per_cable == []
    plan = plan_cable_reads(LST1812, header, [1, 2, 3])
    covered = {a for r in plan for a in range(r.address, r.address + r.count)}
    assert {16, 17, 18, *range(100, 106)} <= covered


def cheapest_cost_brute_force(addresses, width):
    """The least cost of covering sorted addresses with frames, over every split into runs."""
    a = sorted(set(addresses))
    best = None
    for cuts in itertools.product([False, True], repeat=len(a) - 1):
        runs, start = [], 0
        for i, cut in enumerate(cuts, start=1):
            if cut:
                runs.append(a[start:i])
                start = i
        runs.append(a[start:])
        if any(r[-1] - r[0] >= width for r in runs):
            continue
        cost = sum(FRAME_COST_REGISTERS + r[-1] - r[0] + 1 for r in runs)
        best = cost if best is None else min(best, cost)
    return best


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(0, 120), min_size=1, max_size=9), st.integers(1, 60))
def test_cheapest_plan_costs_what_brute_force_finds(addresses, width):
    plan = plan_cheapest(addresses, 3, max_count=width)
    covered = {a for r in plan for a in range(r.address, r.address + r.count)}
    assert set(addresses) <= covered
    assert all(1 <= r.count <= width for r in plan)
    cost = sum(FRAME_COST_REGISTERS + r.count for r in plan)
    assert cost == cheapest_cost_brute_force(addresses, width)


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
