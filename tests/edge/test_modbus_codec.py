"""The edge's own Modbus frame codec (edge/modbus/frames.py), checked directly against two
independent peers: pymodbus's framers and PDUs (what the TCP simulator serves with) and the
RTU simulator's slave-side frames (simulators/modbus/rtu_frame.py)."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pymodbus.framer import FramerRTU, FramerSocket
from pymodbus.pdu import DecodePDU, ExceptionResponse
from pymodbus.pdu.register_message import (
    ReadHoldingRegistersResponse,
    ReadInputRegistersResponse,
    WriteSingleRegisterResponse,
)

from edge.modbus import frames
from edge.modbus.frames import FrameError
from protocols.modbus.crc import crc16, crc_ok
from simulators.modbus import rtu_frame

units = st.integers(1, 247)
functions = st.sampled_from([frames.READ_HOLDING, frames.READ_INPUT])
u16 = st.integers(0, 0xFFFF)
registers = st.lists(u16, min_size=1, max_size=125)

RESPONSES = {3: ReadHoldingRegistersResponse, 4: ReadInputRegistersResponse}


def pymodbus_rtu_reply(unit, function, regs):
    return FramerRTU(DecodePDU(False)).buildFrame(RESPONSES[function](registers=regs, dev_id=unit))


def pymodbus_tcp_reply(unit, function, regs, tid):
    return FramerSocket(DecodePDU(False)).buildFrame(
        RESPONSES[function](registers=regs, dev_id=unit, transaction_id=tid))


def test_crc_of_the_textbook_frame():
    # Modbus over serial line V1.02: read 10 holding registers of slave 1 is 01 03 00 00 00 0A C5 CD
    request = frames.read_request(1, 3, 0, 10)
    assert frames.rtu_frame(request).hex(" ") == "01 03 00 00 00 0a c5 cd"


@given(st.binary(max_size=300))
def test_crc_agrees_with_pymodbus(data):
    assert struct.pack("<H", crc16(data)) == struct.pack(">H", FramerRTU.compute_CRC(data))


@given(units, functions, u16, st.integers(1, 125))
def test_rtu_read_request_is_what_a_slave_parses(unit, function, start, count):
    frame = frames.rtu_frame(frames.read_request(unit, function, start, count))
    assert crc_ok(frame) and rtu_frame.expected_length(frame) == len(frame) == 8
    assert rtu_frame.parse_request(frame) == rtu_frame.Request(unit, function, start, count)
    used, pdu = FramerRTU(DecodePDU(True)).handleFrame(frame, 0, 0)
    assert used == 8 and (pdu.dev_id, pdu.function_code, pdu.address, pdu.count) == (unit, function, start, count)


@given(units, u16, u16)
def test_rtu_write_request_is_what_a_slave_parses(unit, register, value):
    frame = frames.rtu_frame(frames.write_request(unit, register, value))
    assert rtu_frame.parse_request(frame) == rtu_frame.Request(unit, 6, register, 1, (value,))
    reply = rtu_frame.write_single_reply(unit, register, value)
    assert frames.decode_rtu_reply(frames.write_request(unit, register, value), reply) == [value]


@given(units, functions, u16, registers)
def test_rtu_replies_of_both_peers_decode_to_their_registers(unit, function, start, regs):
    request = frames.read_request(unit, function, start, len(regs))
    for reply in (pymodbus_rtu_reply(unit, function, regs), rtu_frame.read_reply(unit, function, regs)):
        assert frames.rtu_needed(request, reply[:3]) == len(reply) == frames.rtu_reply_bytes(request)
        assert frames.decode_rtu_reply(request, reply) == regs


@given(units, functions, registers, st.data())
def test_a_reply_cut_short_is_partial_and_never_read(unit, function, regs, data):
    request = frames.read_request(unit, function, 0, len(regs))
    reply = rtu_frame.read_reply(unit, function, regs)
    cut = data.draw(st.integers(0, len(reply) - 1))
    assert frames.rtu_needed(request, reply[:cut]) == len(reply)  # a transport keeps waiting
    with pytest.raises(FrameError) as failure:
        frames.decode_rtu_reply(request, reply[:cut])
    assert failure.value.kind == "partial"


@given(units, functions, registers, st.data())
def test_any_single_bit_error_is_caught(unit, function, regs, data):
    request = frames.read_request(unit, function, 0, len(regs))
    reply = bytearray(rtu_frame.read_reply(unit, function, regs))
    bit = data.draw(st.integers(0, 8 * len(reply) - 1))
    reply[bit // 8] ^= 1 << (bit % 8)
    # a flipped byte count may ask for more bytes than came: then the frame is short
    with pytest.raises(FrameError) as failure:
        frames.decode_rtu_reply(request, bytes(reply))
    assert failure.value.kind in ("crc", "partial")
    if frames.rtu_needed(request, bytes(reply)) == len(reply):
        assert failure.value.kind == "crc"


@given(units, functions, st.integers(1, 11))
def test_exception_replies_carry_their_code(unit, function, code):
    request = frames.read_request(unit, function, 0, 10)
    ours = rtu_frame.exception_reply(unit, function, code)
    theirs = FramerRTU(DecodePDU(False)).buildFrame(ExceptionResponse(function, code, device_id=unit))
    assert ours == theirs
    assert frames.rtu_needed(request, ours[:2]) == 5
    with pytest.raises(FrameError) as failure:
        frames.decode_rtu_reply(request, ours)
    assert (failure.value.kind, failure.value.code) == ("exception", code)


def test_a_valid_frame_that_does_not_answer_the_request_is_partial():
    request = frames.read_request(2, 3, 0, 2)
    cases = {
        "another slave": rtu_frame.read_reply(3, 3, [1, 2]),
        "another function": rtu_frame.read_reply(2, 4, [1, 2]),
        "fewer registers": rtu_frame.read_reply(2, 3, [1]),
        "another exception": rtu_frame.exception_reply(2, 6, 2),
    }
    for what, reply in cases.items():
        with pytest.raises(FrameError) as failure:
            frames.decode_rtu_reply(request, reply)
        assert failure.value.kind == "partial", what


def test_requests_outside_modbus_are_refused():
    for bad in [(0, 3, 0, 126), (1, 3, 0, 0), (1, 5, 0, 1), (256, 3, 0, 1), (1, 3, 0x10000, 1)]:
        with pytest.raises(ValueError):
            frames.Request(*bad)


# --- Modbus TCP --------------------------------------------------------------------------------

@given(units, functions, u16, st.integers(1, 125), u16)
def test_mbap_request_is_what_pymodbus_serves(unit, function, start, count, tid):
    frame = frames.mbap_frame(frames.read_request(unit, function, start, count), tid)
    used, pdu = FramerSocket(DecodePDU(True)).handleFrame(frame, 0, 0)
    assert used == len(frame) == frames.mbap_needed(frame[:6])
    assert (pdu.transaction_id, pdu.dev_id, pdu.function_code, pdu.address, pdu.count) == \
        (tid, unit, function, start, count)


@given(units, functions, registers, u16)
def test_mbap_replies_decode_to_their_registers(unit, function, regs, tid):
    request = frames.read_request(unit, function, 0, len(regs))
    reply = pymodbus_tcp_reply(unit, function, regs, tid)
    assert frames.mbap_needed(reply[:6]) == len(reply) and frames.mbap_transaction(reply) == tid
    assert frames.decode_mbap_reply(request, tid, reply) == regs


def test_mbap_validation():
    request = frames.read_request(9, 4, 0, 3)
    good = pymodbus_tcp_reply(9, 4, [1, 2, 3], 41)
    assert frames.decode_mbap_reply(request, 41, good) == [1, 2, 3]
    bad = {
        "transaction": (42, good),
        "protocol": (41, good[:2] + b"\x00\x01" + good[4:]),
        "unit": (41, pymodbus_tcp_reply(8, 4, [1, 2, 3], 41)),
        "length": (41, good[:-1]),
        "byte count": (41, pymodbus_tcp_reply(9, 4, [1, 2], 41)),
    }
    for what, (tid, reply) in bad.items():
        with pytest.raises(FrameError) as failure:
            frames.decode_mbap_reply(request, tid, reply)
        assert failure.value.kind == "partial", what
    exception = FramerSocket(DecodePDU(False)).buildFrame(ExceptionResponse(4, 2, device_id=9, transaction=41))
    with pytest.raises(FrameError) as failure:
        frames.decode_mbap_reply(request, 41, exception)
    assert (failure.value.kind, failure.value.code) == ("exception", 2)


def test_write_single_register_over_tcp_expects_the_echo():
    request = frames.write_request(1, 6, 1)
    echo = FramerSocket(DecodePDU(False)).buildFrame(
        WriteSingleRegisterResponse(address=6, registers=[1], dev_id=1, transaction_id=3))
    assert frames.decode_mbap_reply(request, 3, echo) == [1]
    wrong = FramerSocket(DecodePDU(False)).buildFrame(
        WriteSingleRegisterResponse(address=6, registers=[2], dev_id=1, transaction_id=3))
    with pytest.raises(FrameError):
        frames.decode_mbap_reply(request, 3, wrong)
