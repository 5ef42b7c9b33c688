"""Modbus RTU frames, slave side: request parsing, replies (the CRC-16 is protocols.modbus.crc). Pure."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from protocols.modbus.crc import with_crc

READ_HOLDING, READ_INPUT, WRITE_SINGLE, WRITE_MULTIPLE = 3, 4, 6, 16
ILLEGAL_FUNCTION, ILLEGAL_ADDRESS, ILLEGAL_VALUE, DEVICE_FAILURE = 1, 2, 3, 4


@dataclass(frozen=True)
class Request:
    address: int
    function: int
    start: int = 0
    count: int = 0          # registers to read (FC3/4) or written (FC16)
    values: tuple[int, ...] = ()


def expected_length(buffer: bytes) -> int | None:
    """Bytes the request at the head of `buffer` needs, or None when not known yet/at all."""
    if len(buffer) < 2:
        return None
    fc = buffer[1]
    if fc in (READ_HOLDING, READ_INPUT, WRITE_SINGLE, 5, 1, 2):
        return 8
    if fc in (WRITE_MULTIPLE, 15):
        return 9 + buffer[6] if len(buffer) >= 7 else None
    return None


def parse_request(frame: bytes) -> Request:
    """A CRC-checked frame → Request (the caller has checked the CRC)."""
    address, fc = frame[0], frame[1]
    if fc in (READ_HOLDING, READ_INPUT):
        start, count = struct.unpack(">HH", frame[2:6])
        return Request(address, fc, start, count)
    if fc == WRITE_SINGLE:
        start, value = struct.unpack(">HH", frame[2:6])
        return Request(address, fc, start, 1, (value,))
    if fc == WRITE_MULTIPLE and len(frame) >= 9:
        start, count = struct.unpack(">HH", frame[2:6])
        raw = frame[7:7 + frame[6]]
        values = struct.unpack(f">{len(raw) // 2}H", raw[: len(raw) // 2 * 2])
        return Request(address, fc, start, count, tuple(values))
    return Request(address, fc)


def read_reply(address: int, function: int, registers: list[int]) -> bytes:
    body = struct.pack(">BBB", address, function, 2 * len(registers))
    body += struct.pack(f">{len(registers)}H", *registers)
    return with_crc(body)


def write_single_reply(address: int, register: int, value: int) -> bytes:
    return with_crc(struct.pack(">BBHH", address, WRITE_SINGLE, register, value))


def write_multiple_reply(address: int, start: int, count: int) -> bytes:
    return with_crc(struct.pack(">BBHH", address, WRITE_MULTIPLE, start, count))


def exception_reply(address: int, function: int, code: int) -> bytes:
    return with_crc(struct.pack(">BBB", address, (function | 0x80) & 0xFF, code))


def corrupt(frame: bytes) -> bytes:
    """The same frame with its CRC broken (what line noise does to a reply)."""
    return frame[:-2] + bytes([frame[-2] ^ 0x5A, frame[-1] ^ 0xA5])
