"""The Modbus RTU checksum, shared by the edge's master and the simulated slaves. Pure."""

from __future__ import annotations

import struct


def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_TABLE = _crc_table()


def crc16(data: bytes) -> int:
    """Modbus CRC-16 (polynomial 0xA001 reflected, initial 0xFFFF); sent low byte first."""
    crc = 0xFFFF
    table = _TABLE
    for b in data:
        crc = (crc >> 8) ^ table[(crc ^ b) & 0xFF]
    return crc


def with_crc(body: bytes) -> bytes:
    """`body` (address + PDU) with its CRC appended, as it goes on the wire."""
    return body + struct.pack("<H", crc16(body))


def crc_ok(frame: bytes) -> bool:
    """Whether a whole RTU frame's last two bytes are the CRC of the rest."""
    return len(frame) >= 4 and crc16(frame[:-2]) == struct.unpack("<H", frame[-2:])[0]
